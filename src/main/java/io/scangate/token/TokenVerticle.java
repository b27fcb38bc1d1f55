package io.scangate.token;

import io.scangate.error.Failures;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.vertx.serviceproxy.ServiceBinder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The token verticle: serves {@link TokenService} on {@value TokenService#ADDRESS}, and keeps this
 * instance's key view and revocation subscription alive. Deployed before the HTTP verticles: its
 * start creates the first signing key if PostgreSQL has none.
 */
public final class TokenVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(TokenVerticle.class);

  private final TokenManager tokens;
  private MessageConsumer<JsonObject> consumer;

  public TokenVerticle(TokenManager tokens) {
    this.tokens = tokens;
  }

  @Override
  public Future<?> start() {
    return tokens.start().compose(v -> {
      vertx.setPeriodic(KeyRing.REFRESH_INTERVAL_MS, id -> tokens.reloadKeys()
          .onFailure(e -> log.atWarn().addKeyValue("cause", e.getMessage()).log("signing key reload failed")));
      consumer = new ServiceBinder(vertx).setAddress(TokenService.ADDRESS).register(TokenService.class, new OnBus(tokens));
      return consumer.completion();
    });
  }

  @Override
  public Future<?> stop() {
    Future<Void> unregistered = consumer == null ? Future.succeededFuture() : consumer.unregister();
    return unregistered.eventually(tokens::close);
  }

  /** The manager's answers as the bus should carry them: refusals as they are, outages 503, bugs logged and 500. */
  private record OnBus(TokenService tokens) implements TokenService {
    @Override
    public Future<JsonObject> issue(String userId, String appId, String nonce, String scope) {
      return Failures.forBus(tokens.issue(userId, appId, nonce, scope));
    }

    @Override
    public Future<JsonObject> refresh(String refreshToken, String appId, String clientIp) {
      return Failures.forBus(tokens.refresh(refreshToken, appId, clientIp));
    }

    @Override
    public Future<Void> revoke(String token, String appId, String clientIp) {
      return Failures.forBus(tokens.revoke(token, appId, clientIp));
    }

    @Override
    public Future<JsonObject> introspect(String token, String appId) {
      return Failures.forBus(tokens.introspect(token, appId));
    }

    @Override
    public Future<String> saveAuthorizationRequest(JsonObject request) {
      return Failures.forBus(tokens.saveAuthorizationRequest(request));
    }

    @Override
    public Future<JsonObject> authorizationRequest(String requestId) {
      return Failures.forBus(tokens.authorizationRequest(requestId));
    }

    @Override
    public Future<JsonObject> issueAuthorizationCode(String requestId, String userId, long authTime) {
      return Failures.forBus(tokens.issueAuthorizationCode(requestId, userId, authTime));
    }

    @Override
    public Future<JsonObject> redeemAuthorizationCode(String code, String appId, String redirectUri, String codeVerifier,
                                                      String clientIp) {
      return Failures.forBus(tokens.redeemAuthorizationCode(code, appId, redirectUri, codeVerifier, clientIp));
    }
  }
}
