package io.scangate;

import io.scangate.config.ScanGateConfig;
import io.scangate.db.Postgres;
import io.scangate.dev.EmbeddedRedis;
import io.scangate.dev.FreePort;
import io.scangate.testing.TestConfigs;
import io.scangate.testing.TestHttp;
import io.scangate.testing.TestServers;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.ServerSocket;
import java.time.Duration;
import java.util.Map;
import java.util.function.Predicate;

import static io.scangate.testing.Await.await;
import static io.scangate.testing.Await.failure;
import static org.assertj.core.api.Assertions.assertThat;

/** Starting, checking and stopping a gateway against real (and deliberately missing) servers. */
@ExtendWith(VertxExtension.class)
class GatewayLifecycleTest {

  /** Polls until the answer satisfies {@code condition}; behaviour, not speed, is what is checked. */
  static HttpResponse<?> pollUntil(WebClient client, String path, Predicate<HttpResponse<?>> condition) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(45).toNanos();
    HttpResponse<?> last = null;
    while (System.nanoTime() < deadline) {
      last = await(client.get(path).send());
      if (condition.test(last)) return last;
      Thread.sleep(100);
    }
    throw new AssertionError("condition not met; last answer " + (last == null ? "none" : last.statusCode() + " " + last.bodyAsString()));
  }

  @Test
  void readinessFollowsRedisDownAndBackWithoutARestart(Vertx vertx) throws Exception {
    int redisPort = FreePort.find();
    EmbeddedRedis redis = EmbeddedRedis.start(redisPort);
    Map<String, String> env = TestConfigs.testEnv();
    env.put("TEST_REDIS_URL", redis.url());
    ScanGate gateway = await(ScanGate.start(vertx, TestConfigs.parse(TestConfigs.STANDARD_YAML, env), ScanGate.Options.dev(null)));
    WebClient client = TestHttp.client(vertx, gateway.port());
    try {
      HttpResponse<?> up = await(client.get("/health/ready").send());
      assertThat(up.statusCode()).isEqualTo(200);
      assertThat(up.bodyAsJsonObject().getJsonObject("checks")).isEqualTo(new JsonObject().put("redis", "UP").put("postgres", "UP"));

      redis.close();
      HttpResponse<?> down = pollUntil(client, "/health/ready", r -> r.statusCode() == 503);
      JsonObject body = down.bodyAsJsonObject();
      assertThat(body.getString("error")).isEqualTo("not_ready");
      assertThat(body.getString("message")).isEqualTo("Redis is unreachable");
      assertThat(body.getJsonObject("checks").getString("postgres")).isEqualTo("UP");
      assertThat(await(client.get("/health/live").send()).statusCode()).isEqualTo(200);
      HttpResponse<?> outage = await(client.post("/api/v1/qr/sessions")
          .sendJsonObject(new JsonObject().put("appId", "demo").put("connection", "wechat-mini-qr")));
      assertThat(outage.statusCode()).isEqualTo(503);
      assertThat(outage.bodyAsJsonObject().getString("error")).isEqualTo("service_unavailable");

      redis = EmbeddedRedis.start(redisPort);
      HttpResponse<?> back = pollUntil(client, "/health/ready", r -> r.statusCode() == 200);
      assertThat(back.bodyAsJsonObject().getString("status")).isEqualTo("UP");
    } finally {
      await(gateway.close());
      redis.close();
    }
  }

  @Test
  void unreachablePostgresFailsTheStartNamingWhere(Vertx vertx) throws Exception {
    int nothingThere = FreePort.find();
    Map<String, String> env = TestConfigs.testEnv();
    env.put("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:" + nothingThere + "/scangate");
    Throwable failure = failure(ScanGate.start(vertx, TestConfigs.parse(TestConfigs.STANDARD_YAML, env), ScanGate.Options.dev(null)));
    assertThat(failure).isInstanceOf(StartupException.class)
        .hasMessageStartingWith("PostgreSQL at 127.0.0.1:" + nothingThere + "/scangate is unreachable");
  }

  @Test
  void unreachableRedisFailsTheStartNamingWhere(Vertx vertx) throws Exception {
    int nothingThere = FreePort.find();
    Map<String, String> env = TestConfigs.testEnv();
    env.put("TEST_REDIS_URL", "redis://127.0.0.1:" + nothingThere);
    Throwable failure = failure(ScanGate.start(vertx, TestConfigs.parse(TestConfigs.STANDARD_YAML, env), ScanGate.Options.dev(null)));
    assertThat(failure).isInstanceOf(StartupException.class)
        .hasMessageStartingWith("Redis at 127.0.0.1:" + nothingThere + " is unreachable");
  }

  @Test
  void aTakenPortFailsTheStartNamingIt(Vertx vertx) throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      ScanGateConfig config = TestConfigs.parse(TestConfigs.STANDARD_YAML.replace("server:\n", "server:\n  port: " + taken.getLocalPort() + "\n"));
      ScanGateConfig pinned = new ScanGateConfig(
          new ScanGateConfig.Server("127.0.0.1", taken.getLocalPort(), config.server().publicUrl(), config.server().trustedProxies()),
          config.redis(), config.postgres(), config.wechat(), config.userPoolId(), config.tokens(), config.qr(),
          config.webhook(), config.rateLimits(), config.applications(), config.connections());
      Throwable failure = failure(ScanGate.start(vertx, pinned, ScanGate.Options.dev(null)));
      assertThat(failure).isInstanceOf(StartupException.class)
          .hasMessageStartingWith("HTTP port " + taken.getLocalPort() + " on 127.0.0.1 is unavailable");
    }
  }

  @Test
  void migrationsRunTwiceAreANoOp(Vertx vertx) throws Exception {
    String url = TestServers.freshDatabaseUrl();
    int first = await(Postgres.migrate(vertx, url));
    assertThat(first).isPositive();
    String schemaBefore = schema(url);
    assertThat(schemaBefore).contains("users.id", "identities.openid", "audit_log.event");
    assertThat(await(Postgres.migrate(vertx, url))).isZero();
    assertThat(schema(url)).isEqualTo(schemaBefore);
  }

  @Test
  void unknownPathsAndBadMethodsGetJsonErrorsWithARequestId(Vertx vertx) throws Exception {
    ScanGate gateway = await(ScanGate.start(vertx, TestConfigs.standard(), ScanGate.Options.dev(null)));
    WebClient client = TestHttp.client(vertx, gateway.port());
    try {
      HttpResponse<?> missing = await(client.get("/no/such/thing").send());
      assertThat(missing.statusCode()).isEqualTo(404);
      assertThat(missing.bodyAsJsonObject().getString("error")).isEqualTo("not_found");
      assertThat(missing.getHeader("X-Request-Id")).matches("[0-9a-f]{16}");
      HttpResponse<?> echoed = await(client.get("/health/live").putHeader("X-Request-Id", "trace-42").send());
      assertThat(echoed.getHeader("X-Request-Id")).isEqualTo("trace-42");
      HttpResponse<?> wrongMethod = await(client.delete("/health/live").send());
      assertThat(wrongMethod.statusCode()).isEqualTo(405);
      assertThat(wrongMethod.bodyAsJsonObject().getString("error")).isEqualTo("method_not_allowed");
      HttpResponse<?> undecodable = await(client.get("/api/v1/qr/sessions/%zz").send());
      assertThat(undecodable.statusCode()).isEqualTo(400);
      assertThat(undecodable.bodyAsJsonObject().getString("error")).isEqualTo("bad_request");
      // OAuth endpoints answer in RFC 6749's shape, even for generic failures.
      HttpResponse<?> oauthMethod = await(client.get("/oidc/token").send());
      assertThat(oauthMethod.statusCode()).isEqualTo(405);
      assertThat(oauthMethod.bodyAsJsonObject().getString("error")).isEqualTo("invalid_request");
      assertThat(oauthMethod.bodyAsJsonObject().getString("error_description")).contains("GET");
      HttpResponse<?> badForm = await(client.post("/oidc/token").putHeader("Content-Type", "application/x-www-form-urlencoded")
          .sendBuffer(io.vertx.core.buffer.Buffer.buffer("grant_type=refresh_token&refresh_token=%zz&client_id=demo")));
      assertThat(badForm.statusCode()).isEqualTo(400);
      assertThat(badForm.bodyAsJsonObject().containsKey("error_description")).as(badForm.bodyAsString()).isTrue();
    } finally {
      await(gateway.close());
    }
  }

  private static String schema(String url) throws Exception {
    var o = Postgres.connectOptions(url);
    try (var c = java.sql.DriverManager.getConnection(Postgres.jdbcUrl(url), o.getUser(), o.getPassword());
         var rs = c.createStatement().executeQuery(
             "SELECT table_name || '.' || column_name || ':' || data_type FROM information_schema.columns "
                 + "WHERE table_schema = 'public' ORDER BY table_name, ordinal_position")) {
      StringBuilder sb = new StringBuilder();
      while (rs.next()) sb.append(rs.getString(1).replaceAll(":.*", "")).append('\n');
      return sb.toString();
    }
  }
}
