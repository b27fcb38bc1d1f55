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

  /**
   * The webhook's record of one verified push signature of a connection. Shares the hash tag
   * {@code {webhook:<connection>}} with {@link #webhookEvent}, as one script touches both
   * (Redis Cluster: one slot).
   */
  public String webhookSignature(String connection, String signatureId) {
    return prefix + "{webhook:" + connection + "}:sig:" + signatureId;
  }

  /** The webhook's record of one processed event (by MsgId or sender, time, event and key). */
  public String webhookEvent(String connection, String eventId) {
    return prefix + "{webhook:" + connection + "}:event:" + eventId;
  }
}
