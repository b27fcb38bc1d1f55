package io.scangate.token;

import io.scangate.Launcher;
import io.scangate.ScanGate;
import io.scangate.config.ScanGateConfig;
import io.scangate.testing.TestConfigs;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static io.scangate.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
class KeysCommandTest {

  @Test
  void twoInstancesStartingTogetherCreateOneKeyAndRotateAddsOne(Vertx vertx, @TempDir Path dir) throws Exception {
    Map<String, String> env = TestConfigs.testEnv();
    ScanGateConfig a = TestConfigs.parse(TokensTest.YAML, env);
    ScanGateConfig b = TestConfigs.parse(TokensTest.YAML, env);
    Future<ScanGate> first = ScanGate.start(vertx, a, ScanGate.Options.dev(null));
    Future<ScanGate> second = ScanGate.start(vertx, b, ScanGate.Options.dev(null));
    List<ScanGate> gateways = List.of(await(first), await(second));
    try {
      var pool = gateways.get(0).infrastructure().postgres();
      assertThat(count(pool)).isEqualTo(1);
      byte[] sealed = await(pool.query("SELECT private_key_enc FROM signing_keys").execute()).iterator().next()
          .getBuffer(0).getBytes();
      assertThat(new String(sealed, java.nio.charset.StandardCharsets.ISO_8859_1)).doesNotContain("BEGIN");

      Path file = dir.resolve("scangate.yaml");
      Files.writeString(file, TokensTest.YAML.replace("server:\n", "server:\n  publicUrl: \"https://login.test.example\"\n")
          .replace("${TEST_REDIS_URL}", env.get("TEST_REDIS_URL"))
          .replace("${TEST_POSTGRES_URL}", env.get("TEST_POSTGRES_URL"))
          .replace("${TEST_KEY_PREFIX}", env.get("TEST_KEY_PREFIX")));
      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();
      int status = Launcher.run(new String[] {"keys", "rotate", "--config", file.toString()},
          new PrintWriter(out, true), new PrintWriter(err, true));

      assertThat(status).as(err.toString()).isZero();
      assertThat(out.toString()).startsWith("Added signing key ");
      assertThat(count(pool)).isEqualTo(2);

      Path wrongKek = dir.resolve("wrong.yaml");
      Files.writeString(wrongKek, Files.readString(file).replace("test-key-encryption-key-0123456789abcdef",
          "another-key-encryption-key-0123456789abcdef"));
      int refused = Launcher.run(new String[] {"keys", "rotate", "--config", wrongKek.toString()},
          new PrintWriter(new StringWriter(), true), new PrintWriter(err, true));
      assertThat(refused).isEqualTo(1);
      assertThat(err.toString()).contains("does not decrypt");
      assertThat(count(pool)).as("nothing added under a wrong key-encryption key").isEqualTo(2);
    } finally {
      for (ScanGate g : gateways) await(g.close());
    }
  }

  private static long count(io.vertx.sqlclient.Pool pool) {
    return await(pool.query("SELECT count(*) FROM signing_keys").execute()).iterator().next().getLong(0);
  }
}
