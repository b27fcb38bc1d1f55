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
 * The hosted login page and the browser SDK in a real browser (src/test/e2e/hosted-login.mjs):
 * start-dev's demo application logs in through /oidc/auth by the Official Account and by the mini
 * program code, a code expires and a fresh one logs in, a phone cancels; the page in Chinese and
 * English; the SDK as a module and as a script tag on a page of an allowed origin (success,
 * expiry, cancel), refused on a foreign one; framing only by allowed origins. Screenshots and the
 * page's time-to-code and weight land in target/e2e-artifacts/hosted. Runs with -Pe2e.
 */
class HostedLoginE2EIT {

  static final Path ARTIFACTS = Path.of("target/e2e-artifacts/hosted");

  @Test
  void theDemoLogsInThroughTheHostedPageAndTheSdkWorksOnAnAllowedOrigin() throws Exception {
    BrowserQrLoginE2EIT.installNodeDependencies();
    int pagePort = FreePort.find();
    // conf/dev.yaml, with the test site's origin allowed, codes that expire in 12 s (the script
    // waits for two to expire) and room for the sessions the timing runs create.
    String yaml = ShadedJarIT.devYaml()
        .replace("allowedOrigins: [\"http://127.0.0.1:8080\", \"http://localhost:8080\"]",
            "allowedOrigins: [\"http://127.0.0.1:" + pagePort + "\"]")
        .replace("sessionTtl: PT2M", "sessionTtl: PT12S")
        + "rateLimits:\n  sessionsPerMinutePerIp: 600\n";
    assertThat(yaml).contains("127.0.0.1:" + pagePort, "PT12S", "appId: \"demo-spa\"");
    Path config = Files.createTempFile("scangate-hosted-e2e", ".yaml");
    Files.writeString(config, yaml);
    Map<String, String> env = ShadedJarIT.serverEnv();
    try (ShadedJarIT.RunningJar jar = new ShadedJarIT.RunningJar(
        List.of("start-dev", "--config", config.toString(), "--port", "0"), env, true)) {
      String base = jar.awaitReady();
      Files.createDirectories(ARTIFACTS);
      Process node = new ProcessBuilder("node", "hosted-login.mjs", base, ARTIFACTS.toAbsolutePath().toString(), Integer.toString(pagePort))
          .directory(BrowserQrLoginE2EIT.E2E.toFile()).redirectErrorStream(true).start();
      String output = new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(node.waitFor(400, TimeUnit.SECONDS)).isTrue();
      assertThat(node.exitValue()).as(output).isZero();
      assertThat(output).contains(
          "hosted page, Official Account: the demo shows user",
          "hosted page, mini program: the demo shows Hosted Mei",
          "hosted page in a popup (openLoginPage): the demo shows Popup Mei",
          "hosted page: the code expired, a fresh one logged Fresh Code in",
          "hosted page: cancel on the phone, then a fresh code",
          "hosted page: Chinese and English, switchable",
          "SDK as an ES module (long polls): onSuccess, exchange → SDK module",
          "SDK as an ES module: onCancel",
          "SDK as a script tag (SSE): onSuccess, exchange → SDK script",
          "SDK as a script tag: onExpired",
          "SDK on a foreign origin: refused",
          "the SDK example of the docs logs in: Hello, Example User!",
          "framing: only the application's allowed origins",
          "no CSP violations",
          "Hosted page and SDK: OK");
      for (String shot : List.of("hosted-page-zh-desktop", "hosted-page-zh-phone", "hosted-page-en-desktop", "hosted-page-en-phone",
          "sdk-example")) {
        assertThat(ARTIFACTS.resolve(shot + ".png")).isNotEmptyFile();
      }
      assertThat(ARTIFACTS.resolve("hosted-page-performance.json")).isNotEmptyFile();
      System.out.println(output);
      jar.stop();
    } finally {
      Files.deleteIfExists(config);
    }
  }
}
