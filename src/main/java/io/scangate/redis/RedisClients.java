package io.scangate.redis;

import io.scangate.config.ScanGateConfig;
import io.scangate.config.ScanGateConfig.RedisSettings;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClientOptions;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisClientType;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.RedisRole;

import java.net.URI;

/**
 * Redis connections. Commands go through one pooled client: a connection broken by a Redis
 * restart is dropped from the pool and the next command opens a fresh one, so the gateway
 * recovers without a restart. Pub/sub needs a dedicated connection of its own.
 */
public final class RedisClients {

  private RedisClients() {}

  /**
   * The client options for these settings. Cluster and sentinel modes are passed to the client
   * ({@code url} and {@code nodes} as seeds or sentinels; in sentinel mode it always talks to the
   * master); the client does the routing (slots, MOVED/ASK, master discovery). Every multi-key
   * script keeps its keys in one slot ({@link RedisKeys#inSlot}).
   */
  public static RedisOptions options(RedisSettings settings) {
    RedisOptions options = new RedisOptions().setConnectionString(settings.url());
    switch (settings.mode()) {
      case STANDALONE -> options.setType(RedisClientType.STANDALONE);
      case CLUSTER -> options.setType(RedisClientType.CLUSTER);
      case SENTINEL -> options.setType(RedisClientType.SENTINEL).setMasterName(settings.masterName()).setRole(RedisRole.MASTER);
    }
    if (settings.mode() != ScanGateConfig.RedisMode.STANDALONE) settings.nodes().forEach(options::addConnectionString);
    return options
        .setMaxPoolSize(16)
        .setMaxPoolWaiting(20_000)
        .setMaxWaitingHandlers(20_000)
        .setPoolRecycleTimeout(15_000)
        .setNetClientOptions(new NetClientOptions().setConnectTimeout(3_000).setTcpKeepAlive(true).setTcpNoDelay(true));
  }

  /**
   * Options of a subscription's dedicated connections (a pool of one): one per seed node in
   * cluster mode, where any node hears every PUBLISH (see {@link RedisSubscription}), else one.
   */
  static java.util.List<RedisOptions> subscriptionOptions(RedisSettings settings) {
    if (settings.mode() != ScanGateConfig.RedisMode.CLUSTER) return java.util.List.of(options(settings).setMaxPoolSize(1));
    java.util.List<RedisOptions> perNode = new java.util.ArrayList<>();
    java.util.List<String> seeds = new java.util.ArrayList<>();
    seeds.add(settings.url());
    seeds.addAll(settings.nodes());
    for (String seed : seeds) perNode.add(options(new RedisSettings(seed, settings.keyPrefix())).setMaxPoolSize(1));
    return perNode;
  }

  /**
   * How long one command (or batch) may take before it fails as an outage (503). The Vert.x
   * client has no command timeout of its own, and a command sent to a primary that died without
   * closing its socket, or waiting for a pool while no primary is reachable, would otherwise wait
   * for ever. Nothing the gateway sends blocks inside Redis, so a healthy server answers in
   * milliseconds.
   */
  public static final long COMMAND_TIMEOUT_MS = 5_000;

  /** The command client: pooled, with {@link #COMMAND_TIMEOUT_MS} on every command. */
  public static Redis create(Vertx vertx, RedisSettings settings) {
    return new TimeLimited(Redis.createClient(vertx, options(settings)), COMMAND_TIMEOUT_MS);
  }

  /** A client whose commands fail with a {@link java.util.concurrent.TimeoutException} after a time limit. */
  static final class TimeLimited implements Redis {
    private final Redis client;
    private final long timeoutMs;

    TimeLimited(Redis client, long timeoutMs) {
      this.client = client;
      this.timeoutMs = timeoutMs;
    }

    @Override
    public io.vertx.core.Future<io.vertx.redis.client.RedisConnection> connect() {
      return client.connect().timeout(timeoutMs, java.util.concurrent.TimeUnit.MILLISECONDS)
          .recover(e -> io.scangate.error.Outages.mark("Redis", e));
    }

    @Override
    public io.vertx.core.Future<Void> close() {
      return client.close();
    }

    @Override
    public io.vertx.core.Future<io.vertx.redis.client.Response> send(io.vertx.redis.client.Request command) {
      return client.send(command).timeout(timeoutMs, java.util.concurrent.TimeUnit.MILLISECONDS)
          .recover(e -> io.scangate.error.Outages.mark("Redis", e));
    }

    @Override
    public io.vertx.core.Future<java.util.List<io.vertx.redis.client.Response>> batch(java.util.List<io.vertx.redis.client.Request> commands) {
      return client.batch(commands).timeout(timeoutMs, java.util.concurrent.TimeUnit.MILLISECONDS)
          .recover(e -> io.scangate.error.Outages.mark("Redis", e));
    }
  }

  /** Where Redis is, for messages: never the password. */
  public static String describe(String url) {
    try {
      URI uri = URI.create(url);
      if ("unix".equals(uri.getScheme())) return uri.getPath();
      return uri.getHost() + ":" + (uri.getPort() < 0 ? 6379 : uri.getPort());
    } catch (IllegalArgumentException e) {
      return "(unparseable URL)";
    }
  }
}
