package io.scangate.http;

import io.scangate.config.ScanGateConfig.Application;
import io.vertx.ext.web.RoutingContext;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.Optional;

/** HTTP Basic client credentials ({@code appId:appSecret}), compared in constant time. */
public final class BasicAuth {

  public record Credentials(String id, String secret) {
    @Override
    public String toString() {
      return "Credentials[id=" + id + ", secret=***]";
    }
  }

  private BasicAuth() {}

  /** The Basic credentials of the request, if it has an {@code Authorization: Basic} header. */
  public static Optional<Credentials> of(RoutingContext ctx) {
    String header = ctx.request().getHeader("Authorization");
    if (header == null || !header.regionMatches(true, 0, "Basic ", 0, 6)) return Optional.empty();
    String decoded;
    try {
      decoded = new String(Base64.getDecoder().decode(header.substring(6).trim()), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("malformed HTTP Basic credentials");
    }
    int colon = decoded.indexOf(':');
    if (colon < 0) throw new IllegalArgumentException("malformed HTTP Basic credentials");
    // RFC 6749 2.3.1: both parts are form-urlencoded before Basic encoding.
    return Optional.of(new Credentials(URLDecoder.decode(decoded.substring(0, colon), StandardCharsets.UTF_8),
        URLDecoder.decode(decoded.substring(colon + 1), StandardCharsets.UTF_8)));
  }

  public static boolean secretMatches(Application app, String secret) {
    return app.appSecret() != null && secret != null
        && MessageDigest.isEqual(app.appSecret().getBytes(StandardCharsets.UTF_8), secret.getBytes(StandardCharsets.UTF_8));
  }
}
