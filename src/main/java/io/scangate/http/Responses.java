package io.scangate.http;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** JSON answers and errors in the shape of CONTRACT's conventions. */
public final class Responses {

  private Responses() {}

  public static Future<Void> json(RoutingContext ctx, int status, Object body) {
    return ctx.response()
        .setStatusCode(status)
        .putHeader("Content-Type", "application/json; charset=utf-8")
        .putHeader("Cache-Control", "no-store")
        .end(body instanceof JsonObject o ? o.encode() : io.vertx.core.json.Json.encode(body));
  }

  /**
   * Our API's error shape; under {@code /oidc/} the OAuth shape of RFC 6749 instead
   * ({@code error_description}, and the standard codes for generic failures).
   */
  public static Future<Void> error(RoutingContext ctx, int status, String code, String message) {
    if (ctx.request().path() != null && ctx.request().path().startsWith("/oidc/")) {
      return json(ctx, status, new JsonObject().put("error", oauthCode(code)).put("error_description", message));
    }
    return json(ctx, status, new JsonObject().put("error", code).put("message", message));
  }

  private static String oauthCode(String code) {
    return switch (code) {
      case "bad_request", "invalid_json", "method_not_allowed", "body_too_large", "unsupported_media_type", "not_found" ->
          "invalid_request";
      case "internal_error" -> "server_error";
      case "service_unavailable" -> "temporarily_unavailable";
      default -> code;
    };
  }
}
