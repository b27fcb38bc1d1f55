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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * QR sessions in Redis: a hash per session ({@code {tag}:qr:session:<sessionId>}), a scene index
 * ({@code {tag}:qr:scene:<scene>} → sessionId), one-time tickets ({@code {tag}:qr:ticket:<ticket>}
 * → grant JSON), all three in the slot of the session's tag (the first {@link QrIds#TAG_LENGTH}
 * characters of each id), and an expiry index sharded over {@link #EXPIRY_SHARDS} sorted sets
 * by expiresAt. All state changes go through {@link QrScripts#TRANSITION}, which also publishes
 * them on {@link #channel()}.
 *
 * <p>The expiry index is sharded, not kept with the session, because the sweeper must find due
 * sessions without knowing them: a fixed, small number of sorted sets, each in its own slot (so
 * spread over the cluster's nodes), read with one ZRANGEBYSCORE each per sweep. Being in other
 * slots than the sessions, the index is kept outside the scripts: an entry is only a hint (the
 * session hash decides), added after the create, removed after a terminal change, and claimed
 * with ZREM by the one sweeper that then expires the session.
 *
 * <p>A scan-token index ({@code qr:scantoken:<hash>} → sessionId, for calls that carry only a scan
 * token, such as the avatar upload) is one key set after the scan, outside the scripts: a hint too,
 * checked against the session's own hash on every use.
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

  /** Sorted sets of the expiry index: enough to spread the sweep's reads over a cluster's primaries. */
  static final int EXPIRY_SHARDS = 16;
  private static final int SWEEP_BATCH = 500;

  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(QrSessionStore.class);

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
    return keys.inSlot(QrIds.tagOf(sessionId), "qr", "session", sessionId);
  }

  String sceneKey(String scene) {
    return keys.inSlot(QrIds.tagOf(scene), "qr", "scene", scene);
  }

  String ticketKey(String ticket) {
    return keys.inSlot(QrIds.tagOf(ticket), "qr", "ticket", ticket);
  }

  /** The expiry index shard of a session: by its tag, so that a session always lands in the same one. */
  String expiriesKey(String sessionId) {
    return expiriesShard(Math.floorMod(QrIds.tagOf(sessionId).hashCode(), EXPIRY_SHARDS));
  }

  String scanTokenKey(String scanTokenHash) {
    return keys.key("qr", "scantoken", scanTokenHash);
  }

  String expiriesShard(int shard) {
    return keys.inSlot("qr-expiries-" + shard, "qr", "expiries");
  }

  private QrMetrics metrics = QrMetrics.NONE;

  /** Where this store counts the changes it makes (the QR-session verticle sets it). */
  public void countIn(QrMetrics metrics) {
    this.metrics = metrics;
  }

  /**
   * Stores a new PENDING session; it lives for sessionTtl, then stays readable for qr.retention.
   * Its id and scene must share one slot tag ({@link QrIds#sessionId(String)}, {@link QrIds#scene(String)})
   * on a Redis Cluster, and its ticket must come from {@link QrIds#ticket(String)}; a standalone
   * Redis takes any ids.
   */
  public Future<QrSession> create(QrSession s) {
    long lifeSeconds = Duration.ofMillis(s.expiresAt() - System.currentTimeMillis()).plus(settings.retention()).toSeconds() + 1;
    Map<String, String> fields = new HashMap<>();
    fields.put("sessionId", s.sessionId());
    fields.put("status", s.status().name());
    fields.put("appId", s.appId());
    fields.put("connection", s.connection());
    fields.put("scene", s.scene());
    fields.put("qrContent", s.qrContent());
    fields.put("createdAt", Long.toString(s.createdAt()));
    fields.put("expiresAt", Long.toString(s.expiresAt()));
    fields.put("ip", s.ip() == null ? "" : s.ip());
    fields.put("userAgent", s.userAgent() == null ? "" : s.userAgent());
    fields.put("version", "1");
    Request create = Request.cmd(Command.EVAL).arg(QrScripts.CREATE).arg(2)
        .arg(sessionKey(s.sessionId())).arg(sceneKey(s.scene()))
        .arg(lifeSeconds).arg(s.sessionId());
    fields.forEach((k, v) -> create.arg(k).arg(v));
    return redis.send(create)
        .onSuccess(created -> metrics.created(s))
        .compose(created -> redis.send(Request.cmd(Command.ZADD).arg(expiriesKey(s.sessionId())).arg(s.expiresAt()).arg(s.sessionId())))
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

  /**
   * Expires due sessions, publishing each; returns how many. Run by every instance every second:
   * each shard is read, each due entry claimed by ZREM (one instance wins it), and the claimed
   * session expired by {@link QrScripts#TRANSITION} (op {@code expire}), which decides by the
   * session's own expiresAt and does nothing to a session already finished.
   */
  public Future<Integer> sweep() {
    long now = System.currentTimeMillis();
    List<Future<Integer>> shards = new ArrayList<>();
    for (int shard = 0; shard < EXPIRY_SHARDS; shard++) shards.add(sweepShard(expiriesShard(shard), now));
    return Future.all(shards).map(all -> shards.stream().mapToInt(Future::result).sum());
  }

  private Future<Integer> sweepShard(String shard, long now) {
    return redis.send(Request.cmd(Command.ZRANGEBYSCORE).arg(shard).arg("-inf").arg(now).arg("LIMIT").arg(0).arg(SWEEP_BATCH))
        .compose(due -> {
          List<Future<Integer>> expired = new ArrayList<>();
          if (due != null) {
            for (Response id : due) {
              String sessionId = id.toString();
              expired.add(redis.send(Request.cmd(Command.ZREM).arg(shard).arg(sessionId)).compose(claimed ->
                  claimed.toInteger() == 0 || sessionId.length() < QrIds.TAG_LENGTH
                      ? Future.succeededFuture(0)
                      : run(sessionId, "expire", null, List.of(), now).map(s -> 1).otherwise(0)));
            }
          }
          return Future.all(expired).map(all -> expired.stream().mapToInt(Future::result).sum());
        });
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
    return run(sessionId, op, ticket, List.of(args), System.currentTimeMillis());
  }

  private Future<QrSession> run(String sessionId, String op, String ticket, List<String> args, long now) {
    // Without a ticket, KEYS[2] is a name in the session's slot that the script never touches.
    String ticketKey = ticketKey(ticket == null ? QrIds.tagOf(sessionId) + "-" : ticket);
    Request eval = Request.cmd(Command.EVAL).arg(QrScripts.TRANSITION).arg(2)
        .arg(sessionKey(sessionId)).arg(ticketKey)
        .arg(op).arg(now).arg(channel()).arg(settings.retention().toSeconds());
    for (String a : args) eval.arg(a);
    return redis.send(eval).compose(reply -> {
      if ("ok".equals(reply.get(0).toString())) {
        Map<String, String> hash = jsonToMap(new JsonObject(reply.get(1).toString()));
        metrics.changed(hash, now);
        QrSession changed = QrSession.fromHash(hash);
        if (changed.status().terminal()) dropFromExpiryIndex(sessionId);
        return Future.succeededFuture(changed);
      }
      return Future.failedFuture(refusal(reply.get(1).toString(), reply.get(2).toString()));
    });
  }

  /** The index entry of a finished session is a hint no longer needed; a failure here only leaves work for the sweeper. */
  private void dropFromExpiryIndex(String sessionId) {
    redis.send(Request.cmd(Command.ZREM).arg(expiriesKey(sessionId)).arg(sessionId))
        .onFailure(e -> log.atDebug().addKeyValue("reason", e.getMessage()).log("expiry index entry left to the sweeper"));
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
