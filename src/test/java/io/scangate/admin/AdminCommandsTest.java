package io.scangate.admin;

import io.scangate.Launcher;
import io.scangate.ScanGate;
import io.scangate.testing.Gateways;
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
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static io.scangate.testing.Await.await;
import static io.scangate.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code scangate users ...} and {@code scangate audit} against real PostgreSQL and Redis, next to
 * a running gateway: a block or log out from the command line reaches it within a second.
 */
@ExtendWith(VertxExtension.class)
class AdminCommandsTest {

  final Gateways gateways = new Gateways();
  Vertx vertx;
  ScanGate gateway;
  WebClient http;
  Path configFile;

  record Run(int status, List<JsonObject> lines, String err) {}

  @BeforeEach
  void start(Vertx vertx, @TempDir Path dir) throws Exception {
    this.vertx = vertx;
    Map<String, String> env = TestConfigs.testEnv();
    gateway = gateways.start(vertx, TestConfigs.parse(TestConfigs.STANDARD_YAML, env));
    http = TestHttp.client(vertx, gateway.port());
    // The operator's production file: the same servers, as `start` would read them.
    configFile = dir.resolve("scangate.yaml");
    Files.writeString(configFile, TestConfigs.STANDARD_YAML
        .replace("${TEST_REDIS_URL}", env.get("TEST_REDIS_URL"))
        .replace("${TEST_KEY_PREFIX}", env.get("TEST_KEY_PREFIX"))
        .replace("${TEST_POSTGRES_URL}", env.get("TEST_POSTGRES_URL"))
        .replace("server:\n", "server:\n  publicUrl: \"https://login.example.com\"\n"));
  }

  @AfterEach
  void stop() {
    gateways.closeAll();
  }

  Run scangate(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int status = Launcher.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
    List<JsonObject> lines = Arrays.stream(out.toString().split("\n")).filter(l -> !l.isBlank()).map(JsonObject::new).toList();
    return new Run(status, lines, err.toString());
  }

  JsonObject login(String openid) {
    HttpResponse<Buffer> code = await(http.post("/sandbox/control/miniprogram/code")
        .sendJsonObject(new JsonObject().put("appId", "wxtestmini000001").put("openid", openid)));
    HttpResponse<Buffer> r = await(http.post("/api/v1/miniprogram/login").sendJsonObject(new JsonObject().put("appId", "demo")
        .put("connection", "wechat-mini").put("code", code.bodyAsJsonObject().getString("code"))));
    return r.bodyAsJsonObject().put("status", r.statusCode());
  }

  int verify(String token) {
    return await(http.get("/auth/verify").putHeader("Authorization", "Bearer " + token).send()).statusCode();
  }

  @Test
  void usersAreListedShownBlockedUnblockedAndLoggedOutFromTheCommandLine() {
    JsonObject gina = login("o-gina");
    login("o-hank");
    String id = gina.getJsonObject("user").getString("id");
    String access = gina.getJsonObject("tokens").getString("access_token");

    Run all = scangate("users", "list", "--config", configFile.toString());
    assertThat(all.status()).as(all.err()).isZero();
    assertThat(all.lines()).hasSize(2);
    Run paged = scangate("users", "list", "--config", configFile.toString(), "--limit", "1");
    assertThat(paged.lines()).hasSize(2);
    String cursor = paged.lines().get(1).getString("nextCursor");
    assertThat(cursor).isNotNull();
    Run second = scangate("users", "list", "--config", configFile.toString(), "--limit", "1", "--cursor", cursor);
    assertThat(second.lines()).hasSize(1);
    assertThat(second.lines().get(0).getString("id")).isNotEqualTo(paged.lines().get(0).getString("id"));
    Run found = scangate("users", "list", "--config", configFile.toString(), "--query", "o-gina");
    assertThat(found.lines()).singleElement().satisfies(u -> assertThat(u.getString("id")).isEqualTo(id));

    Run shown = scangate("users", "show", id, "--config", configFile.toString());
    assertThat(shown.status()).as(shown.err()).isZero();
    assertThat(shown.lines().get(0).getBoolean("blocked")).isFalse();
    assertThat(shown.lines().get(0).getJsonArray("identities").getJsonObject(0).getString("lastLoginAt")).isNotNull();

    Run blocked = scangate("users", "block", id, "--config", configFile.toString());
    assertThat(blocked.status()).as(blocked.err()).isZero();
    assertThat(blocked.lines()).containsExactly(new JsonObject().put("id", id).put("blocked", true));
    assertThat(until(() -> verify(access) == 401, 1000)).as("the running gateway refuses the token within a second").isTrue();
    assertThat(login("o-gina").getInteger("status")).isEqualTo(403);
    assertThat(scangate("users", "show", id, "--config", configFile.toString()).lines().get(0).getBoolean("blocked")).isTrue();

    Run unblocked = scangate("users", "unblock", id, "--config", configFile.toString());
    assertThat(unblocked.status()).isZero();
    AdminApiTest.waitForTheNextSecond();
    JsonObject again = login("o-gina");
    assertThat(again.getInteger("status")).isEqualTo(200);

    Run out = scangate("users", "logout", id, "--config", configFile.toString());
    assertThat(out.status()).as(out.err()).isZero();
    assertThat(until(() -> verify(again.getJsonObject("tokens").getString("access_token")) == 401, 1000)).isTrue();
    HttpResponse<Buffer> refresh = await(http.post("/oidc/token").basicAuthentication("demo", "demo-app-secret-for-tests")
        .sendForm(MultiMap.caseInsensitiveMultiMap().add("grant_type", "refresh_token")
            .add("refresh_token", again.getJsonObject("tokens").getString("refresh_token"))));
    assertThat(refresh.statusCode()).isEqualTo(400);

    Run audit = scangate("audit", "--config", configFile.toString(), "--user", id);
    assertThat(audit.status()).as(audit.err()).isZero();
    List<String> types = audit.lines().stream().map(e -> e.getString("type")).toList();
    assertThat(types.subList(0, 3)).containsExactly("user_logout", "login", "user_unblocked");
    assertThat(types).contains("user_blocked", "login_refused");
    JsonObject blockEvent = audit.lines().stream().filter(e -> e.getString("type").equals("user_blocked")).findFirst().orElseThrow();
    assertThat(blockEvent.getJsonObject("detail").getString("by")).isEqualTo("cli");
    assertThat(scangate("audit", "--config", configFile.toString(), "--user", id, "--limit", "2").lines()).hasSize(2);
    assertThat(scangate("audit", "--config", configFile.toString(), "--type", "user_blocked").lines()).hasSize(1);
  }

  @Test
  void mistakesAreExplained() {
    Run unknown = scangate("users", "show", "00000000-0000-4000-8000-000000000000", "--config", configFile.toString());
    assertThat(unknown.status()).isEqualTo(1);
    assertThat(unknown.err()).contains("user_not_found");
    Run badFilter = scangate("audit", "--config", configFile.toString(), "--since", "yesterday");
    assertThat(badFilter.status()).isEqualTo(2);
    assertThat(badFilter.err()).contains("since");
    assertThat(scangate("users", "block").status()).isEqualTo(2);
    assertThat(scangate("users").status()).isEqualTo(2);
  }
}
