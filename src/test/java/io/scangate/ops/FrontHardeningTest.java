package io.scangate.ops;

import io.scangate.ScanGate;
import io.scangate.dev.FreePort;
import io.scangate.testing.Gateways;
import io.scangate.testing.RawHttp;
import io.scangate.testing.TestConfigs;
import io.scangate.testing.TestHttp;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static io.scangate.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/** What a public deployment and a developer's machine need from the HTTP front (issue 19's headers, DNS rebinding, metrics port). */
@ExtendWith(VertxExtension.class)
class FrontHardeningTest {

  private final Gateways gateways = new Gateways();

  @AfterEach
  void stop() {
    gateways.closeAll();
  }

  @Test
  void everyAnswerForbidsSniffingAndPagesForbidFramingAndReferrers(Vertx vertx) {
    ScanGate gateway = gateways.start(vertx, TestConfigs.standard());
    WebClient client = TestHttp.client(vertx, gateway.port());
    for (HttpResponse<Buffer> r : java.util.List.of(
        await(client.get("/health/live").send()),
        await(client.get("/no/such/thing").send()),
        await(client.post("/api/v1/qr/sessions").sendJsonObject(new JsonObject())),
        await(client.post("/oidc/token").send()))) {
      assertThat(r.getHeader("X-Content-Type-Options")).as(r.bodyAsString()).isEqualTo("nosniff");
    }
    for (String page : new String[] {"/qr/AAAAAAAAAAAAAAAAAAAAAA", "/", "/sandbox/phone"}) {
      HttpResponse<Buffer> r = await(client.get(page).send());
      assertThat(r.statusCode()).as(page).isEqualTo(200);
      assertThat(r.getHeader("Content-Security-Policy")).as(page).contains("frame-ancestors 'none'").contains("default-src");
      assertThat(r.getHeader("Referrer-Policy")).as(page).isEqualTo("no-referrer");
      assertThat(r.getHeader("X-Frame-Options")).as(page).isEqualTo("DENY");
    }
    assertThat(await(client.get("/qr/AAAAAAAAAAAAAAAAAAAAAA").send()).getHeader("Content-Security-Policy"))
        .as("the landing page runs no script").contains("default-src 'none'").doesNotContain("script-src");
  }

  @Test
  void startDevAnswersOnlyItsOwnHostNamesAgainstDnsRebinding(Vertx vertx) throws Exception {
    ScanGate gateway = gateways.start(vertx, TestConfigs.standard());
    int port = gateway.port();
    for (String host : new String[] {"127.0.0.1:" + port, "localhost:" + port, "[::1]:" + port}) {
      String answer = RawHttp.exchange(port, "GET /health/live HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n");
      assertThat(RawHttp.status(answer)).as(host).isEqualTo(200);
    }
    for (String host : new String[] {"evil.example:" + port, "localhost:1", "127.0.0.1", "attacker.127.0.0.1.nip.io:" + port}) {
      String answer = RawHttp.exchange(port, "GET /health/live HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n");
      assertThat(RawHttp.status(answer)).as(host).isEqualTo(403);
      assertThat(answer).contains("host_not_allowed");
    }
    // The sandbox forges logins: another site's page may not call it, not even with a "simple" request.
    WebClient client = TestHttp.client(vertx, port);
    JsonObject code = new JsonObject().put("appId", "wxtestmini000001").put("openid", "o-rebind");
    HttpResponse<Buffer> crossSite = await(client.post("/sandbox/control/miniprogram/code")
        .putHeader("Origin", "http://evil.example").sendJsonObject(code));
    assertThat(crossSite.statusCode()).isEqualTo(403);
    assertThat(crossSite.bodyAsJsonObject().getString("error")).isEqualTo("origin_not_allowed");
    HttpResponse<Buffer> textPlain = await(client.post("/sandbox/control/miniprogram/code")
        .putHeader("Content-Type", "text/plain").sendBuffer(Buffer.buffer(code.encode())));
    assertThat(textPlain.statusCode()).isEqualTo(415);
    HttpResponse<Buffer> ownPage = await(client.post("/sandbox/control/miniprogram/code")
        .putHeader("Origin", "http://127.0.0.1:" + port).sendJsonObject(code));
    assertThat(ownPage.statusCode()).as(ownPage.bodyAsString()).isEqualTo(200);
  }

  @Test
  void withAMetricsPortMetricsAreServedOnlyThere(Vertx vertx) {
    int metricsPort = FreePort.find();
    ScanGate gateway = gateways.start(vertx, TestConfigs.parse(TestConfigs.STANDARD_YAML.replace("server:\n",
        "server:\n  metricsPort: " + metricsPort + "\n")));
    assertThat(gateway.metricsPort()).isEqualTo(metricsPort);
    HttpResponse<Buffer> main = await(TestHttp.client(vertx, gateway.port()).get("/metrics").send());
    assertThat(main.statusCode()).isEqualTo(404);
    HttpResponse<Buffer> metrics = await(TestHttp.client(vertx, metricsPort).get("/metrics").send());
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.bodyAsString()).contains("scangate_qr_waiters");
  }

  @Test
  void misbehavingClientsAreNotLoggedAsOutagesOrBugs(Vertx vertx) throws Exception {
    ScanGate gateway = gateways.start(vertx, TestConfigs.standard());
    int port = gateway.port();
    ch.qos.logback.classic.Logger root = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> seen = new ch.qos.logback.core.read.ListAppender<>();
    seen.start();
    root.addAppender(seen);
    try {
      String hugeChunk = RawHttp.exchange(port, "POST /api/v1/qr/sessions HTTP/1.1\r\nHost: 127.0.0.1:" + port
          + "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFF\r\n{}\r\n0\r\n\r\n");
      assertThat(hugeChunk.isEmpty() ? 400 : RawHttp.status(hugeChunk)).as(hugeChunk).isEqualTo(400);
      // A client that promises 1000 bytes, sends 10 and hangs up.
      try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
        socket.getOutputStream().write(("POST /api/v1/qr/sessions HTTP/1.1\r\nHost: 127.0.0.1:" + port
            + "\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"appId\":1").getBytes());
        socket.getOutputStream().flush();
        Thread.sleep(200);
      }
      // The server learns of the hang-up asynchronously: a request that sees it afterwards proves it was handled.
      Thread.sleep(500);
      assertThat(await(TestHttp.client(vertx, port).get("/health/live").send()).statusCode()).isEqualTo(200);
      assertThat(seen.list).filteredOn(e -> e.getLevel().isGreaterOrEqual(ch.qos.logback.classic.Level.WARN))
          .extracting(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage)
          .noneMatch(m -> m.contains("backing service") || m.contains("request failed"));
    } finally {
      root.detachAppender(seen);
    }
  }

  @Test
  void slowClientsAreCutOffButWaitingBrowsersAreNot(Vertx vertx) throws Exception {
    ScanGate gateway = gateways.start(vertx, TestConfigs.parse(TestConfigs.STANDARD_YAML.replace("server:\n",
        "server:\n  readTimeout: PT1S\n  headerTimeout: PT1S\n")));
    int port = gateway.port();
    // Headers, then half the promised body: 408 and closed.
    String halfBody = RawHttp.exchange(port, "POST /api/v1/qr/sessions HTTP/1.1\r\nHost: 127.0.0.1:" + port
        + "\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"appId\":");
    assertThat(RawHttp.status(halfBody)).as(halfBody).isEqualTo(408);
    assertThat(RawHttp.body(halfBody)).contains("request_timeout");

    // What the gateway holds open is not a slow read: a 3 s long poll and a 3 s SSE stream outlive the 1 s timeouts.
    WebClient client = TestHttp.client(vertx, port);
    String id = await(client.post("/api/v1/qr/sessions")
        .sendJsonObject(new JsonObject().put("appId", "demo").put("connection", "wechat-mini-qr"))).bodyAsJsonObject().getString("sessionId");
    try (io.scangate.testing.SseClient sse = new io.scangate.testing.SseClient(vertx, port, "/api/v1/qr/sessions/" + id + "/events")) {
      HttpResponse<Buffer> longPoll = await(client.get("/api/v1/qr/sessions/" + id + "?waitSeconds=3&since=PENDING").send());
      assertThat(longPoll.statusCode()).isEqualTo(200);
      assertThat(sse.events()).hasSize(1);
      assertThat(sse.hasEnded()).as("the stream is still open").isFalse();
    }
  }

  /**
   * Slowloris: heads that never end are cut at the header timeout (1 s here), long before the 90 s
   * idle timeout (RawHttp gives up after 10 s, failing the test), whether the client goes silent or
   * keeps a connection alive by dripping a byte at a time.
   */
  @Test
  void clientsThatNeverFinishTheirHeadersAreCutOff(Vertx vertx) throws Exception {
    ScanGate gateway = gateways.start(vertx, TestConfigs.parse(TestConfigs.STANDARD_YAML.replace("server:\n",
        "server:\n  headerTimeout: PT1S\n")));
    int port = gateway.port();
    // Connects and sends nothing: closed, with no request to answer.
    assertThat(RawHttp.exchange(port, "")).isEmpty();
    // Half a head, then silence.
    assertTimedOut(RawHttp.exchange(port, "GET /health/live HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nAcce"));

    // One byte every 200 ms: the whole head would take about 10 s; the connection ends first.
    byte[] head = ("GET /health/live HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
    try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
      socket.setSoTimeout(10_000);
      int sent = 0;
      try {
        while (sent < head.length && socket.getInputStream().available() == 0) {
          socket.getOutputStream().write(head[sent++]);
          socket.getOutputStream().flush();
          Thread.sleep(200);
        }
      } catch (java.net.SocketException closed) {
        // the server closed it while we dripped
      }
      assertThat(sent).as("cut off before the head was complete").isLessThan(head.length);
      assertTimedOut(readToEnd(socket));
    }

    // Kept alive: requests are answered however long the connection rests between them; each head has its own deadline.
    try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
      socket.setSoTimeout(10_000);
      String request = "GET /health/live HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n\r\n";
      socket.getOutputStream().write(request.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
      assertThat(RawHttp.status(readOneAnswer(socket))).isEqualTo(200);
      Thread.sleep(1_500);
      socket.getOutputStream().write(request.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
      assertThat(RawHttp.status(readOneAnswer(socket))).as("a rest between requests is not a slow head").isEqualTo(200);
      socket.getOutputStream().write(request.substring(0, 20).getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
      assertTimedOut(readToEnd(socket));
    }

    // Everyone else is served as before.
    assertThat(RawHttp.status(RawHttp.exchange(port, "GET /health/live HTTP/1.1\r\nHost: 127.0.0.1:" + port
        + "\r\nConnection: close\r\n\r\n"))).isEqualTo(200);
    assertThat(await(TestHttp.client(vertx, port).get("/health/live").send()).statusCode()).isEqualTo(200);
  }

  private static void assertTimedOut(String answer) {
    assertThat(RawHttp.status(answer)).as(answer).isEqualTo(408);
    assertThat(RawHttp.body(answer)).contains("request_timeout");
    assertThat(answer).contains("Connection: close");
  }

  /** Everything until the server closes the connection (or 10 s pass: a SocketTimeoutException). */
  private static String readToEnd(java.net.Socket socket) throws java.io.IOException {
    java.io.ByteArrayOutputStream answer = new java.io.ByteArrayOutputStream();
    byte[] buffer = new byte[8192];
    try {
      for (int n; (n = socket.getInputStream().read(buffer)) >= 0; ) answer.write(buffer, 0, n);
    } catch (java.net.SocketException reset) {
      // a reset after the answer
    }
    return answer.toString(java.nio.charset.StandardCharsets.UTF_8);
  }

  /** One answer with a Content-Length, leaving the connection open. */
  private static String readOneAnswer(java.net.Socket socket) throws java.io.IOException {
    java.io.InputStream in = socket.getInputStream();
    StringBuilder head = new StringBuilder();
    while (!head.toString().endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) throw new java.io.EOFException("closed after " + head);
      head.append((char) b);
    }
    java.util.regex.Matcher length = java.util.regex.Pattern.compile("(?i)content-length: *(\\d+)").matcher(head);
    assertThat(length.find()).as(head.toString()).isTrue();
    byte[] body = in.readNBytes(Integer.parseInt(length.group(1)));
    return head + new String(body, java.nio.charset.StandardCharsets.UTF_8);
  }

  @Test
  void waitingBrowsersAreCappedPerSessionAndPerAddressAcrossInstances(Vertx vertx) throws Exception {
    String yaml = TestConfigs.STANDARD_YAML.replace("applications:\n", "rateLimits: { waitersPerSession: 2, waitersPerIp: 3 }\napplications:\n");
    java.util.Map<String, String> env = TestConfigs.testEnv();
    ScanGate a = gateways.start(vertx, TestConfigs.parse(yaml, env));
    ScanGate b = gateways.start(vertx, TestConfigs.parse(yaml, env));
    WebClient client = TestHttp.client(vertx, a.port());
    java.util.function.Supplier<String> newSession = () -> await(client.post("/api/v1/qr/sessions")
        .sendJsonObject(new JsonObject().put("appId", "demo").put("connection", "wechat-mini-qr"))).bodyAsJsonObject().getString("sessionId");
    String first = newSession.get();
    String second = newSession.get();
    io.scangate.testing.SseClient onA = new io.scangate.testing.SseClient(vertx, a.port(), "/api/v1/qr/sessions/" + first + "/events");
    io.scangate.testing.SseClient onB = new io.scangate.testing.SseClient(vertx, b.port(), "/api/v1/qr/sessions/" + first + "/events");
    try {
      onA.awaitEvents(1);
      onB.awaitEvents(1);
      // A third browser on the same session, on either instance, is refused.
      HttpResponse<Buffer> third = await(client.get("/api/v1/qr/sessions/" + first + "?waitSeconds=5&since=PENDING").send());
      assertThat(third.statusCode()).isEqualTo(429);
      assertThat(third.bodyAsJsonObject().getString("error")).isEqualTo("too_many_waiters");
      assertThat(third.getHeader("Retry-After")).isNotNull();
      // Another session from the same address: one more fits (3 per address), then no more.
      io.scangate.testing.SseClient fits = new io.scangate.testing.SseClient(vertx, b.port(), "/api/v1/qr/sessions/" + second + "/events");
      fits.awaitEvents(1);
      HttpResponse<Buffer> overIp = await(TestHttp.client(vertx, b.port()).get("/api/v1/qr/sessions/" + second + "/events").send());
      assertThat(overIp.statusCode()).isEqualTo(429);
      fits.close();
    } finally {
      onA.close();
    }
    // A browser that leaves gives its place back.
    long deadline = System.nanoTime() + java.time.Duration.ofSeconds(20).toNanos();
    int status = 0;
    while (System.nanoTime() < deadline && status != 200) {
      status = await(client.get("/api/v1/qr/sessions/" + first + "?waitSeconds=1&since=PENDING").send()).statusCode();
      if (status != 200) Thread.sleep(100);
    }
    assertThat(status).isEqualTo(200);
    onB.close();
  }
}
