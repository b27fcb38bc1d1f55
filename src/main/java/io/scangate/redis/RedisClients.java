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
   * master), but the gateway's multi-key scripts do not yet keep their keys in one cluster slot.
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

  public static Redis create(Vertx vertx, RedisSettings settings) {
    return Redis.createClient(vertx, options(settings));
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
