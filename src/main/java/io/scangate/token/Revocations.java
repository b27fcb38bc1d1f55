package io.scangate.token;

import io.scangate.config.ScanGateConfig.RedisSettings;
import io.scangate.redis.RedisClients;
import io.scangate.redis.RedisKeys;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Revoked access tokens (by jti), shared through Redis: a sorted set (score = the token's expiry)
 * holds them all, and a pub/sub channel announces each new one. Every instance keeps the set in
 * memory, so checking a token costs no Redis round trip. The subscription has its own connection
 * that reconnects by itself, and after every (re)subscription the instance reloads the whole set,
 * so a revocation announced while it was disconnected is not missed.
 */
public final class Revocations {

  private static final Logger log = LoggerFactory.getLogger(Revocations.class);
  private static final long MAX_BACKOFF_MS = 5_000;
  private static final long PRUNE_INTERVAL_MS = 60_000;

  private final Vertx vertx;
  private final Redis commands;
  private final Redis subscriber;
  private final String setKey;
  private final String channel;
  /** jti → expiry (epoch seconds). */
  private final Map<String, Long> revoked = new ConcurrentHashMap<>();
  private volatile RedisConnection connection;
  private volatile boolean closed;
  private long backoffMs = 100;
  private long pruneTimer = -1;

  Revocations(Vertx vertx, Redis commands, RedisSettings settings, RedisKeys keys) {
    this.vertx = vertx;
    this.commands = commands;
    this.subscriber = Redis.createClient(vertx, RedisClients.options(settings).setMaxPoolSize(1));
    this.setKey = keys.key("tokens", "revoked");
    this.channel = keys.channel("token-revocations");
  }

  /** Subscribes and loads the set; the returned future fails when Redis cannot be reached now. */
  Future<Void> start() {
    pruneTimer = vertx.setPeriodic(PRUNE_INTERVAL_MS, id -> pruneLocal());
    return subscribe();
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
    return commands.batch(java.util.List.of(
            Request.cmd(Command.ZADD).arg(setKey).arg(expiresAtEpochSeconds).arg(member),
            Request.cmd(Command.ZREMRANGEBYSCORE).arg(setKey).arg("-inf").arg(now - 1),
            Request.cmd(Command.PUBLISH).arg(channel).arg(member)))
        .mapEmpty();
  }

  Future<Void> close() {
    closed = true;
    if (pruneTimer >= 0) vertx.cancelTimer(pruneTimer);
    RedisConnection c = connection;
    connection = null;
    Future<Void> closing = c == null ? Future.succeededFuture() : c.close().otherwiseEmpty();
    return closing.eventually(() -> {
      subscriber.close();
      return Future.succeededFuture();
    });
  }

  private Future<Void> subscribe() {
    return subscriber.connect().compose(conn -> {
      if (closed) return conn.close();
      connection = conn;
      conn.handler(this::onMessage);
      conn.exceptionHandler(e -> lost(conn, e));
      conn.endHandler(v -> lost(conn, null));
      return conn.send(Request.cmd(Command.SUBSCRIBE).arg(channel))
          .compose(subscribed -> reloadAll())
          .onSuccess(v -> backoffMs = 100)
          .onFailure(e -> conn.close());
    });
  }

  private void lost(RedisConnection conn, Throwable cause) {
    if (closed || connection != conn) return;
    connection = null;
    log.atWarn().addKeyValue("cause", cause == null ? "closed" : cause.getMessage())
        .log("token revocation subscription lost; reconnecting");
    conn.close();
    scheduleReconnect();
  }

  private void scheduleReconnect() {
    if (closed) return;
    long delay = backoffMs;
    backoffMs = Math.min(MAX_BACKOFF_MS, backoffMs * 2);
    vertx.setTimer(delay, id -> {
      if (closed) return;
      subscribe().onFailure(e -> {
        connection = null;
        scheduleReconnect();
      });
    });
  }

  private void onMessage(Response message) {
    // RESP2 and RESP3 both deliver ["message", channel, payload].
    if (message == null || message.size() != 3 || !"message".equals(message.get(0).toString())) return;
    if (!channel.equals(message.get(1).toString())) return;
    addMember(message.get(2).toString());
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
