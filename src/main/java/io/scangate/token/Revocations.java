package io.scangate.token;

import io.scangate.config.ScanGateConfig.RedisSettings;
import io.scangate.redis.RedisKeys;
import io.scangate.redis.RedisSubscription;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Revoked access tokens (by jti), shared through Redis: a sorted set (score = the token's expiry)
 * holds them all, and a pub/sub channel announces each new one. Every instance keeps the set in
 * memory, so checking a token costs no Redis round trip. The subscription (a {@link RedisSubscription})
 * has its own connection that reconnects by itself, and after every (re)subscription the instance
 * reloads the whole set, so a revocation announced while it was disconnected is not missed.
 */
public final class Revocations {

  private static final long PRUNE_INTERVAL_MS = 60_000;

  /**
   * Records one revocation, prunes expired ones and announces it. KEYS: the set. ARGV: channel,
   * expiry (epoch s), member, now (epoch s). One set in one slot on purpose: every instance reads
   * it whole after each (re)subscription, and revocations are rare (logouts), so the one slot
   * carries little load.
   */
  private static final String REVOKE = """
      redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
      redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[4]) - 1)
      redis.call('PUBLISH', ARGV[1], ARGV[3])
      return 1""";

  /** Members for a user's revocation start with this ("u:&lt;userId&gt; &lt;issuedUpTo&gt;"); jtis are UUIDs. */
  static final String USER_MEMBER = "u:";

  private final Vertx vertx;
  private final Redis commands;
  private final RedisSubscription subscription;
  private final String setKey;
  private final String channel;
  /** jti → expiry (epoch seconds). */
  private final Map<String, Long> revoked = new ConcurrentHashMap<>();
  /** user id → every token of the user issued at or before this (epoch seconds) is revoked. */
  private final Map<String, Long> usersUpTo = new ConcurrentHashMap<>();
  private final long longestTokenSeconds;
  private long pruneTimer = -1;

  Revocations(Vertx vertx, Redis commands, RedisSettings settings, RedisKeys keys, java.time.Duration longestTokenTtl) {
    this.vertx = vertx;
    this.longestTokenSeconds = longestTokenTtl.toSeconds() + TokenVerifier.LEEWAY_SECONDS;
    this.commands = commands;
    this.setKey = keys.key("tokens", "revoked");
    this.channel = keys.channel("token-revocations");
    this.subscription = new RedisSubscription(vertx, settings, "token revocations", List.of(channel),
        (from, member) -> addMember(member), this::reloadAll);
  }

  /** Subscribes and loads the set; the returned future fails when Redis cannot be reached now. */
  Future<Void> start() {
    pruneTimer = vertx.setPeriodic(PRUNE_INTERVAL_MS, id -> pruneLocal());
    // A failed start gives up (the subscription closes itself): TokenVerticle's start fails with it.
    return subscription.start().onFailure(e -> vertx.cancelTimer(pruneTimer));
  }

  public boolean isRevoked(String jti) {
    return revoked.containsKey(jti);
  }

  /** Revoked by its id, or issued to a user whose tokens were all revoked since (log out everywhere, block). */
  public boolean isRevoked(VerifiedToken token) {
    if (revoked.containsKey(token.jti())) return true;
    if (usersUpTo.isEmpty()) return false;
    Long upTo = usersUpTo.get(token.subject());
    return upTo != null && token.issuedAt() <= upTo;
  }

  /**
   * Revokes every token of {@code userId} issued at or before {@code issuedUpTo} (epoch seconds),
   * on every instance: one member in the same set, announced on the same channel, so instances
   * that subscribe later load it too. Usable without a subscription (the command line).
   */
  public static Future<Void> revokeUser(Redis commands, RedisKeys keys, String userId, long issuedUpTo,
                                        java.time.Duration longestTokenTtl) {
    long now = System.currentTimeMillis() / 1000;
    long keepUntil = issuedUpTo + longestTokenTtl.toSeconds() + TokenVerifier.LEEWAY_SECONDS;
    String member = USER_MEMBER + userId + " " + issuedUpTo;
    return commands.send(Request.cmd(Command.EVAL).arg(REVOKE).arg(1).arg(keys.key("tokens", "revoked"))
            .arg(keys.channel("token-revocations")).arg(keepUntil).arg(member).arg(now))
        .mapEmpty();
  }

  /** Records the revocation in Redis and announces it to every instance (this one at once). */
  public Future<Void> revoke(String jti, long expiresAtEpochSeconds) {
    long now = System.currentTimeMillis() / 1000;
    if (expiresAtEpochSeconds <= now) return Future.succeededFuture();
    revoked.put(jti, expiresAtEpochSeconds);
    String member = jti + " " + expiresAtEpochSeconds;
    return commands.send(Request.cmd(Command.EVAL).arg(REVOKE).arg(1).arg(setKey)
            .arg(channel).arg(expiresAtEpochSeconds).arg(member).arg(now))
        .mapEmpty();
  }

  Future<Void> close() {
    if (pruneTimer >= 0) vertx.cancelTimer(pruneTimer);
    return subscription.close();
  }

  private Future<Void> reloadAll() {
    long now = System.currentTimeMillis() / 1000;
    return commands.send(Request.cmd(Command.ZRANGEBYSCORE).arg(setKey).arg(now).arg("+inf")).map(members -> {
      if (members != null) for (Response member : members) addMember(member.toString());
      return null;
    });
  }

  private void addMember(String member) {
    int space = member.indexOf(' ');
    if (space <= 0) return;
    try {
      long value = Long.parseLong(member.substring(space + 1));
      if (member.startsWith(USER_MEMBER)) {
        usersUpTo.merge(member.substring(USER_MEMBER.length(), space), value, Math::max);
        return;
      }
      revoked.put(member.substring(0, space), value);
    } catch (NumberFormatException ignored) {
      // not ours
    }
  }

  private void pruneLocal() {
    long now = System.currentTimeMillis() / 1000;
    revoked.values().removeIf(exp -> exp < now - 120);
    usersUpTo.values().removeIf(upTo -> upTo + longestTokenSeconds < now - 120);
  }
}
