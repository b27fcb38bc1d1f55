package io.scangate.dev;

import redis.embedded.core.ExecutableProvider;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * A real {@code redis-server} child process on loopback that keeps nothing on disk: the one on
 * PATH when there is one, else the binary shipped in the embedded-redis Maven artifact.
 */
public final class EmbeddedRedis implements AutoCloseable {

  private final Process process;
  private final int port;

  private EmbeddedRedis(Process process, int port) {
    this.process = process;
    this.port = port;
  }

  public static EmbeddedRedis start(int port) throws IOException {
    return start(port, executable());
  }

  /** The redis-server binary shipped in the embedded-redis artifact, for machines without one on PATH. */
  public static File shippedExecutable() throws IOException {
    File shipped = ExecutableProvider.newJarResourceProvider().get();
    if (!shipped.canExecute() && !shipped.setExecutable(true)) {
      throw new IOException("cannot make the embedded redis-server executable");
    }
    return shipped;
  }

  static EmbeddedRedis start(int port, File executable) throws IOException {
    List<String> command = List.of(executable.getAbsolutePath(), "--port", String.valueOf(port),
        "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning",
        "--dir", System.getProperty("java.io.tmpdir"));
    Process process = new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .start();
    EmbeddedRedis redis = new EmbeddedRedis(process, port);
    try {
      redis.awaitPong(Duration.ofSeconds(15));
    } catch (IOException e) {
      redis.close();
      throw e;
    }
    return redis;
  }

  public int port() {
    return port;
  }

  public long pid() {
    return process.pid();
  }

  public String url() {
    return "redis://127.0.0.1:" + port;
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(5, java.util.concurrent.TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  static File executable() throws IOException {
    Optional<Path> onPath = onPath("redis-server");
    return onPath.isPresent() ? onPath.get().toFile() : shippedExecutable();
  }

  static Optional<Path> onPath(String name) {
    String path = System.getenv("PATH");
    if (path == null) return Optional.empty();
    for (String dir : path.split(File.pathSeparator)) {
      Path candidate = Path.of(dir, name);
      if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) return Optional.of(candidate);
    }
    return Optional.empty();
  }

  /** Runs on the launching thread, never on an event loop. */
  private void awaitPong(Duration timeout) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) throw new IOException("redis-server exited with status " + process.exitValue());
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress("127.0.0.1", port), 500);
        socket.setSoTimeout(1000);
        OutputStream out = socket.getOutputStream();
        out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        InputStream in = socket.getInputStream();
        byte[] reply = in.readNBytes(7);
        if (new String(reply, StandardCharsets.US_ASCII).startsWith("+PONG")) return;
      } catch (IOException notYet) {
        // not listening yet
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while waiting for redis-server");
      }
    }
    throw new IOException("redis-server did not answer PING on port " + port + " within " + timeout.toSeconds() + " s");
  }
}
