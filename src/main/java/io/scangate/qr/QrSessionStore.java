package io.scangate.qr;

import io.scangate.config.ScanGateConfig;
import io.scangate.error.ApiException;
import io.scangate.redis.RedisKeys;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * QR sessions in Redis: a hash per session ({@code qr:session:<sessionId>}), a scene index
 * ({@code qr:scene:<scene>} → sessionId), an expiry index (sorted set by expiresAt), and one-time
 * tickets ({@code qr:ticket:<ticket>} → grant JSON), and a scan-token index
 * ({@code qr:scantoken:<hash>} → sessionId, for calls that carry only a scan token). All state changes go through
 * {@link QrScripts#TRANSITION}, which also publishes them on {@link #channel()}.
 */
public final class QrSessionStore {

  /** What a confirmed session grants, held under its ticket until exchanged. */
  public record Grant(String sessionId, String userId, String appId, String connection) {
    public JsonObject toJson() {
      return new JsonObject().put("sessionId", sessionId).put("userId", userId).put("appId", appId).put("connection", connection);
    }

    public static Grant fromJson(JsonObject g) {
      return new Grant(g.getString("sessionId"), g.getString("userId"), g.getString("appId"), g.getString("connection"));
    }
  }

  private final Redis redis;
  private final RedisKeys keys;
  private final ScanGateConfig.Qr settings;

  public QrSessionStore(Redis redis, RedisKeys keys, ScanGateConfig.Qr settings) {
    this.redis = redis;
    this.keys = keys;
    this.settings = settings;
  }

  public String channel() {
    return keys.channel("qr");
  }

  String sessionKey(String sessionId) {
    return keys.key("qr", "session", sessionId);
  }

  String sceneKey(String scene) {
    return keys.key("qr", "scene", scene);
  }

  String ticketKey(String ticket) {
    return keys.key("qr", "ticket", ticket);
  }

  String scanTokenKey(String scanTokenHash) {
    return keys.key("qr", "scantoken", scanTokenHash);
  }

  String expiriesKey() {
    return keys.key("qr", "expiries");
  }

  /** Stores a new PENDING session; it lives for sessionTtl, then stays readable for qr.retention. */
  public Future<QrSession> create(QrSession s) {
    long lifeSeconds = Duration.ofMillis(s.expiresAt() - System.currentTimeMillis()).plus(settings.retention()).toSeconds() + 1;
    Request hset = Request.cmd(Command.HSET).arg(sessionKey(s.sessionId()));
    Map<String, String> fields = new HashMap<>();
    fields.put("sessionId", s.sessionId());
    fields.put("status", s.status().name());
    fields.put("appId", s.appId());
    fields.put("connection", s.connection());
    fields.put("scene", s.scene());
    fields.put("sceneKey", sceneKey(s.scene()));
    fields.put("qrContent", s.qrContent());
    fields.put("createdAt", Long.toString(s.createdAt()));
    fields.put("expiresAt", Long.toString(s.expiresAt()));
    fields.put("ip", s.ip() == null ? "" : s.ip());
    fields.put("userAgent", s.userAgent() == null ? "" : s.userAgent());
    fields.put("version", "1");
    fields.forEach((k, v) -> hset.arg(k).arg(v));
    return redis.batch(List.of(
            Request.cmd(Command.MULTI),
            hset,
            Request.cmd(Command.EXPIRE).arg(sessionKey(s.sessionId())).arg(lifeSeconds),
            Request.cmd(Command.SET).arg(sceneKey(s.scene())).arg(s.sessionId()).arg("EX").arg(lifeSeconds),
            Request.cmd(Command.ZADD).arg(expiriesKey()).arg(s.expiresAt()).arg(s.sessionId()),
            Request.cmd(Command.EXEC)))
        .map(done -> s);
  }

  public Future<Optional<QrSession>> get(String sessionId) {
    return redis.send(Request.cmd(Command.HGETALL).arg(sessionKey(sessionId)))
        .map(QrSessionStore::toSession);
  }

  public Future<Optional<QrSession>> getByScene(String scene) {
    return redis.send(Request.cmd(Command.GET).arg(sceneKey(scene)))
        .compose(id -> id == null ? Future.succeededFuture(Optional.empty()) : get(id.toString()));
  }

  public Future<QrSession> scan(String sessionId, String openid, String unionid, String scanTokenHash,
                                String nickname, String avatarUrl) {
    // The index is only a way to find the session: every use still checks the session's own
    // scanTokenHash and status, so an index entry left by an earlier scan grants nothing.
    return transition(sessionId, "scan", null, openid, nz(unionid), scanTokenHash, nz(nickname), nz(avatarUrl))
        .compose(scanned -> {
          long lifeSeconds = Duration.ofMillis(scanned.expiresAt() - System.currentTimeMillis()).plus(settings.retention()).toSeconds() + 1;
          return redis.send(Request.cmd(Command.SET).arg(scanTokenKey(scanTokenHash)).arg(sessionId).arg("EX").arg(Math.max(1, lifeSeconds)))
              .map(scanned);
        });
  }

  /** The session a scan token (by its hash) was issued for, if it is still kept. */
  public Future<Optional<QrSession>> getByScanToken(String scanTokenHash) {
    return redis.send(Request.cmd(Command.GET).arg(scanTokenKey(scanTokenHash)))
        .compose(id -> id == null ? Future.succeededFuture(Optional.<QrSession>empty()) : get(id.toString()))
        .map(found -> found.filter(s -> scanTokenHash.equals(s.scanTokenHash())));
  }

  public Future<QrSession> confirm(String sessionId, String scanTokenHash, String userId, String ticket,
                                   String nickname, String avatarUrl) {
    return transition(sessionId, "confirm", ticket, scanTokenHash, userId, ticket,
        Long.toString(settings.ticketTtl().toSeconds()), nz(nickname), nz(avatarUrl));
  }

  public Future<QrSession> confirmDirect(String sessionId, String openid, String unionid, String userId, String ticket,
                                         String nickname, String avatarUrl) {
    return transition(sessionId, "confirm_direct", ticket, openid, nz(unionid), userId, ticket,
        Long.toString(settings.ticketTtl().toSeconds()), nz(nickname), nz(avatarUrl));
  }

  public Future<QrSession> cancel(String sessionId, String scanTokenHash) {
    return transition(sessionId, "cancel", null, scanTokenHash);
  }

  public Future<QrSession> fail(String sessionId, String scanTokenHash, String error) {
    return transition(sessionId, "fail", null, nz(scanTokenHash), error);
  }

  /** Expires due sessions, publishing each; returns how many. */
  public Future<Integer> sweep() {
    return redis.send(Request.cmd(Command.EVAL).arg(QrScripts.SWEEP).arg(1).arg(expiriesKey())
            .arg(System.currentTimeMillis()).arg(channel()).arg(settings.retention().toSeconds())
            .arg(keys.key("qr", "session", "")).arg(500))
        .map(Response::toInteger);
  }

  /** The grant behind a ticket, without using it up (to authenticate the caller first). */
  public Future<Optional<Grant>> peekTicket(String ticket) {
    return redis.send(Request.cmd(Command.GET).arg(ticketKey(ticket))).map(QrSessionStore::toGrant);
  }

  /** Uses a ticket up: exactly one caller ever gets its grant. */
  public Future<Optional<Grant>> consumeTicket(String ticket) {
    return redis.send(Request.cmd(Command.GETDEL).arg(ticketKey(ticket))).map(QrSessionStore::toGrant);
  }

  private Future<QrSession> transition(String sessionId, String op, String ticket, String... args) {
    Request eval = Request.cmd(Command.EVAL).arg(QrScripts.TRANSITION).arg(3)
        .arg(sessionKey(sessionId)).arg(expiriesKey()).arg(ticket == null ? keys.key("qr", "ticket", "-") : ticketKey(ticket))
        .arg(op).arg(System.currentTimeMillis()).arg(channel()).arg(settings.retention().toSeconds());
    for (String a : args) eval.arg(a);
    return redis.send(eval).compose(reply -> {
      if ("ok".equals(reply.get(0).toString())) {
        return Future.succeededFuture(QrSession.fromHash(jsonToMap(new JsonObject(reply.get(1).toString()))));
      }
      return Future.failedFuture(refusal(reply.get(1).toString(), reply.get(2).toString()));
    });
  }

  static ApiException refusal(String code, String status) {
    return switch (code) {
      case "session_not_found" -> new ApiException(404, code, "No such QR session");
      case "session_expired" -> new ApiException(409, code, "The QR code has expired");
      case "session_finished" -> new ApiException(409, code, "The QR session is already " + status);
      case "already_scanned" -> new ApiException(409, code, "Another WeChat user already scanned this code");
      case "not_scanned" -> new ApiException(409, code, "The QR session is " + status + ", not SCANNED");
      case "invalid_scan_token" -> new ApiException(403, code, "The scan token does not belong to this session");
      default -> new ApiException(500, "internal_error", "Unexpected session state");
    };
  }

  static Optional<QrSession> toSession(Response hash) {
    if (hash == null || hash.size() == 0) return Optional.empty();
    Map<String, String> map = new HashMap<>();
    for (String key : hash.getKeys()) map.put(key, hash.get(key).toString());
    return Optional.of(QrSession.fromHash(map));
  }

  static Map<String, String> jsonToMap(JsonObject json) {
    Map<String, String> map = new HashMap<>();
    json.forEach(e -> map.put(e.getKey(), String.valueOf(e.getValue())));
    return map;
  }

  private static Optional<Grant> toGrant(Response r) {
    if (r == null) return Optional.empty();
    return Optional.of(Grant.fromJson(new JsonObject(r.toString())));
  }

  private static String nz(String s) {
    return s == null ? "" : s;
  }
}
