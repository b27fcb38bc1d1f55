package io.scangate.ratelimit;

import io.scangate.error.ApiException;
import io.scangate.redis.RedisKeys;
import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;

import java.time.Duration;
import java.util.Map;

/**
 * How many browsers may wait (long poll or SSE) on one session and from one client IP, counted
 * in Redis so the caps hold across instances ({@code rateLimits.waitersPerSession},
 * {@code rateLimits.waitersPerIp}). Each counter is one key, touched alone (any Redis kind). A
 * counter expires {@link #COUNTER_TTL} after its last acquire, so counts an instance could not
 * give back (it crashed) are forgotten by then.
 */
public final class WaiterCaps {

  /** Over a cap: 429 with a hint to come back once another waiter has gone. */
  public static final class TooManyWaiters extends ApiException {
    TooManyWaiters(String what, int cap) {
      super(429, "too_many_waiters", "Too many browsers are waiting " + what + " (at most " + cap + ")",
          Map.of("Retry-After", "5"));
    }
  }

  static final Duration COUNTER_TTL = Duration.ofMinutes(10);
  private static final String ACQUIRE = """
      local n = redis.call('INCR', KEYS[1])
      redis.call('EXPIRE', KEYS[1], ARGV[2])
      if n > tonumber(ARGV[1]) then
        redis.call('DECR', KEYS[1])
        return -1
      end
      return n
      """;

  private final Redis redis;
  private final RedisKeys keys;
  private final int perSession;
  private final int perIp;

  public WaiterCaps(Redis redis, RedisKeys keys, int perSession, int perIp) {
    this.redis = redis;
    this.keys = keys;
    this.perSession = perSession;
    this.perIp = perIp;
  }

  /** Counts one more waiter on {@code sessionId} from {@code ip}; fails with {@link TooManyWaiters}, counting nothing. */
  public Future<Void> acquire(String sessionId, String ip) {
    String sessionKey = sessionKey(sessionId);
    return acquire(sessionKey, perSession).compose(sessionOk -> {
      if (!sessionOk) return Future.failedFuture(new TooManyWaiters("on this QR session", perSession));
      return acquire(ipKey(ip), perIp).compose(ipOk -> ipOk ? Future.<Void>succeededFuture()
          : decrement(sessionKey).transform(v -> Future.failedFuture(new TooManyWaiters("from this address", perIp))));
    });
  }

  /** Gives back what {@link #acquire} counted (best effort: an expired counter forgets by itself). */
  public void release(String sessionId, String ip) {
    decrement(sessionKey(sessionId));
    decrement(ipKey(ip));
  }

  private Future<Boolean> acquire(String key, int cap) {
    return redis.send(Request.cmd(Command.EVAL).arg(ACQUIRE).arg(1).arg(key).arg(cap).arg(COUNTER_TTL.toSeconds()))
        .map(n -> n.toLong() > 0);
  }

  private Future<Void> decrement(String key) {
    // Never below zero: a counter that expired meanwhile comes back as -1 otherwise.
    return redis.send(Request.cmd(Command.EVAL)
            .arg("if redis.call('DECR', KEYS[1]) < 0 then redis.call('DEL', KEYS[1]) end return 0").arg(1).arg(key))
        .<Void>mapEmpty().otherwiseEmpty();
  }

  private String sessionKey(String sessionId) {
    return keys.key("waiters", "session", sessionId);
  }

  private String ipKey(String ip) {
    return keys.key("waiters", "ip", ip);
  }
}
