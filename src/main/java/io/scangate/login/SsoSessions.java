package io.scangate.login;

import io.scangate.redis.RedisKeys;
import io.scangate.util.Hashes;
import io.scangate.util.Randoms;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Single sign-on sessions (CONTRACT section 6, {@code tokens.ssoSessionTtl}): what a confirmed
 * login through the hosted page leaves behind so that another application's {@code /oidc/auth}
 * can answer without a scan. The browser holds a random 256-bit id in a first-party cookie; Redis
 * holds the session under the id's SHA-256 (a Redis dump holds no usable id), shared by every
 * instance, and expires it {@code ssoSessionTtl} after the scan (no sliding: a session never
 * outlives its scan by more than that).
 *
 * <p>Each user's sessions are also listed in a set, {@code {sso-user:<userId>}:sso:sessions}
 * (the user's own hash tag, so the one script that reads and deletes it touches one slot), which
 * expires with the user's newest session. A session counts only while it is in its user's set:
 * {@link #endAllOf} deletes the set in one step, so every session of the user is over at that
 * moment on every instance, even one created concurrently (it is added to the set before it is
 * stored), and then deletes the sessions themselves.
 */
public final class SsoSessions {

  /** A live session: who scanned, with which connection, and when (epoch seconds: the id token's {@code auth_time}). */
  public record Session(String userId, String connection, long authTime) {}

  /** Adds a session's hash to its user's set and keeps the set as long as its newest session. KEYS: the set. ARGV: hash, seconds. */
  private static final String INDEX = """
      redis.call('SADD', KEYS[1], ARGV[1])
      redis.call('EXPIRE', KEYS[1], ARGV[2])
      return 1""";

  /** Takes a user's set away: answers its members and deletes it. KEYS: the set. */
  private static final String TAKE_ALL = """
      local members = redis.call('SMEMBERS', KEYS[1])
      redis.call('DEL', KEYS[1])
      return members""";

  private final Redis redis;
  private final RedisKeys keys;
  private final Duration ttl;

  public SsoSessions(Redis redis, RedisKeys keys, Duration ttl) {
    this.redis = redis;
    this.keys = keys;
    this.ttl = ttl;
  }

  /** How long a session lives after its scan ({@code tokens.ssoSessionTtl}); the cookie's Max-Age. */
  public Duration ttl() {
    return ttl;
  }

  /** A new session for a confirmed scan; answers its id (the cookie's value, shown to no one else). */
  public Future<String> start(String userId, String connection, long authTime) {
    String id = Randoms.urlSafe(32);
    String hash = Hashes.sha256UrlSafe(id);
    JsonObject state = new JsonObject().put("userId", userId).put("connection", connection).put("authTime", authTime);
    // Listed first, then stored: a session stored after its user's set was taken away is never counted.
    return redis.send(Request.cmd(Command.EVAL).arg(INDEX).arg(1).arg(userIndex(userId)).arg(hash).arg(ttl.toSeconds()))
        .compose(v -> redis.send(Request.cmd(Command.SET).arg(sessionKey(hash)).arg(state.encode()).arg("EX").arg(ttl.toSeconds())))
        .map(id);
  }

  /** The live session with this id, or null (unknown, expired, ended, or not an id at all). */
  public Future<Session> find(String id) {
    if (!looksLikeId(id)) return Future.succeededFuture(null);
    String hash = Hashes.sha256UrlSafe(id);
    return redis.send(Request.cmd(Command.GET).arg(sessionKey(hash))).compose(r -> {
      if (r == null) return Future.succeededFuture(null);
      JsonObject state = new JsonObject(r.toString());
      Session session = new Session(state.getString("userId"), state.getString("connection"), state.getLong("authTime"));
      return redis.send(Request.cmd(Command.SISMEMBER).arg(userIndex(session.userId())).arg(hash))
          .map(listed -> listed != null && listed.toInteger() == 1 ? session : null);
    });
  }

  /** Ends one session (logout); an unknown id changes nothing. */
  public Future<Void> end(String id) {
    if (!looksLikeId(id)) return Future.succeededFuture();
    String hash = Hashes.sha256UrlSafe(id);
    String key = sessionKey(hash);
    return redis.send(Request.cmd(Command.GET).arg(key)).compose(r -> {
      if (r == null) return Future.<Void>succeededFuture();
      String userId = new JsonObject(r.toString()).getString("userId");
      return redis.send(Request.cmd(Command.DEL).arg(key))
          .compose(v -> redis.send(Request.cmd(Command.SREM).arg(userIndex(userId)).arg(hash)))
          .mapEmpty();
    });
  }

  /**
   * Ends every single sign-on session of a user, on every instance (blocking a user, "log out
   * everywhere"): their next {@code /oidc/auth} asks for a scan. Answers how many were live.
   * Tokens already issued are not touched here (revoke them separately).
   */
  public Future<Integer> endAllOf(String userId) {
    return redis.send(Request.cmd(Command.EVAL).arg(TAKE_ALL).arg(1).arg(userIndex(userId))).compose(members -> {
      List<Future<Response>> deletions = new ArrayList<>();
      // One DEL per key: in a cluster the sessions live in different slots.
      if (members != null) members.forEach(m -> deletions.add(redis.send(Request.cmd(Command.DEL).arg(sessionKey(m.toString())))));
      return Future.all(deletions).map(all -> {
        int ended = 0;
        for (Future<Response> f : deletions) ended += f.result() == null ? 0 : f.result().toInteger();
        return ended;
      });
    });
  }

  /** 43 characters of base64url: the shape of an id {@link #start} makes. */
  public static boolean looksLikeId(String id) {
    return id != null && id.length() == 43 && id.chars().allMatch(c -> Character.isLetterOrDigit(c) && c < 128 || c == '-' || c == '_');
  }

  private String sessionKey(String hash) {
    return keys.key("sso", "session", hash);
  }

  private String userIndex(String userId) {
    return keys.inSlot("sso-user:" + userId, "sso", "sessions");
  }
}
