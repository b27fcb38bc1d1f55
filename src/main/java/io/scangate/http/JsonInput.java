package io.scangate.http;

import io.scangate.error.ApiException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** Reading and checking request input (JSON bodies, query parameters), with 400 errors that name the problem. */
public final class JsonInput {

  private JsonInput() {}

  public static JsonObject body(RoutingContext ctx) {
    JsonObject body;
    try {
      body = ctx.body().asJsonObject();
    } catch (RuntimeException e) {
      throw ApiException.badRequest("invalid_json", "The request body must be a JSON object");
    }
    if (body == null) throw ApiException.badRequest("invalid_request", "A JSON body is required");
    return body;
  }

  public static String requiredString(JsonObject body, String field) {
    Object value = body.getValue(field);
    if (!(value instanceof String s) || s.isBlank()) {
      throw ApiException.badRequest("invalid_request", "\"" + field + "\" is required and must be a string");
    }
    if (s.length() > 512) throw ApiException.badRequest("invalid_request", "\"" + field + "\" is too long");
    return s;
  }

  public static String optionalString(JsonObject body, String field, int maxLength) {
    Object value = body.getValue(field);
    if (value == null) return null;
    if (!(value instanceof String s)) throw ApiException.badRequest("invalid_request", "\"" + field + "\" must be a string");
    if (s.length() > maxLength) throw ApiException.badRequest("invalid_request", "\"" + field + "\" is too long");
    return s.isEmpty() ? null : s;
  }

  public static int intParam(RoutingContext ctx, String name, int defaultValue, int min, int max) {
    String raw = ctx.queryParams().get(name);
    if (raw == null || raw.isEmpty()) return defaultValue;
    try {
      int value = Integer.parseInt(raw);
      if (value >= min && value <= max) return value;
    } catch (NumberFormatException ignored) {
      // reported below
    }
    throw ApiException.badRequest("invalid_request", name + " must be a whole number from " + min + " to " + max);
  }

}
