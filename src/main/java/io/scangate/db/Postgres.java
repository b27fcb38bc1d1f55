package io.scangate.db;

import io.scangate.config.ScanGateConfig.PostgresSettings;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.concurrent.TimeUnit;

/**
 * The PostgreSQL side: a non-blocking {@link Pool} for the gateway's queries, and Flyway
 * migrations, which need JDBC and so run once at start-up on a worker thread.
 */
public final class Postgres {

  private static final Logger log = LoggerFactory.getLogger(Postgres.class);

  private Postgres() {}

  public static PgConnectOptions connectOptions(String url) {
    PgConnectOptions options = PgConnectOptions.fromUri(url);
    if (options.getUser() == null || options.getUser().isEmpty()) options.setUser("postgres");
    return options.setReconnectAttempts(0);
  }

  public static Pool pool(Vertx vertx, PostgresSettings settings) {
    Pool pool = PgBuilder.pool()
        .with(new PoolOptions().setMaxSize(settings.poolSize()).setName("scangate-pg").setMaxWaitQueueSize(10_000)
            .setConnectionTimeout(5).setConnectionTimeoutUnit(TimeUnit.SECONDS))
        .connectingTo(connectOptions(settings.url()))
        .using(vertx)
        .build();
    // An outage's failures say they are PostgreSQL's, so a 503 can name it (Outages.backendOf).
    return io.scangate.error.Outages.marking("PostgreSQL", Pool.class, pool);
  }

  /** Where the database is, for messages: never the password. */
  public static String describe(String url) {
    PgConnectOptions o = PgConnectOptions.fromUri(url);
    return o.getHost() + ":" + o.getPort() + "/" + o.getDatabase();
  }

  public static String jdbcUrl(String url) {
    PgConnectOptions o = PgConnectOptions.fromUri(url);
    String host = o.getHost().contains(":") ? "[" + o.getHost() + "]" : o.getHost();
    return "jdbc:postgresql://" + host + ":" + o.getPort() + "/" + URLEncoder.encode(o.getDatabase(), StandardCharsets.UTF_8);
  }

  /** Applies pending migrations from {@code db/migration}; a no-op when the schema is current. */
  public static Future<Integer> migrate(Vertx vertx, String url) {
    return vertx.executeBlocking(() -> {
      PgConnectOptions o = connectOptions(url);
      Flyway flyway = Flyway.configure(Postgres.class.getClassLoader())
          .dataSource(jdbcUrl(url), o.getUser(), o.getPassword())
          .locations("classpath:db/migration")
          .connectRetries(0)
          .load();
      MigrateResult result = flyway.migrate();
      log.atInfo().addKeyValue("applied", result.migrationsExecuted).addKeyValue("schemaVersion", result.targetSchemaVersion)
          .log("database migrations done");
      return result.migrationsExecuted;
    }, false);
  }

  /**
   * Creates the database named in {@code url} if it does not exist (start-dev and tests only: in
   * production the operator creates it). Blocking; call it off the event loop.
   */
  public static void createDatabaseIfMissing(String url) throws SQLException {
    PgConnectOptions o = connectOptions(url);
    String maintenance = jdbcUrl(url).replaceFirst("/[^/]*$", "/postgres");
    try (Connection c = DriverManager.getConnection(maintenance, o.getUser(), o.getPassword());
         var check = c.prepareStatement("SELECT 1 FROM pg_database WHERE datname = ?")) {
      check.setString(1, o.getDatabase());
      if (check.executeQuery().next()) return;
      if (!o.getDatabase().matches("[A-Za-z0-9_]+")) throw new SQLException("unsafe database name");
      try (var create = c.createStatement()) {
        create.execute("CREATE DATABASE " + o.getDatabase());
      }
    }
  }
}
