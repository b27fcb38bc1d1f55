package io.scangate.redis;

/**
 * Names of everything the gateway keeps in Redis, under the configured {@code redis.keyPrefix}
 * (pub/sub channels too), so several gateways or test runs can share one Redis without meeting.
 *
 * <p>Keys that one Lua script (or one MULTI) touches together are named with {@link #inSlot} and
 * the same tag, so that they share a Redis Cluster hash slot; the cluster and managed cluster
 * proxies refuse a script whose keys are in different slots. See docs/operations.md, "Key layout".
 */
public record RedisKeys(String prefix) {

  /** A key of its own: it hashes to whatever slot its name gives. */
  public String key(String... parts) {
    return prefix + String.join(":", parts);
  }

  /**
   * A key in the hash slot of {@code tag}: {@code <prefix>{<tag>}:<parts>}. Every key with the
   * same tag is in the same slot (on a standalone Redis the braces are just characters).
   */
  public String inSlot(String tag, String... parts) {
    return prefix + "{" + tag + "}:" + String.join(":", parts);
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
