package io.scangate.dev;

import io.scangate.db.Postgres;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;

/**
 * The Redis and PostgreSQL that {@code start-dev} runs on: the servers named by
 * {@code SCANGATE_REDIS_URL} / {@code SCANGATE_POSTGRES_URL}, or else embedded ones it starts
 * and, on {@link #close()}, stops.
 */
public final class DevServers implements AutoCloseable {

  public static final String REDIS_ENV = "SCANGATE_REDIS_URL";
  public static final String POSTGRES_ENV = "SCANGATE_POSTGRES_URL";
  private static final Logger log = LoggerFactory.getLogger(DevServers.class);

  private final EmbeddedRedis redis;
  private final EmbeddedPostgresServer postgres;
  private final String redisUrl;
  private final String postgresUrl;

  private DevServers(EmbeddedRedis redis, EmbeddedPostgresServer postgres, String redisUrl, String postgresUrl) {
    this.redis = redis;
    this.postgres = postgres;
    this.redisUrl = redisUrl;
    this.postgresUrl = postgresUrl;
  }

  /** Blocking: starts processes and waits for them. Call it before Vert.x, or off the event loop. */
  public static DevServers start(Map<String, String> env) throws Exception {
    EmbeddedRedis redis = null;
    EmbeddedPostgresServer postgres = null;
    try {
      String redisUrl = blankToNull(env.get(REDIS_ENV));
      if (redisUrl == null) {
        redis = EmbeddedRedis.start(FreePort.find());
        redisUrl = redis.url();
        log.atInfo().addKeyValue("port", redis.port()).log("embedded Redis started");
      }
      String postgresUrl = blankToNull(env.get(POSTGRES_ENV));
      if (postgresUrl == null) {
        postgres = EmbeddedPostgresServer.start(FreePort.find());
        postgresUrl = postgres.url("scangate");
        log.atInfo().addKeyValue("port", postgres.port()).log("embedded PostgreSQL started");
      } else {
        Postgres.createDatabaseIfMissing(postgresUrl);
      }
      return new DevServers(redis, postgres, redisUrl, postgresUrl);
    } catch (Exception e) {
      if (redis != null) redis.close();
      if (postgres != null) postgres.close();
      throw e;
    }
  }

  public String redisUrl() {
    return redisUrl;
  }

  /** True when Redis is the embedded one (a single standalone server), not {@code SCANGATE_REDIS_URL}'s. */
  public boolean redisEmbedded() {
    return redis != null;
  }

  public String postgresUrl() {
    return postgresUrl;
  }

  @Override
  public void close() {
    if (redis != null) redis.close();
    if (postgres != null) {
      try {
        postgres.close();
      } catch (Exception e) {
        log.warn("embedded PostgreSQL did not stop cleanly: {}", e.getMessage());
      }
    }
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s;
  }
}
