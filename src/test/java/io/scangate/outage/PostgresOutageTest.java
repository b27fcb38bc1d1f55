package io.scangate.outage;

import io.scangate.ScanGate;
import io.scangate.db.Postgres;
import io.scangate.testing.Await;
import io.scangate.testing.Gateways;
import io.scangate.testing.LocalPostgres;
import io.scangate.testing.TestConfigs;
import io.scangate.testing.TestHttp;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.Map;

import static io.scangate.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * PostgreSQL goes down and comes back (a server of the test's own, on its own port): a login that
 * needs it answers 503 naming PostgreSQL and its QR session is not confirmed; tokens already issued
 * still verify; once it is back the same login goes through, without restarting the gateway.
 */
@ExtendWith(VertxExtension.class)
class PostgresOutageTest {

  final Gateways gateways = new Gateways();
  LocalPostgres postgres;

  @AfterEach
  void stop() {
    gateways.closeAll();
    if (postgres != null) postgres.close();
  }

  @Test
  void aPostgresOutageRefusesLoginsClearlyKeepsVerifyingTokensAndRecovers(Vertx vertx) throws Exception {
    postgres = LocalPostgres.create();
    String database = postgres.url("scangate_outage");
    Postgres.createDatabaseIfMissing(database);
    Map<String, String> env = TestConfigs.testEnv();
    env.put("TEST_POSTGRES_URL", database);
    ScanGate gateway = gateways.start(vertx, TestConfigs.parse(TestConfigs.STANDARD_YAML, env));
    WebClient browser = TestHttp.client(vertx, gateway.port());
    WebClient phone = TestHttp.client(vertx, gateway.port());

    // Before the outage: one user logged in, and a second login scanned, waiting for its confirm.
    JsonObject before = Logins.login(browser, phone, "o-before");
    String accessToken = before.getJsonObject("tokens").getString("access_token");
    JsonObject session = Logins.createSession(browser);
    String scene = session.getString("scene");
    String scanToken = Logins.scan(phone, scene, "o-during");

    postgres.stop();

    // The confirm needs the user from PostgreSQL: 503 naming PostgreSQL, and the session stays SCANNED.
    HttpResponse<Buffer> confirm = Logins.confirm(phone, scene, scanToken);
    assertThat(confirm.statusCode()).as(confirm.bodyAsString()).isEqualTo(503);
    assertThat(confirm.bodyAsJsonObject().getString("error")).isEqualTo("service_unavailable");
    assertThat(confirm.bodyAsJsonObject().getString("message")).isEqualTo("PostgreSQL is unavailable; try again shortly");
    JsonObject state = Logins.read(browser, session.getString("sessionId"));
    assertThat(state.getString("status")).isEqualTo("SCANNED");
    assertThat(state.containsKey("ticket")).isFalse();

    // Tokens already issued keep working: backends verifying sessions do not notice the outage.
    assertThat(Logins.verify(browser, accessToken)).isEqualTo(200);
    assertThat(Logins.verify(browser, accessToken + "x")).isEqualTo(401);
    // A refresh needs PostgreSQL (refresh tokens live there): a clear 503, not a 500 or an invalid_grant.
    HttpResponse<Buffer> refresh = await(browser.post("/oidc/token").basicAuthentication("demo", "demo-app-secret-for-tests")
        .sendForm(MultiMap.caseInsensitiveMultiMap().add("grant_type", "refresh_token")
            .add("refresh_token", before.getJsonObject("tokens").getString("refresh_token"))));
    assertThat(refresh.statusCode()).as(refresh.bodyAsString()).isEqualTo(503);
    HttpResponse<Buffer> ready = await(browser.get("/health/ready").send());
    assertThat(ready.statusCode()).isEqualTo(503);
    assertThat(ready.bodyAsJsonObject().getJsonObject("checks"))
        .isEqualTo(new JsonObject().put("redis", "UP").put("postgres", "DOWN"));

    postgres.start();

    // No restart: ready again, the same confirm goes through, and the rest of the login too.
    assertThat(Await.until(() -> await(browser.get("/health/ready").send()).statusCode() == 200, 30_000)).isTrue();
    HttpResponse<Buffer> retried = Logins.confirm(phone, scene, scanToken);
    assertThat(retried.statusCode()).as(retried.bodyAsString()).isEqualTo(200);
    String ticket = Logins.read(browser, session.getString("sessionId")).getString("ticket");
    HttpResponse<Buffer> exchanged = Logins.post(browser, "/api/v1/qr/exchange", new JsonObject().put("ticket", ticket));
    assertThat(exchanged.statusCode()).as(exchanged.bodyAsString()).isEqualTo(200);
    assertThat(Logins.verify(browser, exchanged.bodyAsJsonObject().getJsonObject("tokens").getString("access_token"))).isEqualTo(200);
    HttpResponse<Buffer> refreshed = await(browser.post("/oidc/token").basicAuthentication("demo", "demo-app-secret-for-tests")
        .sendForm(MultiMap.caseInsensitiveMultiMap().add("grant_type", "refresh_token")
            .add("refresh_token", before.getJsonObject("tokens").getString("refresh_token"))));
    assertThat(refreshed.statusCode()).as(refreshed.bodyAsString()).isEqualTo(200);
  }
}
