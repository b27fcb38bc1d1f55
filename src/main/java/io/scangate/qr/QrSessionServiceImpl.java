package io.scangate.qr;

import io.scangate.error.Failures;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.util.Optional;

/** {@link QrSessionService} on the QR-session verticle: the store, with sessions as their stored fields. */
final class QrSessionServiceImpl implements QrSessionService {

  private final QrSessionStore store;

  QrSessionServiceImpl(QrSessionStore store) {
    this.store = store;
  }

  @Override
  public Future<JsonObject> create(JsonObject session) {
    return Failures.forBus(store.create(QrSession.fromStored(session)).map(QrSession::toStored));
  }

  @Override
  public Future<JsonObject> get(String sessionId) {
    return Failures.forBus(store.get(sessionId).map(QrSessionServiceImpl::storedOrNull));
  }

  @Override
  public Future<JsonObject> getByScene(String scene) {
    return Failures.forBus(store.getByScene(scene).map(QrSessionServiceImpl::storedOrNull));
  }

  @Override
  public Future<JsonObject> getByScanToken(String scanTokenHash) {
    return Failures.forBus(store.getByScanToken(scanTokenHash).map(QrSessionServiceImpl::storedOrNull));
  }

  @Override
  public Future<JsonObject> scan(String sessionId, String openid, String unionid, String scanTokenHash) {
    return Failures.forBus(store.scan(sessionId, openid, unionid, scanTokenHash, null, null).map(QrSession::toStored));
  }

  @Override
  public Future<JsonObject> confirm(String sessionId, String scanTokenHash, String userId, String ticket, String nickname,
                                    String avatarUrl) {
    return Failures.forBus(store.confirm(sessionId, scanTokenHash, userId, ticket, nickname, avatarUrl).map(QrSession::toStored));
  }

  @Override
  public Future<JsonObject> confirmDirect(String sessionId, String openid, String unionid, String userId, String ticket,
                                          String nickname, String avatarUrl) {
    return Failures.forBus(store.confirmDirect(sessionId, openid, unionid, userId, ticket, nickname, avatarUrl)
        .map(QrSession::toStored));
  }

  @Override
  public Future<JsonObject> cancel(String sessionId, String scanTokenHash) {
    return Failures.forBus(store.cancel(sessionId, scanTokenHash).map(QrSession::toStored));
  }

  @Override
  public Future<JsonObject> fail(String sessionId, String scanTokenHash, String error) {
    return Failures.forBus(store.fail(sessionId, scanTokenHash, error).map(QrSession::toStored));
  }

  @Override
  public Future<JsonObject> peekTicket(String ticket) {
    return Failures.forBus(store.peekTicket(ticket).map(g -> g.map(QrSessionStore.Grant::toJson).orElse(null)));
  }

  @Override
  public Future<JsonObject> consumeTicket(String ticket) {
    return Failures.forBus(store.consumeTicket(ticket).map(g -> g.map(QrSessionStore.Grant::toJson).orElse(null)));
  }

  private static JsonObject storedOrNull(Optional<QrSession> session) {
    return session.map(QrSession::toStored).orElse(null);
  }
}
