package io.scangate.outage;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.scangate.ScanGate;
import io.scangate.ops.Metrics;
import io.scangate.testing.Await;
import io.scangate.testing.TestConfigs;
import io.scangate.testing.TestHttp;
import io.scangate.wechat.WeChatClient;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static io.scangate.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * WeChat slow or failing on purpose (the sandbox's fault control): the browser and the phone get a
 * clear 503 naming WeChat, the circuit breaker stops calls from piling up on a dead WeChat, no
 * request or connection is left hanging, and once WeChat answers again the breaker closes by itself.
 */
class WeChatOutageTest {

  /** Short timeouts so the test runs quickly: 400 ms per attempt, 2 attempts, open after 3 failures for 1.5 s. */
  static final WeChatClient.Settings FAST = WeChatClient.Settings.defaults()
      .withCallTimeout(Duration.ofMillis(400)).withRetries(2, Duration.ofMillis(20)).withBreaker(3, Duration.ofMillis(1500));

  PrometheusMeterRegistry registry;
  Vertx vertx;
  /** The test's own Vert.x for its HTTP client, so the gateway's client metrics count only the gateway's calls. */
  Vertx testVertx;
  ScanGate gateway;
  WebClient http;

  @BeforeEach
  void start() {
    WeChatClient.settingsForNewClients(FAST);
    registry = Metrics.newRegistry();
    vertx = Metrics.vertxWithMetrics(registry, new VertxOptions());
    gateway = await(vertx.executeBlocking(() -> null).compose(x ->
        ScanGate.start(vertx, TestConfigs.standard(), new ScanGate.Options(true, registry, 1))));
    testVertx = Vertx.vertx();
    http = TestHttp.client(testVertx, gateway.port());
  }

  @AfterEach
  void stop() {
    WeChatClient.settingsForNewClients(null);
    if (gateway != null) await(gateway.close());
    if (vertx != null) await(vertx.close());
    if (testVertx != null) await(testVertx.close());
  }

  @Test
  void aFailingWeChatOpensTheBreakerThenItClosesWhenWeChatRecovers() throws Exception {
    fault(new JsonObject().put("api", "sns/jscode2session").put("httpStatus", 502));
    String scene = newSession();

    for (int i = 0; i < 8; i++) {
      HttpResponse<Buffer> r = scan(scene, code("o-outage"));
      assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(503);
      assertThat(r.bodyAsJsonObject().getString("error")).isEqualTo("wechat_unavailable");
      assertThat(r.bodyAsJsonObject().getString("message")).contains("WeChat");
    }
    // Only the calls before the breaker opened reached WeChat: 3 failures, not 8 scans × 2 attempts.
    assertThat(hits("sns/jscode2session")).isEqualTo(3);
    assertThat(scrape()).contains("scangate_wechat_breaker_state{host=\"127.0.0.1\"} 2.0")
        .containsPattern("scangate_wechat_errors_total\\{api=\"sns/jscode2session\",errcode=\"http_502\"} 3.0")
        .containsPattern("scangate_wechat_errors_total\\{api=\"sns/jscode2session\",errcode=\"circuit_open\"} [1-9]");

    // WeChat recovers; after the pause one call tries it (half-open), succeeds, and the breaker closes.
    reset();
    assertThat(Await.until(() -> scrape().contains("scangate_wechat_breaker_state{host=\"127.0.0.1\"} 1.0")
        || scrape().contains("scangate_wechat_breaker_state{host=\"127.0.0.1\"} 0.0"), 10_000)).isTrue();
    HttpResponse<Buffer> ok = scan(scene, code("o-back"));
    assertThat(ok.statusCode()).as(ok.bodyAsString()).isEqualTo(200);
    assertThat(scrape()).contains("scangate_wechat_breaker_state{host=\"127.0.0.1\"} 0.0");
    assertThat(hits("sns/jscode2session")).isEqualTo(1); // counts restart at the reset
  }

  @Test
  void aWeChatErrcodeMinusOneCountsAsAnOutageButACodeWeChatRejectsDoesNot() throws Exception {
    fault(new JsonObject().put("api", "*").put("errcode", -1));
    String scene = newSession();
    for (int i = 0; i < 3; i++) assertThat(scan(scene, code("o-busy")).statusCode()).isEqualTo(503);
    assertThat(scrape()).contains("scangate_wechat_breaker_state{host=\"127.0.0.1\"} 2.0");
    reset();
    assertThat(Await.until(() -> scan200(scene), 10_000)).isTrue();

    // WeChat refusing a used code is the caller's problem, not an outage: the breaker stays closed.
    fault(new JsonObject().put("api", "sns/jscode2session").put("errcode", 40029));
    for (int i = 0; i < 6; i++) {
      HttpResponse<Buffer> r = scan(newSession(), code("o-bad"));
      assertThat(r.statusCode()).isEqualTo(400);
      assertThat(r.bodyAsJsonObject().getString("error")).isEqualTo("invalid_code");
    }
    assertThat(scrape()).contains("scangate_wechat_breaker_state{host=\"127.0.0.1\"} 0.0");
  }

  @Test
  void aSlowWeChatIsCutOffByTheTimeoutAndLeavesNoRequestOrConnectionBehind() throws Exception {
    // WeChat takes 30 s to answer anything: far beyond the 400 ms call timeout.
    fault(new JsonObject().put("api", "*").put("delayMs", 30_000));
    String scene = newSession();
    long started = System.nanoTime();
    for (int i = 0; i < 6; i++) {
      HttpResponse<Buffer> r = scan(scene, code("o-slow"));
      assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(503);
      assertThat(r.bodyAsJsonObject().getString("error")).isEqualTo("wechat_unavailable");
    }
    // Bounded: six scans are answered long before the sandbox's first answer would have come.
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(25));
    assertThat(hits("sns/jscode2session")).isEqualTo(3);
    // Nothing left in flight towards WeChat: timed-out requests closed their connections.
    assertThat(scrape()).contains("vertx_http_client_active_requests", "vertx_http_client_active_connections");
    assertThat(Await.until(() -> gauge("vertx_http_client_active_requests") == 0, 10_000))
        .as(scrape()).isTrue();
    assertThat(Await.until(() -> gauge("vertx_http_client_active_connections") == 0, 10_000))
        .as(scrape()).isTrue();

    reset();
    assertThat(Await.until(() -> scan200(scene), 10_000)).isTrue();
  }

  @Test
  void theFaultControlChecksItsInput() {
    HttpResponse<Buffer> unknownApi = await(http.post("/sandbox/control/wechat/faults")
        .sendJsonObject(new JsonObject().put("api", "cgi-bin/nope").put("errcode", -1)));
    assertThat(unknownApi.statusCode()).isEqualTo(400);
    assertThat(unknownApi.bodyAsJsonObject().getString("message")).contains("sns/jscode2session");
    HttpResponse<Buffer> nothing = await(http.post("/sandbox/control/wechat/faults").sendJsonObject(new JsonObject()));
    assertThat(nothing.statusCode()).isEqualTo(400);
    HttpResponse<Buffer> badStatus = await(http.post("/sandbox/control/wechat/faults")
        .sendJsonObject(new JsonObject().put("httpStatus", 200)));
    assertThat(badStatus.statusCode()).isEqualTo(400);
    HttpResponse<Buffer> form = await(http.post("/sandbox/control/wechat/faults")
        .putHeader("Content-Type", "text/plain").sendBuffer(Buffer.buffer("{\"errcode\":-1}")));
    assertThat(form.statusCode()).isEqualTo(415);
    HttpResponse<Buffer> crossSite = await(http.post("/sandbox/control/wechat/faults")
        .putHeader("Origin", "https://evil.example").sendJsonObject(new JsonObject().put("errcode", -1)));
    assertThat(crossSite.statusCode()).isEqualTo(403);
    assertThat(await(http.get("/sandbox/control/wechat/faults").send()).bodyAsJsonObject().getJsonObject("faults"))
        .isEqualTo(new JsonObject());
  }

  // ---- helpers

  private void fault(JsonObject fault) {
    HttpResponse<Buffer> r = await(http.post("/sandbox/control/wechat/faults").sendJsonObject(fault));
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
  }

  private void reset() {
    assertThat(await(http.post("/sandbox/control/wechat/faults/reset").sendJsonObject(new JsonObject())).statusCode()).isEqualTo(200);
  }

  private long hits(String api) {
    JsonObject body = await(http.get("/sandbox/control/wechat/faults").send()).bodyAsJsonObject();
    return body.getJsonObject("hits").getLong(api, 0L);
  }

  private String newSession() {
    HttpResponse<Buffer> r = await(http.post("/api/v1/qr/sessions")
        .sendJsonObject(new JsonObject().put("appId", "demo").put("connection", "wechat-mini-qr")));
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
    return r.bodyAsJsonObject().getString("scene");
  }

  private String code(String openid) {
    HttpResponse<Buffer> r = await(http.post("/sandbox/control/miniprogram/code")
        .sendJsonObject(new JsonObject().put("appId", "wxtestmini000001").put("openid", openid)));
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
    return r.bodyAsJsonObject().getString("code");
  }

  private HttpResponse<Buffer> scan(String scene, String code) {
    return await(http.post("/api/v1/miniprogram/qr/" + scene + "/scan")
        .sendJsonObject(new JsonObject().put("connection", "wechat-mini-qr").put("code", code)));
  }

  private boolean scan200(String scene) {
    return scan(scene, code("o-retry")).statusCode() == 200;
  }

  private String scrape() {
    return await(http.get("/metrics").send()).bodyAsString();
  }

  /** The sum of a gauge's series (all remotes). */
  private double gauge(String name) {
    double sum = 0;
    for (String line : scrape().split("\n")) {
      if (line.startsWith(name + "{") || line.startsWith(name + " ")) sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
    }
    return sum;
  }
}
