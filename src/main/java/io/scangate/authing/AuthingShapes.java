package io.scangate.authing;

import io.scangate.error.ApiException;
import io.scangate.http.Responses;
import io.scangate.util.Times;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.util.List;

/** What Authing's SDKs read: the success envelope, the application header, the user object and QR status numbers. */
final class AuthingShapes {

  /** The header every Authing SDK request carries with the application's id. */
  static final String APP_ID_HEADER = "x-authing-app-id";

  /** Headers Authing's SDKs send (authing-js-sdk 4.x HttpClient, authing-wxapp-sdk): browsers must be allowed to send them. */
  static final List<String> SDK_HEADERS = List.of("x-authing-app-id", "x-authing-userpool-id", "x-authing-request-from",
      "x-authing-sdk-version", "x-authing-app-tenant-id", "x-authing-lang");

  private AuthingShapes() {}

  /** Authing's success envelope: the SDKs return {@code data} when {@code code} is 200. */
  static void ok(RoutingContext ctx, Object data) {
    Responses.json(ctx, 200, new JsonObject().put("code", 200).put("message", "").put("data", data));
  }

  /** The application the SDK was created for; every call names it. */
  static String appId(RoutingContext ctx) {
    List<String> given = ctx.request().headers().getAll(APP_ID_HEADER);
    if (given.size() > 1) throw ApiException.badRequest("invalid_request", APP_ID_HEADER + " is given more than once");
    if (given.isEmpty() || given.get(0).isBlank()) {
      throw ApiException.badRequest("invalid_request", "The " + APP_ID_HEADER + " header is required (the SDK's appId)");
    }
    String appId = given.get(0);
    if (appId.length() > 64 || io.scangate.http.JsonInput.hasControl(appId)) {
      throw ApiException.badRequest("invalid_request", APP_ID_HEADER + " is malformed");
    }
    return appId;
  }

  /**
   * Authing's status numbers for our session statuses: 0 not scanned, 1 scanned, 2 authorized,
   * 3 canceled, -1 expired, 5 failed.
   */
  static int status(String status) {
    return switch (status) {
      case "PENDING" -> 0;
      case "SCANNED" -> 1;
      case "CONFIRMED" -> 2;
      case "CANCELED" -> 3;
      case "EXPIRED" -> -1;
      case "FAILED" -> 5;
      default -> throw new IllegalArgumentException("unknown QR session status " + status);
    };
  }

  /**
   * What {@code /api/v2/qrcode/check} answers for a session's state: the status number, the
   * scanner's nickname and picture ({@code userInfo}, always an object: the SDK reads its fields on
   * every scan), the one-time ticket once authorized and the error once failed. Never tokens or
   * the profile.
   */
  static JsonObject check(JsonObject state) {
    JsonObject by = state.getJsonObject("scannedBy", new JsonObject());
    JsonObject userInfo = new JsonObject();
    if (by.getString("nickname") != null) userInfo.put("nickname", by.getString("nickname"));
    if (by.getString("avatarUrl") != null) userInfo.put("photo", by.getString("avatarUrl"));
    JsonObject data = new JsonObject().put("status", status(state.getString("status"))).put("userInfo", userInfo);
    if (state.getString("ticket") != null) data.put("ticket", state.getString("ticket"));
    if (state.getString("error") != null) {
      // The SDK hands scannedResult.errmsg to onError.
      data.put("scannedResult", new JsonObject().put("code", 403).put("errmsg", state.getString("error")));
    }
    return data;
  }

  /**
   * Authing's user object for a login's {@code {user, tokens}}: {@code token} is the id token (as
   * Authing's is) and {@code accessToken} the access token (CONTRACT section 10); the refresh token
   * is not handed to the page, as Authing's user object has none.
   */
  static JsonObject user(JsonObject login, String userPoolId) {
    JsonObject user = login.getJsonObject("user");
    JsonObject tokens = login.getJsonObject("tokens");
    JsonArray identities = user.getJsonArray("identities", new JsonArray());
    String openid = identities.isEmpty() ? null : identities.getJsonObject(0).getString("openid");
    long expiresIn = tokens.getLong("expires_in", 0L);
    return new JsonObject()
        .put("id", user.getString("id"))
        .put("userPoolId", userPoolId)
        .put("nickname", user.getString("nickname"))
        .put("photo", user.getString("avatarUrl"))
        .put("phone", user.getString("phone"))
        .put("phoneVerified", user.getString("phone") != null)
        .put("unionid", user.getString("unionid"))
        .put("openid", openid)
        .put("identities", identities)
        .put("createdAt", user.getString("createdAt"))
        .put("lastLogin", user.getString("lastLoginAt"))
        .put("token", tokens.getString("id_token"))
        .put("tokenExpiredAt", Times.iso(System.currentTimeMillis() + expiresIn * 1000))
        .put("accessToken", tokens.getString("access_token"));
  }
}
