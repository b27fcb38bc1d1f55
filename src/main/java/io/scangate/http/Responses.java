package io.scangate.http;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** JSON answers in the shape of CONTRACT's conventions (errors: {@link ErrorHandlers}). */
public final class Responses {

  private Responses() {}

  public static Future<Void> json(RoutingContext ctx, int status, Object body) {
    return ctx.response()
        .setStatusCode(status)
        .putHeader("Content-Type", "application/json; charset=utf-8")
        .putHeader("Cache-Control", "no-store")
        .end(body instanceof JsonObject o ? o.encode() : io.vertx.core.json.Json.encode(body));
  }
}
