package io.scangate.outage;

import io.scangate.ScanGate;
import io.scangate.testing.Await;
import io.scangate.testing.Gateways;
import io.scangate.testing.LocalRedis;
import io.scangate.testing.SseClient;
import io.scangate.testing.TestConfigs;
import io.scangate.testing.TestHttp;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.Map;

import static io.scangate.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Redis goes down and comes back (a Redis of the test's own, on its own port, keeping its data on
 * disk): new sessions are refused with a 503 naming Redis, waiting browsers are told and reconnect,
 * readiness says Redis is down; once it is back both instances work again without a restart, their
 * pub/sub subscriptions included: a confirm on instance A reaches the browser waiting on instance B.
 */
@ExtendWith(VertxExtension.class)
class RedisOutageTest {

  static final String YAML = TestConfigs.STANDARD_YAML.replace("tokens:\n", "tokens:\n  issuer: \"https://login.test.example\"\n");

  final Gateways gateways = new Gateways();
  LocalRedis redis;

  @AfterEach
  void stop() {
    gateways.closeAll();
    if (redis != null) redis.close();
  }

  @Test
  void aRedisOutageFailsClearlyAndEverythingRecoversWithoutARestart(Vertx vertx) throws Exception {
    redis = LocalRedis.persistent();
    int port = redis.ports().get(0);
    Map<String, String> env = TestConfigs.testEnv();
    env.put("TEST_REDIS_URL", "redis://127.0.0.1:" + port);
    ScanGate a = gateways.start(vertx, TestConfigs.parse(YAML, env));
    ScanGate b = gateways.start(vertx, TestConfigs.parse(YAML, env));
    WebClient phone = TestHttp.client(vertx, a.port());
    WebClient browser = TestHttp.client(vertx, b.port());
    String qrChannel = a.infrastructure().keys().channel("qr");

    // A browser on B waits for its session, by SSE and by long poll.
    JsonObject session = createSession(browser);
    String id = session.getString("sessionId");
    SseClient sse = new SseClient(vertx, b.port(), "/api/v1/qr/sessions/" + id + "/events");
    assertThat(sse.awaitEvents(1).get(0).json().getString("status")).isEqualTo("PENDING");
    Future<HttpResponse<Buffer>> longPoll = browser.get("/api/v1/qr/sessions/" + id + "?waitSeconds=50&since=PENDING").send();
    Thread.sleep(300);

    redis.kill(port);

    // The waiting browsers are told once Redis has stayed away past the grace (10 s; a failover is
    // usually quicker and goes unnoticed): an error event, a retry hint and the end of the stream; the long poll a 503.
    List<SseClient.Event> events = sse.awaitEvents(2);
    assertThat(events.get(1).name()).isEqualTo("error");
    assertThat(events.get(1).json().getString("error")).isEqualTo("service_unavailable");
    assertThat(events.get(1).json().getString("message")).contains("Redis");
    sse.awaitEnd();
    assertThat(sse.retries()).containsExactly(2_000L);
    sse.close();
    HttpResponse<Buffer> polled = await(longPoll);
    assertThat(polled.statusCode()).isEqualTo(503);
    assertThat(polled.bodyAsJsonObject().getString("message")).contains("Redis");

    // New sessions: 503 naming Redis (at once: nothing waits for a grace here). Readiness: Redis down, PostgreSQL up.
    HttpResponse<Buffer> refused = await(phone.post("/api/v1/qr/sessions")
        .sendJsonObject(new JsonObject().put("appId", "demo").put("connection", "wechat-mini-qr")));
    assertThat(refused.statusCode()).isEqualTo(503);
    assertThat(refused.bodyAsJsonObject().getString("error")).isEqualTo("service_unavailable");
    assertThat(refused.bodyAsJsonObject().getString("message")).isEqualTo("Redis is unavailable; try again shortly");
    HttpResponse<Buffer> ready = await(phone.get("/health/ready").send());
    assertThat(ready.statusCode()).isEqualTo(503);
    assertThat(ready.bodyAsJsonObject().getJsonObject("checks"))
        .isEqualTo(new JsonObject().put("redis", "DOWN").put("postgres", "UP"));
    // A reconnecting browser during the outage gets a clear 503 too.
    HttpResponse<Buffer> read = await(browser.get("/api/v1/qr/sessions/" + id).send());
    assertThat(read.statusCode()).isEqualTo(503);

    redis.restart(port);

    // No restart of the gateways: both become ready, and both subscriptions come back.
    for (ScanGate g : List.of(a, b)) {
      WebClient c = TestHttp.client(vertx, g.port());
      assertThat(Await.until(() -> await(c.get("/health/ready").send()).statusCode() == 200, 30_000)).isTrue();
    }
    assertThat(Await.until(() -> subscribers(port, qrChannel) == 2, 30_000)).as("both QR hubs subscribed again").isTrue();

    // The browser reconnects to its session (kept on disk by Redis) and the login goes on:
    // the phone talks to A, the browser's stream on B hears every change through pub/sub.
    try (SseClient again = new SseClient(vertx, b.port(), "/api/v1/qr/sessions/" + id + "/events")) {
      assertThat(again.awaitEvents(1).get(0).json().getString("status")).isEqualTo("PENDING");
      JsonObject codes = wxLogin(phone, "o-after-outage");
      HttpResponse<Buffer> scanned = post(phone, "/api/v1/miniprogram/qr/" + session.getString("scene") + "/scan",
          new JsonObject().put("connection", "wechat-mini-qr").put("code", codes.getString("code")));
      assertThat(scanned.statusCode()).as(scanned.bodyAsString()).isEqualTo(200);
      HttpResponse<Buffer> confirmed = post(phone, "/api/v1/miniprogram/qr/" + session.getString("scene") + "/confirm",
          new JsonObject().put("scanToken", scanned.bodyAsJsonObject().getString("scanToken")));
      assertThat(confirmed.statusCode()).as(confirmed.bodyAsString()).isEqualTo(200);
      List<SseClient.Event> after = again.awaitEvents(3);
      assertThat(after).extracting(e -> e.json().getString("status")).containsExactly("PENDING", "SCANNED", "CONFIRMED");
      String ticket = after.get(2).json().getString("ticket");
      HttpResponse<Buffer> exchanged = post(browser, "/api/v1/qr/exchange", new JsonObject().put("ticket", ticket));
      assertThat(exchanged.statusCode()).as(exchanged.bodyAsString()).isEqualTo(200);
    }

    // And new sessions work again, on either instance.
    assertThat(createSession(phone).getString("status")).isEqualTo("PENDING");
  }

  private static JsonObject createSession(WebClient client) {
    HttpResponse<Buffer> r = post(client, "/api/v1/qr/sessions", new JsonObject().put("appId", "demo").put("connection", "wechat-mini-qr"));
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
    return r.bodyAsJsonObject();
  }

  private static JsonObject wxLogin(WebClient client, String openid) {
    HttpResponse<Buffer> r = post(client, "/sandbox/control/miniprogram/code",
        new JsonObject().put("appId", "wxtestmini000001").put("openid", openid));
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
    return r.bodyAsJsonObject();
  }

  private static HttpResponse<Buffer> post(WebClient client, String path, JsonObject body) {
    return await(client.post(path).sendJsonObject(body));
  }

  private int subscribers(int port, String channel) {
    try {
      String[] out = redis.cli(port, "PUBSUB", "NUMSUB", channel).trim().split("\\s+");
      return Integer.parseInt(out[out.length - 1]);
    } catch (Exception e) {
      return -1;
    }
  }
}
