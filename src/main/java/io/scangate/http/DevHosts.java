package io.scangate.http;

import io.scangate.error.ApiException;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

import java.net.URI;
import java.util.Locale;
import java.util.Set;
import java.util.function.IntSupplier;

/**
 * start-dev's guard against DNS rebinding: a page on {@code evil.example} whose name resolves
 * to 127.0.0.1 would otherwise reach the developer's gateway, and its sandbox forges logins. So
 * start-dev answers only requests whose {@code Host} is a loopback address on its own port, or
 * {@code server.publicUrl}'s host; and the sandbox's endpoints refuse cross-origin callers.
 */
public final class DevHosts {

  private static final Set<String> LOOPBACK = Set.of("127.0.0.1", "localhost", "[::1]");

  private final URI publicUrl;
  private final IntSupplier actualPort;

  public DevHosts(String publicUrl, IntSupplier actualPort) {
    this.publicUrl = URI.create(publicUrl);
    this.actualPort = actualPort;
  }

  /** First handler after the request log: 403 {@code host_not_allowed} for any other Host. */
  public Handler<RoutingContext> hostCheck() {
    return ctx -> {
      // authority(): the Host header in HTTP/1.1, :authority in HTTP/2 (h2c upgrades have no Host).
      var authority = ctx.request().authority();
      if (authority != null && isOwn(authority.toString())) {
        ctx.next();
      } else {
        ctx.fail(new ApiException(403, "host_not_allowed",
            "start-dev answers only 127.0.0.1, localhost and [::1] on its port, and server.publicUrl's host"));
      }
    };
  }

  /** For the sandbox: a browser call from another origin (a page of another site) → 403 {@code origin_not_allowed}. */
  public static Handler<RoutingContext> sameOriginOnly() {
    return ctx -> {
      String origin = ctx.request().getHeader("Origin");
      String host = ctx.request().authority() == null ? null : ctx.request().authority().toString();
      if (origin == null || host == null || origin.equalsIgnoreCase("http://" + host) || origin.equalsIgnoreCase("https://" + host)) {
        ctx.next();
      } else {
        ctx.fail(new ApiException(403, "origin_not_allowed", "The sandbox answers only its own pages and servers, not " + origin));
      }
    };
  }

  boolean isOwn(String hostHeader) {
    if (hostHeader == null || hostHeader.isBlank()) return false;
    String host;
    int port;
    String h = hostHeader.trim().toLowerCase(Locale.ROOT);
    int colon = h.startsWith("[") ? h.indexOf(':', Math.max(0, h.indexOf(']'))) : h.lastIndexOf(':');
    try {
      host = colon < 0 ? h : h.substring(0, colon);
      port = colon < 0 ? 80 : Integer.parseInt(h.substring(colon + 1));
    } catch (NumberFormatException e) {
      return false;
    }
    if (LOOPBACK.contains(host) && port == actualPort.getAsInt()) return true;
    int publicPort = publicUrl.getPort() >= 0 ? publicUrl.getPort() : "https".equals(publicUrl.getScheme()) ? 443 : 80;
    return publicUrl.getHost() != null && host.equals(publicUrl.getHost().toLowerCase(Locale.ROOT)) && port == publicPort;
  }
}
