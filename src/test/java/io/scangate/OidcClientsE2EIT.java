package io.scangate;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Node's standard OIDC libraries on their defaults against the shaded jar in start-dev:
 * {@code jose} verifies our tokens from the JWK set, {@code openid-client} (current major)
 * discovers, refreshes (validating the id token), reads userinfo, runs the code flow with PKCE and logs out
 * (src/test/e2e/oidc-clients.mjs).
 * Runs with -Pe2e.
 */
class OidcClientsE2EIT {

  @Test
  void joseAndOpenidClientAcceptOurTokens() throws Exception {
    BrowserQrLoginE2EIT.installNodeDependencies();
    Map<String, String> env = ShadedJarIT.serverEnv();
    try (ShadedJarIT.RunningJar jar = new ShadedJarIT.RunningJar(List.of("start-dev", "--port", "0"), env, true)) {
      String base = jar.awaitReady();
      Process node = new ProcessBuilder("node", "oidc-clients.mjs", base).directory(BrowserQrLoginE2EIT.E2E.toFile())
          .redirectErrorStream(true).start();
      String output = new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(node.waitFor(120, TimeUnit.SECONDS)).isTrue();
      assertThat(node.exitValue()).as(output).isZero();
      assertThat(output).contains("jose verified the access token: alg RS256")
          .contains("openid-client refreshed and validated the id token")
          .contains("openid-client completed the code flow with PKCE")
          .contains("openid-client logged out: the single sign-on session is over")
          .contains("OIDC clients: OK");
      jar.stop();
    }
  }
}
