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

  private final Vertx vertx;
  private final Redis commands;
  private final RedisSubscription subscription;
  private final String setKey;
  private final String channel;
  /** jti → expiry (epoch seconds). */
  private final Map<String, Long> revoked = new ConcurrentHashMap<>();
  private long pruneTimer = -1;

  Revocations(Vertx vertx, Redis commands, RedisSettings settings, RedisKeys keys) {
    this.vertx = vertx;
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
      revoked.put(member.substring(0, space), Long.parseLong(member.substring(space + 1)));
    } catch (NumberFormatException ignored) {
      // not ours
    }
  }

  private void pruneLocal() {
    long now = System.currentTimeMillis() / 1000;
    revoked.values().removeIf(exp -> exp < now - 120);
  }
}
