package io.scangate.http;

import io.scangate.error.ApiException;
import io.vertx.core.json.JsonObject;

/**
 * How one HTTP surface writes an {@link ApiException}. Each surface's router installs the failure
 * handler of its shape ({@link ErrorHandlers#failureHandler}).
 */
public enum ErrorShape {

  /** Our API: {@code {"error": code, "message": text}}. */
  API {
    @Override
    JsonObject body(ApiException e) {
      JsonObject body = new JsonObject().put("error", e.code()).put("message", e.getMessage());
      if (INVALID_TOKEN.equals(e.code())) body.put("error_description", e.getMessage());
      return body;
    }
  },

  /** RFC 6749 (under {@code /oidc}): {@code {"error", "error_description"}}, generic failures under the standard codes. */
  OAUTH {
    @Override
    JsonObject body(ApiException e) {
      JsonObject body = new JsonObject().put("error", oauthCode(e.code())).put("error_description", e.getMessage());
      if (INVALID_TOKEN.equals(e.code())) body.put("message", e.getMessage());
      return body;
    }
  },

  /**
   * The Authing-compatible surface (docs/migrating-from-authing.md): Authing's envelope
   * {@code {"code", "message", "data"}}, whose SDKs treat any {@code code} but 200 as a failure;
   * {@code code} is the HTTP status, and {@code error} our code from docs/errors.md.
   */
  AUTHING {
    @Override
    JsonObject body(ApiException e) {
      return new JsonObject().put("code", e.status()).put("message", e.getMessage()).put("error", e.code())
          .putNull("data");
    }
  },

  /**
   * The WeChat webhook (under {@code /connections}): WeChat's servers read only the status, so the
   * body is the bare error code as plain text ({@link #text}); no JSON, no message that could
   * carry request details back to whoever forged a push.
   */
  WECHAT {
    @Override
    JsonObject body(ApiException e) {
      return new JsonObject().put("error", e.code());
    }
  };

  /** The plain-text body of {@link #WECHAT}: the error code alone. */
  static String text(ApiException e) {
    return e.code();
  }

  /** RFC 6750 bearer-token errors are read by OAuth clients and by our API's clients alike: they carry both fields. */
  static final String INVALID_TOKEN = "invalid_token";

  abstract JsonObject body(ApiException e);

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
