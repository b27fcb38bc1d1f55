package io.scangate.token;

import io.scangate.http.ApiException;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Issues tokens for the other verticles over the event bus ({@link Tokens#ISSUE_ADDRESS}), and
 * keeps this instance's key view and revocation subscription alive. Deployed before the HTTP
 * verticles: its start creates the first signing key if PostgreSQL has none.
 */
public final class TokenVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(TokenVerticle.class);

  private final TokenService service;
  private MessageConsumer<JsonObject> consumer;

  public TokenVerticle(TokenService service) {
    this.service = service;
  }

  @Override
  public Future<?> start() {
    return service.start().compose(v -> {
      vertx.setPeriodic(KeyRing.REFRESH_INTERVAL_MS, id -> service.reloadKeys()
          .onFailure(e -> log.atWarn().addKeyValue("cause", e.getMessage()).log("signing key reload failed")));
      consumer = vertx.eventBus().consumer(Tokens.ISSUE_ADDRESS, this::issue);
      return consumer.completion();
    });
  }

  @Override
  public Future<?> stop() {
    Future<Void> unregistered = consumer == null ? Future.succeededFuture() : consumer.unregister();
    return unregistered.eventually(service::close);
  }

  private void issue(Message<JsonObject> message) {
    JsonObject body = message.body();
    String userId = body == null ? null : stringOrNull(body, "userId");
    String appId = body == null ? null : stringOrNull(body, "appId");
    if (userId == null || appId == null) {
      message.fail(400, "invalid_request: userId and appId are required strings");
      return;
    }
    service.issue(userId, appId, stringOrNull(body, "nonce"), stringOrNull(body, "scope"))
        .onSuccess(message::reply)
        .onFailure(e -> {
          if (e instanceof ApiException api) {
            message.fail(api.status(), api.code() + ": " + api.getMessage());
          } else {
            log.atError().setCause(e).log("issuing tokens failed");
            message.fail(500, "internal_error: issuing tokens failed");
          }
        });
  }

  private static String stringOrNull(JsonObject body, String name) {
    return body.getValue(name) instanceof String s && !s.isEmpty() ? s : null;
  }
}
