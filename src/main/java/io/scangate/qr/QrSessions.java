package io.scangate.qr;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.util.Optional;

/** The typed face of the {@code scangate.qr} proxy: what callers on any verticle use. */
public final class QrSessions {

  private final QrSessionService service;

  public QrSessions(Vertx vertx) {
    this.service = QrSessionService.proxy(vertx);
  }

  public Future<QrSession> create(QrSession session) {
    return service.create(session.toStored()).map(QrSession::fromStored);
  }

  public Future<Optional<QrSession>> get(String sessionId) {
    return service.get(sessionId).map(QrSessions::session);
  }

  public Future<Optional<QrSession>> getByScene(String scene) {
    return service.getByScene(scene).map(QrSessions::session);
  }

  public Future<Optional<QrSession>> getByScanToken(String scanTokenHash) {
    return service.getByScanToken(scanTokenHash).map(QrSessions::session);
  }

  public Future<QrSession> scan(String sessionId, String openid, String unionid, String scanTokenHash) {
    return service.scan(sessionId, openid, unionid, scanTokenHash).map(QrSession::fromStored);
  }

  public Future<QrSession> confirm(String sessionId, String scanTokenHash, String userId, String ticket, String nickname,
                                   String avatarUrl) {
    return service.confirm(sessionId, scanTokenHash, userId, ticket, nickname, avatarUrl).map(QrSession::fromStored);
  }

  public Future<QrSession> confirmDirect(String sessionId, String openid, String unionid, String userId, String ticket,
                                         String nickname, String avatarUrl) {
    return service.confirmDirect(sessionId, openid, unionid, userId, ticket, nickname, avatarUrl).map(QrSession::fromStored);
  }

  public Future<QrSession> cancel(String sessionId, String scanTokenHash) {
    return service.cancel(sessionId, scanTokenHash).map(QrSession::fromStored);
  }

  public Future<QrSession> fail(String sessionId, String scanTokenHash, String error) {
    return service.fail(sessionId, scanTokenHash, error).map(QrSession::fromStored);
  }

  public Future<Optional<QrSessionStore.Grant>> peekTicket(String ticket) {
    return service.peekTicket(ticket).map(QrSessions::grant);
  }

  public Future<Optional<QrSessionStore.Grant>> consumeTicket(String ticket) {
    return service.consumeTicket(ticket).map(QrSessions::grant);
  }

  private static Optional<QrSession> session(JsonObject stored) {
    return stored == null ? Optional.empty() : Optional.of(QrSession.fromStored(stored));
  }

  private static Optional<QrSessionStore.Grant> grant(JsonObject json) {
    return json == null ? Optional.empty() : Optional.of(QrSessionStore.Grant.fromJson(json));
  }
}
