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
 * Single sign-on and the login page opened directly, in a real browser (src/test/e2e/sso-login.mjs;
 * docs/oidc.md): after one scan on application A's hosted page, application B's /oidc/auth answers
 * the same browser at once with a code (no page, no QR session), prompt=none too, but never for a
 * loopback redirect URI; /login?app_id= asks for a scan even then and its code redeems with the app
 * secret; /oidc/logout and an administrator's "log out everywhere" (/admin/api) end the session, so
 * B's page asks for a scan again. Runs with -Pe2e.
 */
class SsoE2EIT {

  static final String ADMIN_KEY = "sso-e2e-admin-key-0123456789abcdef";

  @Test
  void oneScanLogsTheBrowserIntoTwoApplicationsUntilLogout() throws Exception {
    BrowserQrLoginE2EIT.installNodeDependencies();
    // conf/dev.yaml plus two applications that enable the same connection, with redirect URIs on
    // made-up (non-loopback) hosts that the script's Chromium maps to its own page server on
    // 127.0.0.1:sitePort, and an admin api key.
    int sitePort = FreePort.find();
    String applications = """
          - appId: "sso-a"
            appSecret: "sso-a-secret-for-the-e2e-test"
            name: "Application A"
            redirectUris: ["http://a.sso.test:%1$d/callback"]
            callbackUrl: "http://a.sso.test:%1$d/direct-callback"
            connections: ["wechat-mini-qr"]
          - appId: "sso-b"
            name: "Application B"
            redirectUris: ["http://b.sso.test:%1$d/callback"]
            connections: ["wechat-mini-qr"]
        """.formatted(sitePort);
    String yaml = ShadedJarIT.devYaml().replace("\nconnections:\n", "\n" + applications + "connections:\n")
        + "admin:\n  apiKeys: [\"" + ADMIN_KEY + "\"]\nrateLimits:\n  sessionsPerMinutePerIp: 600\n";
    assertThat(yaml).contains("appId: \"sso-a\"", "appId: \"sso-b\"", "b.sso.test:" + sitePort, ADMIN_KEY);
    Path config = Files.createTempFile("scangate-sso-e2e", ".yaml");
    Files.writeString(config, yaml);
    Map<String, String> env = ShadedJarIT.serverEnv();
    try (ShadedJarIT.RunningJar jar = new ShadedJarIT.RunningJar(
        List.of("start-dev", "--config", config.toString(), "--port", "0"), env, true)) {
      String base = jar.awaitReady();
      Process node = new ProcessBuilder("node", "sso-login.mjs", base, ADMIN_KEY, Integer.toString(sitePort))
          .directory(BrowserQrLoginE2EIT.E2E.toFile()).redirectErrorStream(true).start();
      String output = new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(node.waitFor(180, TimeUnit.SECONDS)).isTrue();
      assertThat(node.exitValue()).as(output).isZero();
      assertThat(output).contains(
          "SSO: application A logged",
          "SSO: application B got a code at once (302, no page, no QR session), and with prompt=none",
          "SSO: another browser, prompt=none → login_required",
          "SSO refused for a loopback redirect URI: the page, and login_required with prompt=none",
          "/login?app_id=: asked for a scan despite the session, callbackUrl got a code, redeemed with the secret (Direct Lei)",
          "SSO: after /login?app_id=, application B gets a code at once for the new scanner",
          "SSO after /oidc/logout: B shows the page again; prompt=none → login_required",
          "SSO after log out everywhere (/admin/api): A shows the page again; prompt=none → login_required",
          "Single sign-on in the browser: OK");
      System.out.println(output);
      jar.stop();
    } finally {
      Files.deleteIfExists(config);
    }
  }
}
