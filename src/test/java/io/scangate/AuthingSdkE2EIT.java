package io.scangate;

import io.scangate.dev.FreePort;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Authing's real SDKs against start-dev (docs/migrating-from-authing.md), with -Pe2e: the web SDK
 * (authing-js-sdk's browser bundle) in Debian's chromium on a page of an allowed origin, and the
 * mini program SDK (authing-wxapp-sdk) in node; the scripts live in src/test/e2e.
 */
class AuthingSdkE2EIT {

  static final Path E2E = Path.of("src/test/e2e");

  @Test
  void authingsWebAndMiniProgramSdksLogInAgainstScanGate() throws Exception {
    BrowserQrLoginE2EIT.installNodeDependencies();
    int pagePort = FreePort.find();
    // conf/dev.yaml, with the test page's origin allowed and codes that expire in 15 s (the
    // script waits for one to expire).
    String dev = ShadedJarIT.devYaml();
    String yaml = dev
        .replace("allowedOrigins: [\"http://127.0.0.1:8080\", \"http://localhost:8080\"]",
            "allowedOrigins: [\"http://127.0.0.1:" + pagePort + "\"]")
        .replace("sessionTtl: PT2M", "sessionTtl: PT15S");
    assertThat(yaml).contains("127.0.0.1:" + pagePort).contains("PT15S");
    Path config = Files.createTempFile("scangate-authing-e2e", ".yaml");
    Files.writeString(config, yaml);
    Map<String, String> env = ShadedJarIT.serverEnv();
    try (ShadedJarIT.RunningJar jar = new ShadedJarIT.RunningJar(
        List.of("start-dev", "--config", config.toString(), "--port", "0"), env, true)) {
      String base = jar.awaitReady();
      String web = node("authing-web.mjs", base, Integer.toString(pagePort));
      assertThat(web).contains("Authing web SDK login: user", "token verified against the JWKS",
          "onCancel fired", "rendered for wechat-mp", "onExpired fired");
      String wxapp = node("authing-wxapp.mjs", base);
      assertThat(wxapp).contains("Authing mini program SDK loginByCode: user");
      jar.stop();
    } finally {
      Files.deleteIfExists(config);
    }
  }

  private static String node(String... args) throws Exception {
    List<String> command = new java.util.ArrayList<>(List.of("node"));
    command.addAll(List.of(args));
    Process node = new ProcessBuilder(command).directory(E2E.toFile()).redirectErrorStream(true).start();
    String output = new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(node.waitFor(180, TimeUnit.SECONDS)).isTrue();
    assertThat(node.exitValue()).as(output).isZero();
    return output;
  }
}
