package io.scangate.ratelimit;

import io.scangate.error.ApiException;
import io.scangate.redis.RedisKeys;
import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;

/**
 * Per-minute counters in Redis, shared by every instance (fixed one-minute windows). Over the
 * limit the call fails with 429 {@code rate_limited}, carrying the seconds until the window ends.
 */
public final class RateLimiter {

  private static final String INCREMENT = """
      local n = redis.call('INCR', KEYS[1])
      if n == 1 then redis.call('EXPIRE', KEYS[1], 70) end
      return n
      """;

  /** 429 with the seconds to wait, for a {@code Retry-After} header. */
  public static final class LimitExceeded extends ApiException {
    private final long retryAfterSeconds;

    public LimitExceeded(String what, long retryAfterSeconds) {
      super(429, "rate_limited", "Too many " + what + "; retry in " + retryAfterSeconds + " s",
          java.util.Map.of("Retry-After", Long.toString(retryAfterSeconds)));
      this.retryAfterSeconds = retryAfterSeconds;
    }

    public long retryAfterSeconds() {
      return retryAfterSeconds;
    }
  }

  private final Redis redis;
  private final RedisKeys keys;

  public RateLimiter(Redis redis, RedisKeys keys) {
    this.redis = redis;
    this.keys = keys;
  }

  /** Counts one event for {@code subject} in {@code bucket}; fails if that makes more than {@code perMinute}. */
  public Future<Void> acquire(String bucket, String subject, int perMinute, String what) {
    long nowSeconds = System.currentTimeMillis() / 1000;
    long window = nowSeconds / 60;
    String key = keys.key("rate", bucket, subject, Long.toString(window));
    return redis.send(Request.cmd(Command.EVAL).arg(INCREMENT).arg(1).arg(key))
        .compose(count -> count.toLong() <= perMinute
            ? Future.succeededFuture()
            : Future.failedFuture(new LimitExceeded(what, Math.max(1, (window + 1) * 60 - nowSeconds))));
  }
}
