package io.scangate;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class LauncherTest {

  record Outcome(int status, String out, String err) {}

  static Outcome run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int status = Launcher.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
    return new Outcome(status, out.toString(), err.toString());
  }

  @Test
  void helpListsTheCommandsAndOptions() {
    Outcome help = run("--help");
    assertThat(help.status()).isZero();
    assertThat(help.out()).contains("start", "start-dev", "${NAME:-default}",
        "start --config FILE", "start-dev [--config FILE] [--port N] [--host H]", "keys rotate --config FILE");
    assertThat(run("start-dev", "--help").out()).contains("--config", "--port", "--host");
    assertThat(run("start", "--help").out()).contains("--config");
  }

  @Test
  void anUnknownCommandIsOneLineAndStatusTwo() {
    Outcome o = run("launch");
    assertThat(o.status()).isEqualTo(2);
    assertThat(o.err().strip().lines()).singleElement().asString()
        .contains("launch").contains("Try 'scangate --help'");
  }

  @Test
  void anUnknownOptionIsOneLineAndStatusTwo() {
    Outcome o = run("start-dev", "--verbose");
    assertThat(o.status()).isEqualTo(2);
    assertThat(o.err().strip().lines()).singleElement().asString().contains("--verbose");
  }

  @Test
  void noCommandIsAUsageError() {
    assertThat(run().status()).isEqualTo(2);
  }

  @Test
  void startNeedsAConfigFile() {
    Outcome o = run("start");
    assertThat(o.status()).isEqualTo(2);
    assertThat(o.err()).contains("--config");
  }

  @Test
  void badConfigurationExitsTwoWithOneLinePerProblem(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("bad.yaml");
    Files.writeString(file, """
        server: { port: 99999, publicUrl: "https://login.example.com" }
        tokens: { keyEncryptionKey: "0123456789abcdef0123456789abcdef" }
        connections:
          - identifier: "wechat-mp"
            type: wechat-mp-qrcode
            wechatAppId: "wx1"
            appSecret: "s3cr3t-value"
            token: "ok123"
            encodingAesKey: "short"
        """);
    Outcome o = run("start", "--config", file.toString());
    assertThat(o.status()).isEqualTo(2);
    assertThat(o.err().strip().lines()).containsExactlyInAnyOrder(
        "server.port: must be a whole number from 0 to 65535",
        "connections[0].encodingAesKey: must be 43 characters [A-Za-z0-9]");
    assertThat(o.err()).doesNotContain("s3cr3t-value");
  }

  @Test
  void startDevRejectsABadConfigBeforeStartingAnything(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("dev.yaml");
    Files.writeString(file, "qr: { sessionTtl: forever }\ntokens: { keyEncryptionKey: \"0123456789abcdef0123456789abcdef\" }\n");
    Outcome o = run("start-dev", "--config", file.toString(), "--port", "0");
    assertThat(o.status()).isEqualTo(2);
    assertThat(o.err()).contains("qr.sessionTtl: must be an ISO-8601 duration");
    assertThat(o.out()).doesNotContain("ready");
  }

  @Test
  void aPortOutOfRangeIsAUsageError() {
    Outcome o = run("start-dev", "--port", "70000");
    assertThat(o.status()).isEqualTo(2);
    assertThat(o.err()).contains("--port must be 0-65535");
  }
}
