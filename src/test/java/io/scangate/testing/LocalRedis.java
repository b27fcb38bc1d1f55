package io.scangate.testing;

import io.scangate.dev.FreePort;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * Real Redis servers a test starts on its own free ports from Debian's {@code redis-server} (and
 * sets up with {@code redis-cli}), and stops: a Redis Cluster or a Sentinel set. Never touches
 * the shared servers. Close it in a finally block or @AfterEach.
 */
public final class LocalRedis implements AutoCloseable {

  private final Path dir;
  private final Map<Integer, Process> servers = new LinkedHashMap<>();
  private final Map<Integer, List<String>> commands = new LinkedHashMap<>();

  private LocalRedis() throws IOException {
    this.dir = Files.createTempDirectory("scangate-redis-");
  }

  /**
   * One standalone server on a free port that keeps its data across a restart (append-only file,
   * fsync on every write), for outage tests: {@link #kill(int)} it, then {@link #restart(int)} it.
   */
  public static LocalRedis persistent() throws Exception {
    LocalRedis r = new LocalRedis();
    try {
      r.startServer(FreePort.find(), "--appendonly", "yes", "--appendfsync", "always");
      return r;
    } catch (Exception e) {
      r.close();
      throw e;
    }
  }

  /** Starts a killed server again on its port, with its data directory and settings. */
  public void restart(int port) throws IOException, InterruptedException {
    List<String> cmd = commands.get(port);
    if (cmd == null) throw new IllegalStateException("no server was started on " + port);
    if (servers.containsKey(port)) throw new IllegalStateException("redis on " + port + " is still running");
    start(port, cmd);
  }

  /** Three primaries, three replicas, cluster-node-timeout 2 s; answers once every node says the cluster is ok. */
  public static LocalRedis cluster() throws Exception {
    LocalRedis r = new LocalRedis();
    try {
      List<String> create = new ArrayList<>(List.of("redis-cli", "--cluster", "create"));
      for (int i = 0; i < 6; i++) {
        int port = FreePort.find();
        r.startServer(port, "--cluster-enabled", "yes", "--cluster-config-file", "nodes-" + port + ".conf",
            "--cluster-node-timeout", "2000");
        create.add("127.0.0.1:" + port);
      }
      create.addAll(List.of("--cluster-replicas", "1", "--cluster-yes"));
      r.run(create);
      for (int port : r.ports()) r.await(port, "CLUSTER INFO", out -> out.contains("cluster_state:ok"), 30_000);
      // Replicas are attached when each replica reports its primary link up.
      for (int port : r.ports()) r.await(port, "ROLE", out -> !out.startsWith("slave") || out.contains("connected"), 30_000);
      return r;
    } catch (Exception e) {
      r.close();
      throw e;
    }
  }

  /** One primary, one replica and three sentinels (down-after-milliseconds 1 s, quorum 2) for master {@code name}. */
  public static LocalRedis sentinels(String name) throws Exception {
    LocalRedis r = new LocalRedis();
    try {
      int primary = FreePort.find();
      r.startServer(primary);
      int replica = FreePort.find();
      r.startServer(replica, "--replicaof", "127.0.0.1", Integer.toString(primary));
      r.await(replica, "ROLE", out -> out.contains("connected"), 30_000);
      for (int i = 0; i < 3; i++) {
        int port = FreePort.find();
        Path conf = r.dir.resolve("sentinel-" + port + ".conf");
        Files.writeString(conf, String.join("\n",
            "port " + port, "bind 127.0.0.1", "dir " + r.dir,
            "sentinel monitor " + name + " 127.0.0.1 " + primary + " 2",
            "sentinel down-after-milliseconds " + name + " 1000",
            "sentinel failover-timeout " + name + " 5000",
            "sentinel parallel-syncs " + name + " 1", ""));
        r.start(port, List.of("redis-server", conf.toString(), "--sentinel"));
      }
      for (int sentinel : r.sentinelPorts()) {
        r.await(sentinel, "SENTINEL REPLICAS " + name, out -> out.contains(Integer.toString(replica)), 30_000);
      }
      return r;
    } catch (Exception e) {
      r.close();
      throw e;
    }
  }

  private void startServer(int port, String... extra) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1",
        "--save", "", "--appendonly", "no", "--dir", dir.toString(), "--protected-mode", "no"));
    cmd.addAll(List.of(extra));
    start(port, cmd);
  }

  private void start(int port, List<String> cmd) throws IOException, InterruptedException {
    commands.put(port, cmd);
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("redis-" + port + ".log").toFile())).start();
    servers.put(port, p);
    await(port, "PING", out -> out.contains("PONG"), 10_000);
  }

  /** Every port started (servers and sentinels), in start order. */
  public List<Integer> ports() {
    return List.copyOf(servers.keySet());
  }

  /** The first two ports are the data servers of a sentinel set, the rest its sentinels. */
  public List<Integer> sentinelPorts() {
    return ports().subList(2, ports().size());
  }

  /** redis://127.0.0.1:port for each port. */
  public static List<String> urls(List<Integer> ports) {
    return ports.stream().map(p -> "redis://127.0.0.1:" + p).toList();
  }

  /** Kills one server at once (SIGKILL: a crash, no goodbye on its sockets). */
  public void kill(int port) throws InterruptedException {
    Process p = servers.remove(port);
    if (p != null) {
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
    }
  }

  /** {@code redis-cli -p port args...}, its output. */
  public String cli(int port, String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("redis-cli", "-p", Integer.toString(port)));
    cmd.addAll(List.of(args));
    return run(cmd);
  }

  /** Waits until {@code command} on {@code port} prints what {@code ok} accepts. */
  public void await(int port, String command, Predicate<String> ok, long timeoutMs) throws IOException, InterruptedException {
    long deadline = System.currentTimeMillis() + timeoutMs;
    String last = "";
    while (System.currentTimeMillis() < deadline) {
      last = cli(port, command.split(" "));
      if (ok.test(last)) return;
      Thread.sleep(100);
    }
    throw new IllegalStateException("redis on " + port + " never answered " + command + " as expected; last: " + last);
  }

  private String run(List<String> cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    p.waitFor(30, TimeUnit.SECONDS);
    return new String(out, StandardCharsets.UTF_8);
  }

  @Override
  public void close() {
    for (Process p : servers.values()) p.destroyForcibly();
    for (Process p : servers.values()) {
      try {
        p.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    servers.clear();
    try (var files = Files.walk(dir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException ignored) {
      // a temp directory left behind is harmless
    }
  }
}
