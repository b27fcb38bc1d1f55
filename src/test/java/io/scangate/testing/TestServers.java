package io.scangate.testing;

import io.scangate.db.Postgres;
import io.scangate.dev.EmbeddedPostgresServer;
import io.scangate.dev.EmbeddedRedis;
import io.scangate.dev.FreePort;

import java.security.SecureRandom;
import java.sql.DriverManager;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The real Redis and PostgreSQL the tests talk to: {@code SCANGATE_TEST_REDIS_URL} /
 * {@code SCANGATE_TEST_POSTGRES_URL} when set (CI sets them to the local servers), otherwise
 * embedded servers started once per test JVM. Every test gets its own fresh database and its own
 * Redis key prefix, so runs never see each other's data.
 */
public final class TestServers {

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final List<String> createdDatabases = new CopyOnWriteArrayList<>();
  private static String redisUrl;
  private static String postgresUrl;

  private TestServers() {}

  public static synchronized String redisUrl() {
    if (redisUrl == null) {
      String fromEnv = System.getenv("SCANGATE_TEST_REDIS_URL");
      if (fromEnv != null && !fromEnv.isBlank()) {
        redisUrl = fromEnv;
      } else {
        try {
          EmbeddedRedis redis = EmbeddedRedis.start(FreePort.find());
          Runtime.getRuntime().addShutdownHook(new Thread(redis::close));
          redisUrl = redis.url();
        } catch (Exception e) {
          throw new IllegalStateException("cannot start an embedded Redis for the tests", e);
        }
      }
    }
    return redisUrl;
  }

  /** The server's maintenance database URL ({@code .../postgres}). */
  public static synchronized String postgresServerUrl() {
    if (postgresUrl == null) {
      String fromEnv = System.getenv("SCANGATE_TEST_POSTGRES_URL");
      if (fromEnv != null && !fromEnv.isBlank()) {
        postgresUrl = fromEnv;
      } else {
        try {
          EmbeddedPostgresServer pg = EmbeddedPostgresServer.start(FreePort.find());
          Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
              pg.close();
            } catch (Exception ignored) {
              // the JVM is going anyway
            }
          }));
          postgresUrl = pg.url("postgres");
        } catch (Exception e) {
          throw new IllegalStateException("cannot start an embedded PostgreSQL for the tests", e);
        }
      }
      Runtime.getRuntime().addShutdownHook(new Thread(TestServers::dropCreatedDatabases));
    }
    return postgresUrl;
  }

  /** A new, empty database on the test server; dropped when the test JVM exits. */
  public static String freshDatabaseUrl() {
    String server = postgresServerUrl();
    String name = "scangate_test_" + randomHex(6);
    String url = server.replaceFirst("/[^/?]*(\\?.*)?$", "/" + name + "$1");
    try {
      Postgres.createDatabaseIfMissing(url);
    } catch (Exception e) {
      throw new IllegalStateException("cannot create test database " + name, e);
    }
    createdDatabases.add(url);
    return url;
  }

  /** A Redis key prefix no other test uses. */
  public static String freshKeyPrefix() {
    return "scangate-test-" + randomHex(6) + ":";
  }

  public static String randomHex(int bytes) {
    byte[] b = new byte[bytes];
    RANDOM.nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  /**
   * Drops this JVM's test databases over one connection, within a time budget: Surefire kills a
   * fork whose shutdown hooks run longer than 30 s, and what is left is only disk on a test server.
   */
  private static void dropCreatedDatabases() {
    if (createdDatabases.isEmpty()) return;
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(15);
    String first = createdDatabases.iterator().next();
    var o = Postgres.connectOptions(first);
    String maintenance = Postgres.jdbcUrl(first).replaceFirst("/[^/]*$", "/postgres");
    try (var c = DriverManager.getConnection(maintenance, o.getUser(), o.getPassword());
         var s = c.createStatement()) {
      s.setQueryTimeout(5); // each DROP DATABASE waits for a checkpoint, which a busy server can make slow
      for (String url : createdDatabases) {
        if (System.nanoTime() > deadline) return;
        try {
          s.execute("DROP DATABASE IF EXISTS " + Postgres.connectOptions(url).getDatabase() + " WITH (FORCE)");
        } catch (Exception ignored) {
          // best effort: the next one may still go
        }
      }
    } catch (Exception ignored) {
      // best effort; the server may be gone already
    }
  }

}
