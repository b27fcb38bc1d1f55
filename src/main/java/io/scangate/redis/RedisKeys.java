package io.scangate.redis;

/**
 * Names of everything the gateway keeps in Redis, under the configured {@code redis.keyPrefix}
 * (pub/sub channels too), so several gateways or test runs can share one Redis without meeting.
 */
public record RedisKeys(String prefix) {

  public String key(String... parts) {
    return prefix + String.join(":", parts);
  }

  public String channel(String name) {
    return prefix + "channel:" + name;
  }
}
