package io.scangate.token;

import io.scangate.http.ApiException;
import io.vertx.core.Future;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;

/**
 * How other verticles get tokens: a request on {@value #ISSUE_ADDRESS}, answered by the
 * {@link TokenVerticle} with {@code {"access_token","id_token","refresh_token","token_type","expires_in"}}.
 * A refusal comes back as a {@link ReplyException} whose failure code is an HTTP status and whose
 * message is {@code "error_code: human message"}; {@link #issue} turns it into an {@link ApiException}.
 */
public final class Tokens {

  public static final String ISSUE_ADDRESS = "scangate.token.issue";

  private Tokens() {}

  public static Future<JsonObject> issue(EventBus bus, String userId, String appId, String nonce) {
    return issue(bus, userId, appId, nonce, null);
  }

  public static Future<JsonObject> issue(EventBus bus, String userId, String appId, String nonce, String scope) {
    JsonObject request = new JsonObject().put("userId", userId).put("appId", appId);
    if (nonce != null) request.put("nonce", nonce);
    if (scope != null) request.put("scope", scope);
    return bus.<JsonObject>request(ISSUE_ADDRESS, request)
        .map(reply -> reply.body())
        .recover(e -> Future.failedFuture(toApiException(e)));
  }

  static Throwable toApiException(Throwable e) {
    if (!(e instanceof ReplyException reply) || reply.failureType() != ReplyFailure.RECIPIENT_FAILURE) return e;
    String message = reply.getMessage() == null ? "" : reply.getMessage();
    int colon = message.indexOf(": ");
    int status = reply.failureCode() >= 400 && reply.failureCode() < 600 ? reply.failureCode() : 500;
    return colon > 0
        ? new ApiException(status, message.substring(0, colon), message.substring(colon + 2))
        : new ApiException(status, "internal_error", message);
  }
}
