package io.scangate.dev;

import io.scangate.db.Postgres;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.io.IOException;
import java.sql.SQLException;
import java.time.Duration;

/** A real PostgreSQL server from the binaries shipped in zonky's Maven artifacts, on loopback. */
public final class EmbeddedPostgresServer implements AutoCloseable {

  private final EmbeddedPostgres postgres;

  private EmbeddedPostgresServer(EmbeddedPostgres postgres) {
    this.postgres = postgres;
  }

  public static EmbeddedPostgresServer start(int port) throws IOException {
    EmbeddedPostgres postgres = EmbeddedPostgres.builder()
        .setPort(port)
        .setPGStartupWait(Duration.ofSeconds(30))
        .setServerConfig("max_connections", "200")
        .start();
    return new EmbeddedPostgresServer(postgres);
  }

  public int port() {
    return postgres.getPort();
  }

  /** A URL for {@code database} on this server, created if missing. */
  public String url(String database) throws SQLException {
    String url = "postgresql://postgres@127.0.0.1:" + postgres.getPort() + "/" + database;
    Postgres.createDatabaseIfMissing(url);
    return url;
  }

  @Override
  public void close() throws IOException {
    postgres.close();
  }
}
