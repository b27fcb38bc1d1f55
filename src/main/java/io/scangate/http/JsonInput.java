package io.scangate.http;

import io.scangate.error.ApiException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.util.List;
import java.util.Locale;

/**
 * Reading and checking request input (JSON bodies, query parameters), with 400 errors that name the problem.
 * Strings read here carry no control characters (C0, DEL, C1): PostgreSQL refuses NUL, and none of
 * our identifiers, codes or tokens ever contains one.
 */
public final class JsonInput {

  private JsonInput() {}

  /**
   * The JSON object body. A body declared as anything but JSON ({@code application/json},
   * {@code application/*+json}) is 415 {@code unsupported_media_type}: forms, multipart and text
   * are not read as JSON. A body without a Content-Type is taken as JSON.
   */
  public static JsonObject body(RoutingContext ctx) {
    requireJsonContentType(ctx);
    JsonObject body;
    try {
      body = ctx.body().asJsonObject();
    } catch (RuntimeException e) {
      throw ApiException.badRequest("invalid_json", "The request body must be a JSON object");
    }
    if (body == null) throw ApiException.badRequest("invalid_request", "A JSON body is required");
    return body;
  }

  static void requireJsonContentType(RoutingContext ctx) {
    List<String> types = ctx.request().headers().getAll("Content-Type");
    if (types.isEmpty()) return;
    if (types.size() > 1) throw ApiException.badRequest("invalid_request", "Content-Type is repeated");
    if (!isJson(types.get(0))) {
      throw new ApiException(415, "unsupported_media_type", "The body must be JSON (Content-Type: application/json), not "
          + shown(types.get(0)));
    }
  }

  /** {@code application/json} or {@code application/<anything>+json}, with any parameters (charset). */
  static boolean isJson(String contentType) {
    int semicolon = contentType.indexOf(';');
    String type = (semicolon < 0 ? contentType : contentType.substring(0, semicolon)).strip().toLowerCase(Locale.ROOT);
    return type.equals("application/json") || (type.startsWith("application/") && type.endsWith("+json")
        && type.indexOf('/', "application/".length()) < 0 && type.length() > "application/+json".length());
  }

  public static String requiredString(JsonObject body, String field) {
    Object value = body.getValue(field);
    if (!(value instanceof String s) || s.isBlank()) {
      throw ApiException.badRequest("invalid_request", "\"" + field + "\" is required and must be a string");
    }
    if (s.length() > 512) throw ApiException.badRequest("invalid_request", "\"" + field + "\" is too long");
    requireNoControls(field, s);
    return s;
  }

  public static String optionalString(JsonObject body, String field, int maxLength) {
    String s = optionalText(body, field, maxLength);
    if (s != null) requireNoControls(field, s);
    return s;
  }

  /**
   * Like {@link #optionalString}, but the value's characters are left to the caller's own
   * validation (a profile's nickname and avatar: {@code io.scangate.login.Profile} answers
   * {@code invalid_profile}).
   */
  public static String optionalText(JsonObject body, String field, int maxLength) {
    Object value = body.getValue(field);
    if (value == null) return null;
    if (!(value instanceof String s)) throw ApiException.badRequest("invalid_request", "\"" + field + "\" must be a string");
    if (s.length() > maxLength) throw ApiException.badRequest("invalid_request", "\"" + field + "\" is too long");
    return s.isEmpty() ? null : s;
  }

  private static void requireNoControls(String field, String s) {
    if (hasControl(s)) throw ApiException.badRequest("invalid_request", "\"" + field + "\" must not contain control characters");
  }

  /** Whether {@code s} holds a control character (C0 including NUL, tab and newlines; DEL; C1). */
  public static boolean hasControl(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (Character.isISOControl(s.charAt(i))) return true;
    }
    return false;
  }

  /** The one value of a query parameter, or null; given more than once → 400 {@code invalid_request}. */
  public static String queryParam(RoutingContext ctx, String name) {
    List<String> values = ctx.queryParams().getAll(name);
    if (values.size() > 1) throw ApiException.badRequest("invalid_request", name + " is given more than once");
    return values.isEmpty() ? null : values.get(0);
  }

  public static int intParam(RoutingContext ctx, String name, int defaultValue, int min, int max) {
    String raw = queryParam(ctx, name);
    if (raw == null || raw.isEmpty()) return defaultValue;
    try {
      int value = Integer.parseInt(raw);
      if (value >= min && value <= max) return value;
    } catch (NumberFormatException ignored) {
      // reported below
    }
    throw ApiException.badRequest("invalid_request", name + " must be a whole number from " + min + " to " + max);
  }

  private static String shown(String value) {
    String cut = value.length() > 80 ? value.substring(0, 80) + "…" : value;
    StringBuilder out = new StringBuilder(cut.length());
    cut.codePoints().forEach(c -> out.appendCodePoint(Character.isISOControl(c) ? '?' : c));
    return out.toString();
  }
}
