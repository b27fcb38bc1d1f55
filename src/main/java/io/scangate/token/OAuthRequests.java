package io.scangate.token;

import io.scangate.error.ApiException;
import io.scangate.http.BasicAuth;
import io.scangate.http.JsonInput;

import io.scangate.config.ScanGateConfig;
import io.scangate.config.ScanGateConfig.Application;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.util.List;

/** Reading OAuth requests (form parameters, client authentication) and writing RFC 6749 errors. */
public final class OAuthRequests {

  private OAuthRequests() {}

  /** A form (or JSON) body parameter; a repeated one is an invalid_request (RFC 6749 3.1). */
  static String param(RoutingContext ctx, String name) {
    String type = ctx.request().getHeader("Content-Type");
    if (type != null && type.toLowerCase().startsWith("application/json")) {
      JsonObject body = JsonInput.body(ctx);
      return body.getValue(name) instanceof String s && !s.isEmpty() ? s : null;
    }
    List<String> values = ctx.request().formAttributes().getAll(name);
    if (values.size() > 1) throw new ApiException(400, "invalid_request", "parameter " + name + " is repeated");
    return values.isEmpty() || values.get(0).isEmpty() ? null : values.get(0);
  }

  static String required(RoutingContext ctx, String name) {
    String value = param(ctx, name);
    if (value == null) throw new ApiException(400, "invalid_request", "parameter " + name + " is required");
    return value;
  }

  /**
   * The application calling: HTTP Basic {@code appId:appSecret} or form {@code client_id} +
   * {@code client_secret}. An application with an {@code appSecret} is a confidential client and
   * must always authenticate (RFC 6749 2.1); a public one (no secret) may name itself with
   * {@code client_id} alone unless {@code secretRequired} (introspection).
   */
  static Application authenticateClient(RoutingContext ctx, ScanGateConfig config, boolean secretRequired) {
    String[] basic = basicCredentials(ctx);
    String formId = param(ctx, "client_id");
    String formSecret = param(ctx, "client_secret");
    if (basic != null && formSecret != null) {
      throw new ApiException(400, "invalid_request", "use one client authentication method, not both");
    }
    String id = basic != null ? basic[0] : formId;
    String secret = basic != null ? basic[1] : formSecret;
    if (basic != null && formId != null && !formId.equals(id)) {
      throw new ApiException(400, "invalid_request", "client_id does not match the authenticated client");
    }
    if (id == null) throw invalidClient("client authentication is required (HTTP Basic appId:appSecret)");
    Application app = config.application(id).orElse(null);
    if (secret == null) {
      if (secretRequired || app == null) throw invalidClient("client authentication is required (HTTP Basic appId:appSecret)");
      if (app.appSecret() != null) {
        throw invalidClient("application " + id + " is a confidential client: authenticate with its appSecret"
            + " (HTTP Basic or client_secret)");
      }
      return app;
    }
    if (app == null || !BasicAuth.secretMatches(app, secret)) {
      throw invalidClient("client authentication failed");
    }
    return app;
  }

  private static String[] basicCredentials(RoutingContext ctx) {
    try {
      return BasicAuth.of(ctx).map(c -> new String[] {c.id(), c.secret()}).orElse(null);
    } catch (IllegalArgumentException e) {
      throw invalidClient(e.getMessage());
    }
  }

  static ApiException invalidClient(String description) {
    return new ApiException(401, "invalid_client", description, java.util.Map.of("WWW-Authenticate", "Basic realm=\"scangate\""));
  }

  /**
   * The bearer token of the Authorization header, or null. Two Authorization headers are
   * 400 {@code invalid_request} (RFC 6750 3.1: a repeated parameter), never "the first one wins".
   */
  public static String bearer(RoutingContext ctx) {
    List<String> headers = ctx.request().headers().getAll("Authorization");
    if (headers.size() > 1) throw new ApiException(400, "invalid_request", "the Authorization header is given more than once");
    String header = headers.isEmpty() ? null : headers.get(0);
    if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) return null;
    String token = header.substring(7).trim();
    return token.isEmpty() ? null : token;
  }
}
