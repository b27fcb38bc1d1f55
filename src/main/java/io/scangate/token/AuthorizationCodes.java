package io.scangate.token;

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

/**
 * The OIDC code flow's short-lived state in Redis: authorization requests (what a client asked at
 * {@code /oidc/auth}, kept server-side under a random id while the user scans) and authorization
 * codes (RFC 6749 4.1). Codes are stored by their SHA-256 only, so a Redis dump does not hold
 * usable codes. A redeemed code is kept (marked used, with what it issued) for {@link #USED_MEMORY}
 * so that a second use can be recognised and what the first one issued revoked (RFC 6749 4.1.2).
 */
final class AuthorizationCodes {

  /** RFC 6749 4.1.2 recommends at most ten minutes; the issue asks for one. */
  static final Duration CODE_TTL = Duration.ofSeconds(60);
  /** How long a used code is remembered to detect its reuse. */
  static final Duration USED_MEMORY = Duration.ofMinutes(10);

  /**
   * Marks a code used. KEYS: the code's hash. ARGV: seconds to remember it once used. Returns nil
   * for an unknown or expired code, else {firstUse (1|0), grant JSON, issued JSON or ''}.
   */
  private static final String REDEEM = """
      if redis.call('EXISTS', KEYS[1]) == 0 then return false end
      local first = redis.call('HSETNX', KEYS[1], 'used', '1')
      if first == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
      return {first, redis.call('HGET', KEYS[1], 'grant'), redis.call('HGET', KEYS[1], 'issued') or ''}""";

  /** Stores a new code with its lifetime in one step (never a code without expiry). KEYS: hash. ARGV: grant, seconds. */
  private static final String ISSUE = """
      redis.call('HSET', KEYS[1], 'grant', ARGV[1])
      redis.call('EXPIRE', KEYS[1], ARGV[2])
      return 1""";

  private final Redis redis;
  private final RedisKeys keys;
  private final Duration requestTtl;

  AuthorizationCodes(Redis redis, RedisKeys keys, Duration requestTtl) {
    this.redis = redis;
    this.keys = keys;
    this.requestTtl = requestTtl;
  }

  /** One redemption: whether it is the code's first, its grant, and what an earlier redemption issued. */
  record Redemption(boolean first, JsonObject grant, JsonObject issued) {}

  Future<String> saveRequest(JsonObject request) {
    String id = Randoms.urlSafe(32);
    return redis.send(Request.cmd(Command.SET).arg(requestKey(id)).arg(request.encode()).arg("EX").arg(requestTtl.toSeconds()))
        .map(id);
  }

  /** The stored request, or null when the id is unknown or expired. */
  Future<JsonObject> loadRequest(String id) {
    return redis.send(Request.cmd(Command.GET).arg(requestKey(id)))
        .map(r -> r == null ? null : new JsonObject(r.toString()));
  }

  Future<Void> dropRequest(String id) {
    return redis.send(Request.cmd(Command.DEL).arg(requestKey(id))).mapEmpty();
  }

  /** A new code for {@code grant}, valid for {@link #CODE_TTL}. */
  Future<String> issue(JsonObject grant) {
    String code = Randoms.urlSafe(32);
    String key = codeKey(code);
    return redis.send(Request.cmd(Command.EVAL).arg(ISSUE).arg(1).arg(key).arg(grant.encode()).arg(CODE_TTL.toSeconds()))
        .map(code);
  }

  /** Null for an unknown or expired code. */
  Future<Redemption> redeem(String code) {
    return redis.send(Request.cmd(Command.EVAL).arg(REDEEM).arg(1).arg(codeKey(code)).arg(USED_MEMORY.toSeconds()))
        .map(r -> {
          if (r == null || r.size() < 3) return null;
          Response issued = r.get(2);
          String issuedText = issued == null ? "" : issued.toString();
          return new Redemption(r.get(0).toInteger() == 1, new JsonObject(r.get(1).toString()),
              issuedText.isEmpty() ? null : new JsonObject(issuedText));
        });
  }

  /** Records what the first redemption issued, for revocation on reuse. */
  Future<Void> recordIssued(String code, JsonObject issued) {
    return redis.send(Request.cmd(Command.HSET).arg(codeKey(code)).arg("issued").arg(issued.encode())).mapEmpty();
  }

  static boolean looksLikeCode(String code) {
    return code != null && code.length() == 43 && code.chars().allMatch(c -> Character.isLetterOrDigit(c) || c == '-' || c == '_');
  }

  private String requestKey(String id) {
    return keys.key("oidc", "authreq", Hashes.sha256UrlSafe(id));
  }

  private String codeKey(String code) {
    return keys.key("oidc", "code", Hashes.sha256UrlSafe(code));
  }
}
