package io.scangate.testing;

import io.scangate.dev.FreePort;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A PostgreSQL server of a test's own, on a free port, from Debian's binaries
 * ({@code /usr/lib/postgresql/<version>/bin}: initdb, pg_ctl), in a temporary directory, trusting
 * local connections; run as the {@code postgres} user when the test runs as root (PostgreSQL
 * refuses root). For outage tests: {@link #stop()} and {@link #start()} it. Never the shared server.
 */
public final class LocalPostgres implements AutoCloseable {

  private final Path dir;
  private final Path data;
  private final Path bin;
  private final int port;
  private final boolean asPostgresUser;

  private LocalPostgres(Path bin) throws IOException {
    this.bin = bin;
    this.dir = Files.createTempDirectory("scangate-pg-");
    this.data = dir.resolve("data");
    this.port = FreePort.find();
    this.asPostgresUser = "root".equals(System.getProperty("user.name"));
  }

  /** Creates a cluster (initdb) and starts it; fails when Debian's PostgreSQL binaries are missing. */
  public static LocalPostgres create() throws Exception {
    LocalPostgres pg = new LocalPostgres(binaries());
    try {
      if (pg.asPostgresUser) pg.run(List.of("chown", "-R", "postgres:postgres", pg.dir.toString()), false);
      pg.run(List.of(pg.bin.resolve("initdb").toString(), "-D", pg.data.toString(), "-U", "postgres", "--auth=trust",
          "--encoding=UTF8", "--no-sync"), true);
      pg.start();
      return pg;
    } catch (Exception e) {
      pg.close();
      throw e;
    }
  }

  private static Path binaries() throws IOException {
    Path root = Path.of("/usr/lib/postgresql");
    try (var versions = Files.list(root)) {
      return versions.map(v -> v.resolve("bin")).filter(b -> Files.isExecutable(b.resolve("pg_ctl")))
          .max(Comparator.comparing(b -> Integer.parseInt(b.getParent().getFileName().toString().replaceAll("\\D", "0"))))
          .orElseThrow(() -> new IllegalStateException("no PostgreSQL binaries under " + root));
    }
  }

  /** {@code postgresql://postgres@127.0.0.1:port/<database>}. */
  public String url(String database) {
    return "postgresql://postgres@127.0.0.1:" + port + "/" + database;
  }

  public int port() {
    return port;
  }

  /** Starts the server and waits until it accepts connections. */
  public void start() throws IOException, InterruptedException {
    run(List.of(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-w", "-t", "60", "-l", dir.resolve("pg.log").toString(),
        "-o", "-p " + port + " -k " + dir + " -c listen_addresses=127.0.0.1 -c fsync=off", "start"), true);
  }

  /** Stops it at once, as a crash would (immediate mode: connections dropped, no checkpoint). */
  public void stop() throws IOException, InterruptedException {
    run(List.of(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-w", "-m", "immediate", "stop"), true);
  }

  private String run(List<String> command, boolean asServerUser) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    if (asServerUser && asPostgresUser) cmd.addAll(List.of("runuser", "-u", "postgres", "--"));
    cmd.addAll(command);
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(90, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", command) + " failed: " + new String(out, StandardCharsets.UTF_8));
    }
    return new String(out, StandardCharsets.UTF_8);
  }

  @Override
  public void close() {
    try {
      if (Files.exists(data.resolve("postmaster.pid"))) stop();
    } catch (Exception ignored) {
      // best effort; the directory goes anyway
    }
    try (var files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException ignored) {
      // a temp directory left behind is harmless
    }
  }
}
