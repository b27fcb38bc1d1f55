package io.scangate;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The start-dev pages in a real browser (Debian's chromium, driven by playwright-core from
 * src/test/e2e): a PC page logs in while a second page plays the phone. Runs with -Pe2e.
 */
class BrowserQrLoginE2EIT {

  static final Path E2E = Path.of("src/test/e2e");

  @Test
  void aPersonLogsInWithTheSandboxPhone() throws Exception {
    installNodeDependencies();
    Map<String, String> env = ShadedJarIT.serverEnv();
    try (ShadedJarIT.RunningJar jar = new ShadedJarIT.RunningJar(List.of("start-dev", "--port", "0"), env, true)) {
      String base = jar.awaitReady();
      Process node = new ProcessBuilder("node", "qr-login.mjs", base).directory(E2E.toFile()).redirectErrorStream(true).start();
      String output = new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(node.waitFor(120, TimeUnit.SECONDS)).isTrue();
      assertThat(node.exitValue()).as(output).isZero();
      assertThat(output).contains("QR login in the browser: CONFIRMED by E2E Mei");
      jar.stop();
    }
  }

  static void installNodeDependencies() throws Exception {
    // Every package of package.json present, or npm ci again (a checkout may hold an older node_modules).
    if (java.util.stream.Stream.of("playwright-core", "authing-js-sdk", "authing-wxapp-sdk", "jose", "openid-client")
        .allMatch(p -> Files.isDirectory(E2E.resolve("node_modules").resolve(p)))) return;
    Process npm = new ProcessBuilder("npm", "ci", "--no-audit", "--no-fund").directory(E2E.toFile()).redirectErrorStream(true).start();
    String output = new String(npm.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(npm.waitFor(300, TimeUnit.SECONDS)).isTrue();
    assertThat(npm.exitValue()).as(output).isZero();
  }
}
