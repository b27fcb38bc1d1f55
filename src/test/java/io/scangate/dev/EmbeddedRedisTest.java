package io.scangate.dev;

import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** On a machine without redis-server on PATH, start-dev and the tests run the binary shipped in the jar. */
class EmbeddedRedisTest {

  @Test
  void theShippedBinaryServesAndStops() throws Exception {
    EmbeddedRedis redis = EmbeddedRedis.start(FreePort.find(), EmbeddedRedis.shippedExecutable());
    long pid = redis.pid();
    try (Socket socket = new Socket("127.0.0.1", redis.port())) {
      OutputStream out = socket.getOutputStream();
      out.write("SET k v\r\nGET k\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = socket.getInputStream();
      assertThat(new String(in.readNBytes(12), StandardCharsets.US_ASCII)).isEqualTo("+OK\r\n$1\r\nv\r\n");
    } finally {
      redis.close();
    }
    assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
  }
}
