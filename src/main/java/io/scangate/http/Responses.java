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

  public static Future<Void> error(RoutingContext ctx, int status, String code, String message) {
    return json(ctx, status, new JsonObject().put("error", code).put("message", message));
  }
}
