package io.scangate.sandbox;

import io.scangate.redis.RedisKeys;
import io.scangate.redis.RedisScripts;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;

/**
 * Everything the sandbox WeChat remembers, in Redis under {@code <prefix>sandbox:...}, so that
 * several gateway instances sharing one Redis behave as one WeChat.
 */
final class SandboxStore {

  static final Duration TOKEN_TTL = Duration.ofHours(2);
  /** stable_token normal mode hands out a new token in the last 5 minutes of the old one, as WeChat does. */
  static final Duration TOKEN_RENEW_BEFORE = Duration.ofMinutes(5);
  static final Duration CODE_TTL = Duration.ofMinutes(5);
  static final Duration FOLLOWER_TTL = Duration.ofDays(7);
  static final int FORCE_REFRESH_PER_DAY = 20;
  static final Duration FORCE_REFRESH_INTERVAL = Duration.ofSeconds(30);
  private static final int QR_LIST_MAX = 500;

  /** Token slots: cgi-bin/token and cgi-bin/stable_token tokens are independent, as on WeChat. */
  enum Slot { TOKEN, STABLE }

  /** The access token a call presented, once checked. */
  record TokenInfo(String appId, Slot slot, long expiresAt) {}

  /** A token handed out, with its remaining lifetime. */
  record IssuedToken(String token, long expiresIn) {}

  /** Marks a one-time code used: returns its record on first use, 1 when already used, 0 when unknown. */
  private static final String CONSUME_ONCE = """
      local v = redis.call('GET', KEYS[1])
      if not v then return 0 end
      if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[1]) then return v end
      return 1""";

  private final Redis redis;
  private final RedisKeys keys;

  SandboxStore(Redis redis, RedisKeys keys) {
    this.redis = redis;
    this.keys = keys;
  }

  private String key(String... parts) {
    String[] all = new String[parts.length + 1];
    all[0] = "sandbox";
    System.arraycopy(parts, 0, all, 1, parts.length);
    return keys.key(all);
  }

  private Future<Response> send(Request request) {
    return redis.send(request);
  }

  static String randomToken(int bytes) {
    return io.scangate.util.Randoms.urlSafe(bytes);
  }

  // ---- access tokens ----

  private String tokenKey(String token) {
    return key("token", token);
  }

  private String currentKey(String appId, Slot slot) {
    return key("token-current", appId, slot.name().toLowerCase());
  }

  private Future<Void> writeTokenRecord(String token, String appId, Slot slot, long expiresAt) {
    JsonObject record = new JsonObject().put("appId", appId).put("slot", slot.name()).put("expiresAt", expiresAt);
    // Kept an hour past expiry so that the token is answered 42001 (expired), not 40001 (unknown).
    long keepMillis = Math.max(1, expiresAt - System.currentTimeMillis()) + Duration.ofHours(1).toMillis();
    return send(Request.cmd(Command.SET).arg(tokenKey(token)).arg(record.encode()).arg("PX").arg(keepMillis)).mapEmpty();
  }

  /** A new token for the slot; the slot's previous token stops working at once when {@code invalidatePrevious}. */
  Future<IssuedToken> issueToken(String appId, Slot slot, boolean invalidatePrevious) {
    String token = randomToken(96);
    long ttl = TOKEN_TTL.toMillis();
    return writeTokenRecord(token, appId, slot, System.currentTimeMillis() + ttl)
        .compose(v -> send(Request.cmd(Command.SET).arg(currentKey(appId, slot)).arg(token).arg("PX").arg(ttl).arg("GET")))
        .compose(previous -> previous != null && invalidatePrevious
            ? send(Request.cmd(Command.DEL).arg(tokenKey(previous.toString()))).mapEmpty()
            : Future.<Void>succeededFuture())
        .map(v -> new IssuedToken(token, TOKEN_TTL.toSeconds()));
  }

  /** stable_token normal mode: the current token while it has more than 5 minutes left, else a new one. */
  Future<IssuedToken> currentStableToken(String appId) {
    String current = currentKey(appId, Slot.STABLE);
    return send(Request.cmd(Command.GET).arg(current))
        .compose(existing -> existing == null
            ? Future.succeededFuture((IssuedToken) null)
            : send(Request.cmd(Command.PTTL).arg(current)).map(pttl -> new IssuedToken(existing.toString(), pttl.toLong() / 1000)))
        .compose(found -> {
          if (found != null && found.expiresIn() > TOKEN_RENEW_BEFORE.toSeconds()) return Future.succeededFuture(found);
          if (found != null) return issueToken(appId, Slot.STABLE, false); // renewal: the old one lives out its time
          // First token: concurrent callers on any instance must all get the same one.
          String token = randomToken(96);
          long ttl = TOKEN_TTL.toMillis();
          return writeTokenRecord(token, appId, Slot.STABLE, System.currentTimeMillis() + ttl)
              .compose(v -> send(Request.cmd(Command.SET).arg(current).arg(token).arg("NX").arg("PX").arg(ttl)))
              .compose(set -> {
                if (set != null) return Future.succeededFuture(new IssuedToken(token, TOKEN_TTL.toSeconds()));
                return send(Request.cmd(Command.DEL).arg(tokenKey(token))).compose(x -> currentStableToken(appId));
              });
        });
  }

  /** 0 when allowed; else WeChat's errcode: 45011 (once per 30 s) or 45009 (20 a day). */
  Future<Integer> takeForceRefresh(String appId) {
    String day = LocalDate.now(ZoneId.of("Asia/Shanghai")).toString();
    return send(Request.cmd(Command.EVAL).arg(RedisScripts.TAKE_FORCE_REFRESH).arg(2)
            .arg(keys.inSlot("sandbox-" + appId, "sandbox", "stable-force-recent"))
            .arg(keys.inSlot("sandbox-" + appId, "sandbox", "stable-force-day", day))
            .arg(FORCE_REFRESH_INTERVAL.toMillis()).arg(FORCE_REFRESH_PER_DAY))
        .map(r -> r.toLong() == -1 ? 45011 : r.toLong() == -2 ? 45009 : 0);
  }

  /** The token a call presented: 41001 missing, 40001 unknown or replaced, 42001 expired. */
  Future<TokenInfo> checkToken(String token) {
    if (token == null || token.isEmpty()) return Future.failedFuture(SandboxError.missingToken());
    return send(Request.cmd(Command.GET).arg(tokenKey(token))).compose(r -> {
      if (r == null) return Future.failedFuture(SandboxError.invalidToken());
      JsonObject record = new JsonObject(r.toString());
      long expiresAt = record.getLong("expiresAt");
      if (expiresAt <= System.currentTimeMillis()) return Future.failedFuture(SandboxError.expiredToken());
      return Future.succeededFuture(new TokenInfo(record.getString("appId"), Slot.valueOf(record.getString("slot")), expiresAt));
    });
  }

  /** Control: the app's current tokens expire now (42001 from then on; stable_token issues new ones). */
  Future<Integer> expireTokens(String appId) {
    List<Future<Boolean>> done = new ArrayList<>();
    for (Slot slot : Slot.values()) {
      String current = currentKey(appId, slot);
      done.add(send(Request.cmd(Command.GETDEL).arg(current)).compose(t -> t == null
          ? Future.succeededFuture(false)
          : writeTokenRecord(t.toString(), appId, slot, System.currentTimeMillis()).map(true)));
    }
    return Future.all(done).map(all -> (int) done.stream().filter(f -> f.result()).count());
  }

  /**
   * Control: the app's current tokens are rejected (40001) although stable_token normal mode
   * still returns them; only a forced refresh heals the account (WeChat's "not latest" case).
   */
  Future<Integer> revokeTokens(String appId) {
    List<Future<Boolean>> done = new ArrayList<>();
    for (Slot slot : Slot.values()) {
      done.add(send(Request.cmd(Command.GET).arg(currentKey(appId, slot))).compose(t -> t == null
          ? Future.succeededFuture(false)
          : send(Request.cmd(Command.DEL).arg(tokenKey(t.toString()))).map(true)));
    }
    return Future.all(done).map(all -> (int) done.stream().filter(f -> f.result()).count());
  }

  // ---- one-time codes ----

  Future<Void> saveCode(String kind, String code, JsonObject record) {
    return send(Request.cmd(Command.SET).arg(keys.inSlot("sandbox-" + code, "sandbox", kind)).arg(record.encode()).arg("PX").arg(CODE_TTL.toMillis())).mapEmpty();
  }

  /** The code's record the first time; 40163 after that; 40029 for an unknown or expired code. */
  Future<JsonObject> consumeCode(String kind, String code) {
    if (code == null || code.isEmpty() || code.length() > 128) return Future.failedFuture(SandboxError.invalidCode());
    // The code and its used-mark share the code's slot: the script touches both.
    return send(Request.cmd(Command.EVAL).arg(CONSUME_ONCE).arg(2)
            .arg(keys.inSlot("sandbox-" + code, "sandbox", kind)).arg(keys.inSlot("sandbox-" + code, "sandbox", kind + "-used"))
            .arg(CODE_TTL.multipliedBy(2).toMillis()))
        .compose(r -> {
          if (r.type() == io.vertx.redis.client.ResponseType.NUMBER) {
            return Future.failedFuture(r.toLong() == 1 ? SandboxError.codeUsed() : SandboxError.invalidCode());
          }
          return Future.succeededFuture(new JsonObject(r.toString()));
        });
  }

  // ---- Official Account QR codes ----

  Future<Void> saveQrCode(JsonObject qr, String urlId, long expireMillis) {
    String ticket = qr.getString("ticket");
    return send(Request.cmd(Command.SET).arg(key("qr", ticket)).arg(qr.encode()).arg("PX").arg(expireMillis))
        .compose(v -> send(Request.cmd(Command.SET).arg(key("qr-url", urlId)).arg(ticket).arg("PX").arg(expireMillis)))
        .compose(v -> send(Request.cmd(Command.ZADD).arg(key("qrcodes")).arg(qr.getLong("createdAt")).arg(ticket)))
        .compose(v -> send(Request.cmd(Command.ZREMRANGEBYRANK).arg(key("qrcodes")).arg(0).arg(-QR_LIST_MAX - 1)))
        .mapEmpty();
  }

  Future<JsonObject> qrByTicket(String ticket) {
    return send(Request.cmd(Command.GET).arg(key("qr", ticket))).map(r -> r == null ? null : new JsonObject(r.toString()));
  }

  Future<JsonObject> qrByUrlId(String urlId) {
    return send(Request.cmd(Command.GET).arg(key("qr-url", urlId)))
        .compose(t -> t == null ? Future.succeededFuture(null) : qrByTicket(t.toString()));
  }

  /** Live QR codes, newest first. */
  Future<JsonArray> listQrCodes() {
    return send(Request.cmd(Command.ZREVRANGE).arg(key("qrcodes")).arg(0).arg(QR_LIST_MAX - 1)).compose(tickets -> {
      if (tickets == null || tickets.size() == 0) return Future.succeededFuture(new JsonArray());
      // One GET each, not MGET: the keys are in different cluster slots.
      List<Future<Response>> values = new ArrayList<>();
      for (Response t : tickets) values.add(send(Request.cmd(Command.GET).arg(key("qr", t.toString()))));
      return Future.all(values).map(all -> {
        JsonArray list = new JsonArray();
        for (Future<Response> v : values) if (v.result() != null) list.add(new JsonObject(v.result().toString()));
        return list;
      });
    });
  }

  // ---- Official Account followers (what user/info answers) ----

  Future<Void> saveFollower(String appId, JsonObject follower) {
    return send(Request.cmd(Command.SET).arg(key("follower", appId, follower.getString("openid"))).arg(follower.encode())
        .arg("PX").arg(FOLLOWER_TTL.toMillis())).mapEmpty();
  }

  Future<JsonObject> follower(String appId, String openid) {
    return send(Request.cmd(Command.GET).arg(key("follower", appId, openid))).map(r -> r == null ? null : new JsonObject(r.toString()));
  }
}
