package io.scangate;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The {@code /admin} page in real Chromium against the shaded jar in start-dev
 * (src/test/e2e/admin-page.mjs): an administrator logs in by scanning with the sandbox, blocks a
 * user and sees the audit entry; a non-administrator who scans is refused. Runs with -Pe2e.
 */
class AdminPageE2EIT {

  @Test
  void anAdministratorBlocksAUserFromThePageAndOthersAreRefused(@TempDir Path dir) throws Exception {
    BrowserQrLoginE2EIT.installNodeDependencies();
    // conf/dev.yaml with one administrator, named by the openid the sandbox phone will scan with.
    Path config = dir.resolve("dev-admin.yaml");
    Files.writeString(config, ShadedJarIT.devYaml() + "\nadmin:\n  users: [\"openid:o-admin-e2e\"]\n");
    Map<String, String> env = ShadedJarIT.serverEnv();
    try (ShadedJarIT.RunningJar jar = new ShadedJarIT.RunningJar(
        List.of("start-dev", "--port", "0", "--config", config.toString()), env, true)) {
      String base = jar.awaitReady();
      Process node = new ProcessBuilder("node", "admin-page.mjs", base, "o-admin-e2e")
          .directory(BrowserQrLoginE2EIT.E2E.toFile()).redirectErrorStream(true).start();
      String output = new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(node.waitFor(180, TimeUnit.SECONDS)).isTrue();
      assertThat(node.exitValue()).as(output).isZero();
      assertThat(output).contains("admin logged in by scanning")
          .contains("admin sees the audit entry")
          .contains("a non-admin who scans is refused")
          .contains("admin page: OK");
      jar.stop();
    }
  }
}
