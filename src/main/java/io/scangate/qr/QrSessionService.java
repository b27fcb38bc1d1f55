package io.scangate.qr;

import io.vertx.codegen.annotations.Nullable;
import io.vertx.codegen.annotations.ProxyGen;
import io.vertx.codegen.annotations.VertxGen;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.serviceproxy.ServiceProxyBuilder;

/**
 * The QR-session verticle's capability on the event bus ({@value #ADDRESS}): QR login sessions
 * and their one-time tickets in Redis, every change applied atomically by the Lua state machine
 * and published to every instance. A session travels as its stored fields
 * ({@link QrSession#toStored()}); {@link QrSessions} is the typed face of this proxy. Refusals are
 * {@link io.scangate.error.ApiException}s (session_not_found, already_scanned, ...).
 */
@ProxyGen
@VertxGen
public interface QrSessionService {

  String ADDRESS = "scangate.qr";

  static QrSessionService proxy(Vertx vertx) {
    return new ServiceProxyBuilder(vertx).setAddress(ADDRESS).build(QrSessionService.class);
  }

  /** Stores a new PENDING session; {@code session} holds its stored fields. */
  Future<JsonObject> create(JsonObject session);

  /** The session, or null when it never existed or is gone. */
  Future<@Nullable JsonObject> get(String sessionId);

  Future<@Nullable JsonObject> getByScene(String scene);

  /** The session whose current scan token has this hash (a later scan replaces it), or null. */
  Future<@Nullable JsonObject> getByScanToken(String scanTokenHash);

  Future<JsonObject> scan(String sessionId, String openid, @Nullable String unionid, String scanTokenHash);

  Future<JsonObject> confirm(String sessionId, String scanTokenHash, String userId, String ticket,
                             @Nullable String nickname, @Nullable String avatarUrl);

  Future<JsonObject> confirmDirect(String sessionId, String openid, @Nullable String unionid, String userId, String ticket,
                                   @Nullable String nickname, @Nullable String avatarUrl);

  Future<JsonObject> cancel(String sessionId, String scanTokenHash);

  Future<JsonObject> fail(String sessionId, @Nullable String scanTokenHash, String error);

  /** What a ticket grants ({@code {sessionId, userId, appId, connection}}), without using it up; null if unknown. */
  Future<@Nullable JsonObject> peekTicket(String ticket);

  /** Uses a ticket up: exactly one caller ever gets its grant; null if unknown, expired or used. */
  Future<@Nullable JsonObject> consumeTicket(String ticket);
}
