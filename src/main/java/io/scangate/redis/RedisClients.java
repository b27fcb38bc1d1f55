package io.scangate.redis;

import io.scangate.config.ScanGateConfig.RedisSettings;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClientOptions;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisOptions;

import java.net.URI;

/**
 * Redis connections. Commands go through one pooled client: a connection broken by a Redis
 * restart is dropped from the pool and the next command opens a fresh one, so the gateway
 * recovers without a restart. Pub/sub needs a dedicated connection of its own.
 */
public final class RedisClients {

  private RedisClients() {}

  public static RedisOptions options(RedisSettings settings) {
    return new RedisOptions()
        .setConnectionString(settings.url())
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
