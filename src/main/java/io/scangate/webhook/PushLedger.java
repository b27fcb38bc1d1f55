package io.scangate.webhook;

import io.scangate.redis.RedisKeys;
import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;

import java.time.Duration;

/**
 * What the webhook remembers in Redis so that each verified push acts once: its signature
 * (timestamp, nonce, signature) with a hash of its body, and its event identity (MsgId, or sender,
 * time, event and key). Both keys of one push share the connection's hash tag (one Redis Cluster
 * slot), and both are passed in KEYS.
 */
final class PushLedger {

  enum Outcome {
    /** First sight: act on it. */
    NEW,
    /** The same signature and the same body: WeChat's retry. */
    RETRY,
    /** The same signature with another body: a replay with a forged body. */
    CONFLICT,
    /** A new signature for an event already processed (WeChat re-sends with fresh signatures). */
    DUPLICATE
  }

  /** KEYS: the signature's key, the event's key. ARGV: body hash, time to live (ms). */
  static final String RECORD = """
      local seen = redis.call('GET', KEYS[1])
      if seen then
        if seen == ARGV[1] then return 'RETRY' end
        return 'CONFLICT'
      end
      redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
      if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[2]) then return 'NEW' end
      return 'DUPLICATE'""";

  /** KEYS: the signature's key, the event's key. Forgets a push whose processing failed, so WeChat's retry acts. */
  static final String RELEASE = """
      redis.call('DEL', KEYS[1], KEYS[2])
      return 1""";

  private final Redis redis;
  private final RedisKeys keys;
  private final long ttlMillis;

  /**
   * @param maxClockSkew pushes further off are refused, so a signature must be remembered until its
   *                     timestamp leaves the window: at most twice the skew from now (plus a margin).
   */
  PushLedger(Redis redis, RedisKeys keys, Duration maxClockSkew) {
    this.redis = redis;
    this.keys = keys;
    this.ttlMillis = maxClockSkew.multipliedBy(2).plusMinutes(1).toMillis();
  }

  Future<Outcome> record(String connection, String signatureId, String bodyHash, String eventId) {
    return redis.send(Request.cmd(Command.EVAL).arg(RECORD).arg(2)
            .arg(keys.webhookSignature(connection, signatureId)).arg(keys.webhookEvent(connection, eventId))
            .arg(bodyHash).arg(ttlMillis))
        .map(r -> Outcome.valueOf(r.toString()));
  }

  Future<Void> release(String connection, String signatureId, String eventId) {
    return redis.send(Request.cmd(Command.EVAL).arg(RELEASE).arg(2)
            .arg(keys.webhookSignature(connection, signatureId)).arg(keys.webhookEvent(connection, eventId)))
        .mapEmpty();
  }
}
