package io.scangate.redis;

/** Lua scripts used by more than one capability. */
public final class RedisScripts {

  private RedisScripts() {}

  /**
   * WeChat's forced access-token refresh limit: at most once per interval and N times a day.
   * The WeChat client obeys it and the sandbox enforces it, with the same script.
   * KEYS: the interval lock, the day's counter. ARGV: interval (ms), daily maximum.
   * Returns -1 within the interval, -2 when the day's limit is reached, else the day's count
   * including this one.
   */
  public static final String TAKE_FORCE_REFRESH = """
      local n = tonumber(redis.call('GET', KEYS[2]) or '0')
      if n >= tonumber(ARGV[2]) then return -2 end
      if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then return -1 end
      n = redis.call('INCR', KEYS[2])
      redis.call('EXPIRE', KEYS[2], 172800)
      return n""";
}
