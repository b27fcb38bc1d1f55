package io.scangate;

import io.scangate.db.Postgres;
import io.scangate.testing.TestServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** The shaded jar as an operator runs it: `java -jar target/scangate.jar ...`. */
class ShadedJarIT {

  /**
   * The environment of a start-dev jar under test: CI's Redis and a fresh database on CI's
   * PostgreSQL when the suite was pointed at them, else nothing (start-dev's embedded servers).
   */
  static Map<String, String> serverEnv() {
    Map<String, String> env = new java.util.HashMap<>();
    String redis = System.getenv("SCANGATE_TEST_REDIS_URL");
    if (redis != null && !redis.isBlank()) env.put("SCANGATE_REDIS_URL", redis);
    String pg = System.getenv("SCANGATE_TEST_POSTGRES_URL");
    if (pg != null && !pg.isBlank()) env.put("SCANGATE_POSTGRES_URL", TestServers.freshDatabaseUrl());
    return Map.copyOf(env);
  }

  /**
   * conf/dev.yaml with a Redis key prefix of its own. The e2e gateways share CI's Redis, and their
   * per-IP, per-minute rate-limit counters would otherwise add up across tests: a test that
   * creates many sessions (HostedLoginE2EIT's timing runs) made the next one's code creation 429.
   */
  static String devYaml() throws IOException {
    String yaml = Files.readString(Path.of("conf/dev.yaml"));
    String own = yaml.replace("keyPrefix: \"scangate:\"", "keyPrefix: \"e2e-" + java.util.UUID.randomUUID().toString().substring(0, 8) + ":\"");
    if (own.equals(yaml)) throw new IllegalStateException("conf/dev.yaml no longer sets redis.keyPrefix \"scangate:\"");
    return own;
  }


  static final Pattern READY = Pattern.compile("ScanGate ready on (http://[0-9.]+:(\\d+))");
  static final HttpClient http = HttpClient.newHttpClient();

  /** A running jar with its stdout and stderr collected line by line. */
  static final class RunningJar implements AutoCloseable {
    final Process process;
    final List<String> out = Collections.synchronizedList(new ArrayList<>());
    final List<String> err = Collections.synchronizedList(new ArrayList<>());

    RunningJar(List<String> args, java.util.Map<String, String> env, boolean clearServerEnv) throws IOException {
      this(jar(), args, env, clearServerEnv);
    }

    RunningJar(String jarPath, List<String> args, java.util.Map<String, String> env, boolean clearServerEnv) throws IOException {
      List<String> command = new ArrayList<>(List.of(javaBin(), "-jar", jarPath));
      command.addAll(args);
      ProcessBuilder pb = new ProcessBuilder(command);
      if (clearServerEnv) {
        pb.environment().remove("SCANGATE_REDIS_URL");
        pb.environment().remove("SCANGATE_POSTGRES_URL");
      }
      pb.environment().putAll(env);
      process = pb.start();
      pump(process.getInputStream(), out);
      pump(process.getErrorStream(), err);
    }

    String awaitReady() throws InterruptedException {
      long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
      while (System.nanoTime() < deadline) {
        synchronized (out) {
          for (String line : out) {
            Matcher m = READY.matcher(line);
            if (m.find()) return m.group(1);
          }
        }
        if (!process.isAlive()) throw new AssertionError("exited with " + process.exitValue() + ": " + err);
        Thread.sleep(100);
      }
      throw new AssertionError("never ready; stderr: " + err);
    }

    int stop() throws InterruptedException {
      process.destroy(); // SIGTERM
      assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("stops after SIGTERM").isTrue();
      return process.exitValue();
    }

    @Override
    public void close() {
      process.destroyForcibly();
    }

    private static void pump(java.io.InputStream in, List<String> sink) {
      Thread t = new Thread(() -> {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
          String line;
          while ((line = r.readLine()) != null) sink.add(line);
        } catch (IOException ignored) {
          // process gone
        }
      });
      t.setDaemon(true);
      t.start();
    }
  }

  static String jar() {
    String jar = System.getProperty("scangate.jar", "target/scangate.jar");
    assertThat(Path.of(jar)).as("the shaded jar (run `mvn verify`)").exists();
    return jar;
  }

  static String javaBin() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  static int get(String url) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  /** PIDs of every postgres and redis-server process on the machine. */
  static Set<Long> databaseProcesses() throws IOException {
    Set<Long> pids = new HashSet<>();
    try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
      for (Path p : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
        try {
          String cmd = new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8);
          String exe = cmd.split("\0", 2)[0];
          String base = exe.substring(exe.lastIndexOf('/') + 1);
          if (base.startsWith("postgres") || base.startsWith("redis-server")) pids.add(Long.parseLong(p.getFileName().toString()));
        } catch (IOException vanished) {
          // the process ended while we looked
        }
      }
    }
    return pids;
  }

  @Test
  void startDevRunsOnEmbeddedServersAndLeavesNoProcessBehind() throws Exception {
    Set<Long> before = databaseProcesses();
    try (RunningJar jar = new RunningJar(List.of("start-dev", "--port", "0"), java.util.Map.of(), true)) {
      String base = jar.awaitReady();
      assertThat(base).startsWith("http://127.0.0.1:");
      assertThat(get(base + "/health/ready")).isEqualTo(200);
      Set<Long> started = new HashSet<>(databaseProcesses());
      started.removeAll(before);
      assertThat(started).as("embedded postgres and redis-server processes").isNotEmpty();

      jar.stop();
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      Set<Long> left = new HashSet<>(started);
      while (System.nanoTime() < deadline) {
        left.retainAll(databaseProcesses());
        if (left.isEmpty()) break;
        Thread.sleep(100);
      }
      assertThat(left).as("processes start-dev left behind").isEmpty();
      assertThat(String.join("\n", jar.out)).containsOnlyOnce("ScanGate ready on");
    }
  }

  @Test
  void startMigratesFromTheShadedJarAndLogsJson(@TempDir Path dir) throws Exception {
    String database = TestServers.freshDatabaseUrl();
    Path config = dir.resolve("scangate.yaml");
    Files.writeString(config, """
        server: { host: "127.0.0.1", port: 0, publicUrl: "https://login.example.com" }
        redis: { url: "${REDIS}", keyPrefix: "it-%s:" }
        postgres: { url: "${PG}" }
        tokens: { keyEncryptionKey: "${KEK}" }
        """.formatted(TestServers.randomHex(4)));
    var env = java.util.Map.of("REDIS", TestServers.redisUrl(), "PG", database, "KEK", "it-key-encryption-key-0123456789abcdef");
    try (RunningJar jar = new RunningJar(List.of("start", "--config", config.toString()), env, false)) {
      String base = jar.awaitReady();
      assertThat(get(base + "/health/ready")).isEqualTo(200);
      assertThat(get(base + "/sandbox/control/qrcodes")).as("no sandbox in production").isEqualTo(404);
      var o = Postgres.connectOptions(database);
      try (var c = DriverManager.getConnection(Postgres.jdbcUrl(database), o.getUser(), o.getPassword());
           var rs = c.createStatement().executeQuery("SELECT max(version::int), bool_and(success) FROM flyway_schema_history")) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getInt(1)).isGreaterThanOrEqualTo(1);
        assertThat(rs.getBoolean(2)).isTrue();
      }
      jar.stop();
      List<String> logLines = List.copyOf(jar.err).stream().filter(l -> !l.isBlank()).toList();
      assertThat(logLines).isNotEmpty().allSatisfy(line -> assertThat(line).startsWith("{").endsWith("}"));
      assertThat(String.join("\n", logLines)).doesNotContain("it-key-encryption-key");
    }
  }

  @Test
  void theSlimProductionJarCarriesNoEmbeddedServersAndStarts(@TempDir Path dir) throws Exception {
    String slim = System.getProperty("scangate.slim.jar", "target/scangate-slim.jar");
    assertThat(Path.of(slim)).exists();
    try (var zip = new java.util.zip.ZipFile(slim)) {
      assertThat(zip.stream().map(java.util.zip.ZipEntry::getName)
          .filter(n -> n.startsWith("io/zonky/") || n.contains("postgres-linux") || n.startsWith("redis/embedded/"))).isEmpty();
    }
    assertThat(Files.size(Path.of(slim))).as("a fraction of the dev jar").isLessThan(Files.size(Path.of(jar())) / 3);
    Path config = dir.resolve("scangate.yaml");
    Files.writeString(config, """
        server: { host: "127.0.0.1", port: 0, publicUrl: "https://login.example.com" }
        redis: { url: "${REDIS}", keyPrefix: "it-%s:" }
        postgres: { url: "${PG}" }
        tokens: { keyEncryptionKey: "${KEK}" }
        """.formatted(TestServers.randomHex(4)));
    var env = java.util.Map.of("REDIS", TestServers.redisUrl(), "PG", TestServers.freshDatabaseUrl(),
        "KEK", "it-key-encryption-key-0123456789abcdef");
    try (RunningJar jar = new RunningJar(slim, List.of("start", "--config", config.toString()), env, false)) {
      String base = jar.awaitReady();
      assertThat(get(base + "/health/ready")).isEqualTo(200);
      jar.stop();
    }
    try (RunningJar dev = new RunningJar(slim, List.of("start-dev", "--port", "0"), java.util.Map.of(), true)) {
      assertThat(dev.process.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(dev.process.exitValue()).isEqualTo(1);
      assertThat(String.join("\n", dev.err)).contains("this jar has no embedded servers");
    }
  }

  @Test
  void startWithABadFileExitsTwoNamingTheField(@TempDir Path dir) throws Exception {
    Path config = dir.resolve("bad.yaml");
    Files.writeString(config, "server: { publicUrl: \"https://x.example.com\" }\ntokens: { keyEncryptionKey: \"0123456789abcdef0123456789abcdef\" }\n"
        + "connections:\n  - { identifier: \"Bad_Id\", type: wechat-miniprogram, wechatAppId: \"wx1\", appSecret: \"s\" }\n");
    try (RunningJar jar = new RunningJar(List.of("start", "--config", config.toString()), java.util.Map.of(), false)) {
      assertThat(jar.process.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(jar.process.exitValue()).isEqualTo(2);
      Thread.sleep(200); // let the pump threads drain the closed pipes
      assertThat(jar.err).contains("connections[0].identifier: must be 1-31 characters [a-z0-9-]");
    }
  }
}
