package io.scangate.qr;

import com.google.zxing.BinaryBitmap;
import com.google.zxing.DecodeHintType;
import com.google.zxing.client.j2se.BufferedImageLuminanceSource;
import com.google.zxing.common.HybridBinarizer;
import com.google.zxing.qrcode.QRCodeReader;
import io.scangate.ScanGate;
import io.scangate.config.ScanGateConfig;
import io.scangate.testing.SseClient;
import io.scangate.testing.Gateways;
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
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static io.scangate.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/** QR sessions as the PC browser sees them, with the phone's side driven through the store. */
@ExtendWith(VertxExtension.class)
class QrSessionTest {

  private final Gateways gateways = new Gateways();

  ScanGate start(Vertx vertx, ScanGateConfig config) {
    return gateways.start(vertx, config);
  }

  @AfterEach
  void stop() {
    gateways.closeAll();
  }

  static QrSessionStore storeOf(ScanGate g) {
    var infra = g.infrastructure();
    return new QrSessionStore(infra.redis(), infra.keys(), infra.config().qr());
  }

  static JsonObject createSession(WebClient client, String appId, String connection) throws Exception {
    HttpResponse<Buffer> r = await(client.post("/api/v1/qr/sessions")
        .sendJsonObject(new JsonObject().put("appId", appId).put("connection", connection)));
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
    return r.bodyAsJsonObject();
  }

  @Test
  void aNewSessionKeepsItsIdOutOfTheCodeAndTheImageUrl(Vertx vertx) throws Exception {
    ScanGate g = start(vertx, TestConfigs.standard());
    WebClient client = TestHttp.client(vertx, g.port());
    JsonObject s = createSession(client, "demo", "wechat-mini-qr");
    String publicUrl = g.infrastructure().config().server().publicUrl();

    assertThat(s.getString("status")).isEqualTo("PENDING");
    assertThat(s.getString("connection")).isEqualTo("wechat-mini-qr");
    assertThat(s.getString("sessionId")).matches("[A-Za-z0-9_-]{43}");
    assertThat(s.getString("scene")).matches("[A-Za-z0-9_-]{22}").isNotEqualTo(s.getString("sessionId"));
    assertThat(s.getString("qrContent")).isEqualTo(publicUrl + "/qr/" + s.getString("scene"));
    assertThat(s.getString("qrcodeUrl")).startsWith(publicUrl).doesNotContain(s.getString("sessionId"));
    assertThat(s.getString("expiresAt")).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ");

    JsonObject read = await(client.get("/api/v1/qr/sessions/" + s.getString("sessionId")).send()).bodyAsJsonObject();
    assertThat(read.getString("status")).isEqualTo("PENDING");
    assertThat(read.getString("scene")).isEqualTo(s.getString("scene"));
    assertThat(read.containsKey("ticket")).isFalse();
  }

  @Test
  void theSceneAloneCannotReadTheSessionAndUnknownIdsAre404(Vertx vertx) throws Exception {
    ScanGate g = start(vertx, TestConfigs.standard());
    WebClient client = TestHttp.client(vertx, g.port());
    JsonObject s = createSession(client, "demo", "wechat-mini-qr");
    for (String id : List.of(s.getString("scene"), "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")) {
      HttpResponse<Buffer> r = await(client.get("/api/v1/qr/sessions/" + id).send());
      assertThat(r.statusCode()).isEqualTo(404);
      assertThat(r.bodyAsJsonObject().getString("error")).isEqualTo("session_not_found");
      assertThat(await(client.get("/api/v1/qr/sessions/" + id + "/events").send()).statusCode()).isEqualTo(404);
    }
  }

  @Test
  void aConnectionTheApplicationDoesNotEnableIsRefused(Vertx vertx) throws Exception {
    ScanGate g = start(vertx, TestConfigs.standard());
    WebClient client = TestHttp.client(vertx, g.port());
    HttpResponse<Buffer> r = await(client.post("/api/v1/qr/sessions")
        .sendJsonObject(new JsonObject().put("appId", "backend").put("connection", "wechat-mp")));
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.bodyAsJsonObject().getString("error")).isEqualTo("connection_not_enabled");
    HttpResponse<Buffer> noApp = await(client.post("/api/v1/qr/sessions")
        .sendJsonObject(new JsonObject().put("appId", "nope").put("connection", "wechat-mp")));
    assertThat(noApp.bodyAsJsonObject().getString("error")).isEqualTo("unknown_app");
    HttpResponse<Buffer> garbage = await(client.post("/api/v1/qr/sessions").sendBuffer(Buffer.buffer("{nope")));
    assertThat(garbage.statusCode()).isEqualTo(400);
    assertThat(garbage.bodyAsJsonObject().getString("error")).isEqualTo("invalid_json");
  }

  @Test
  void aLongPollOnOneInstanceWakesWhenTheSessionChangesOnAnother(Vertx vertx) throws Exception {
    Map<String, String> env = TestConfigs.testEnv();
    ScanGate a = start(vertx, TestConfigs.parse(TestConfigs.STANDARD_YAML, env));
    ScanGate b = start(vertx, TestConfigs.parse(TestConfigs.STANDARD_YAML, env));
    WebClient browser = TestHttp.client(vertx, b.port());
    JsonObject s = createSession(TestHttp.client(vertx, a.port()), "demo", "wechat-mini-qr");
    String id = s.getString("sessionId");

    Future<HttpResponse<Buffer>> waiting = browser.get("/api/v1/qr/sessions/" + id + "?waitSeconds=50&since=PENDING").send();
    awaitWaiters(b, 1);
    assertThat(waiting.isComplete()).isFalse();
    await(storeOf(a).scan(id, "openid-1", null, QrIds.hash("t"), "Mei", "https://img.example.com/a.png"));

    JsonObject woken = await(waiting).bodyAsJsonObject();
    assertThat(woken.getString("status")).isEqualTo("SCANNED");
    assertThat(woken.getJsonObject("scannedBy")).isEqualTo(new JsonObject().put("nickname", "Mei").put("avatarUrl", "https://img.example.com/a.png"));
    awaitWaiters(b, 0);
  }

  @Test
  void aLongPollWhoseStatusAlreadyDiffersAnswersAtOnce(Vertx vertx) throws Exception {
    ScanGate g = start(vertx, TestConfigs.standard());
    WebClient client = TestHttp.client(vertx, g.port());
    String id = createSession(client, "demo", "wechat-mini-qr").getString("sessionId");
    JsonObject r = await(client.get("/api/v1/qr/sessions/" + id + "?waitSeconds=60&since=SCANNED").send()).bodyAsJsonObject();
    assertThat(r.getString("status")).isEqualTo("PENDING");
    HttpResponse<Buffer> longer = await(client.get("/api/v1/qr/sessions/" + id + "?waitSeconds=600&since=CONFIRMED").send());
    assertThat(longer.statusCode()).as("waits over 60 s are served as 60 s").isEqualTo(200);
    HttpResponse<Buffer> bad = await(client.get("/api/v1/qr/sessions/" + id + "?waitSeconds=-1").send());
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(await(client.get("/api/v1/qr/sessions/" + id + "?since=LOST").send()).statusCode()).isEqualTo(400);
  }

  @Test
  void anSseStreamSendsTheCurrentStateThenEachChangeAndEndsWhenConfirmed(Vertx vertx) throws Exception {
    Map<String, String> env = TestConfigs.testEnv();
    ScanGate a = start(vertx, TestConfigs.parse(TestConfigs.STANDARD_YAML, env));
    ScanGate b = start(vertx, TestConfigs.parse(TestConfigs.STANDARD_YAML, env));
    String id = createSession(TestHttp.client(vertx, a.port()), "demo", "wechat-mini-qr").getString("sessionId");
    try (SseClient sse = new SseClient(vertx, b.port(), "/api/v1/qr/sessions/" + id + "/events")) {
      assertThat(sse.status()).isEqualTo(200);
      assertThat(sse.awaitEvents(1).get(0).json().getString("status")).isEqualTo("PENDING");
      awaitWaiters(b, 1);
      QrSessionStore phoneSide = storeOf(a);
      await(phoneSide.scan(id, "openid-2", "union-2", QrIds.hash("scan-token"), null, null));
      await(phoneSide.confirm(id, QrIds.hash("scan-token"), "user-42", "the-ticket-value-0123456789", null, null));
      List<SseClient.Event> events = sse.awaitEvents(3);
      sse.awaitEnd();
      assertThat(events).extracting(SseClient.Event::name).containsOnly("status");
      assertThat(events).extracting(e -> e.json().getString("status")).containsExactly("PENDING", "SCANNED", "CONFIRMED");
      assertThat(events.get(2).json().getString("ticket")).isEqualTo("the-ticket-value-0123456789");
      assertThat(events.get(1).json().containsKey("ticket")).isFalse();
    }
    awaitWaiters(b, 0);
  }

  @Test
  void expiryIsPushedToAWaitingSseStream(Vertx vertx) throws Exception {
    ScanGate g = start(vertx, TestConfigs.parse(TestConfigs.STANDARD_YAML + "qr: { sessionTtl: PT2S }\n"));
    WebClient client = TestHttp.client(vertx, g.port());
    String id = createSession(client, "demo", "wechat-mini-qr").getString("sessionId");
    try (SseClient sse = new SseClient(vertx, g.port(), "/api/v1/qr/sessions/" + id + "/events")) {
      sse.awaitEnd();
      assertThat(sse.events()).extracting(e -> e.json().getString("status")).containsExactly("PENDING", "EXPIRED");
    }
    JsonObject after = await(client.get("/api/v1/qr/sessions/" + id).send()).bodyAsJsonObject();
    assertThat(after.getString("status")).isEqualTo("EXPIRED");
    var late = await(storeOf(g).scan(id, "o", null, "h", null, null).map(x -> "scanned").otherwise(e -> ((io.scangate.error.ApiException) e).code()));
    assertThat(late).isIn("session_finished", "session_expired");
  }

  @Test
  void racingConfirmsAndCancelsHaveExactlyOneWinner(Vertx vertx) throws Exception {
    ScanGate g = start(vertx, TestConfigs.standard());
    WebClient client = TestHttp.client(vertx, g.port());
    QrSessionStore store = storeOf(g);
    String token = QrIds.hash("token");

    String confirms = createSession(client, "demo", "wechat-mini-qr").getString("sessionId");
    await(store.scan(confirms, "openid-r", null, token, null, null));
    List<Future<QrSession>> attempts = new ArrayList<>();
    for (int i = 0; i < 10; i++) attempts.add(store.confirm(confirms, token, "user-" + i, "ticket-" + i + "-0123456789", null, null));
    await(Future.join(attempts).otherwiseEmpty());
    assertThat(attempts.stream().filter(Future::succeeded).count()).isEqualTo(1);

    String versus = createSession(client, "demo", "wechat-mini-qr").getString("sessionId");
    await(store.scan(versus, "openid-v", null, token, null, null));
    Future<QrSession> confirm = store.confirm(versus, token, "user-v", "ticket-v-0123456789", null, null);
    Future<QrSession> cancel = store.cancel(versus, token);
    await(Future.join(confirm, cancel).otherwiseEmpty());
    assertThat(confirm.succeeded() ^ cancel.succeeded()).isTrue();

    String twoUsers = createSession(client, "demo", "wechat-mini-qr").getString("sessionId");
    await(store.scan(twoUsers, "first-user", null, token, null, null));
    Throwable second = await(store.scan(twoUsers, "second-user", null, QrIds.hash("x"), null, null).map(x -> (Throwable) null).otherwise(e -> e));
    assertThat(((io.scangate.error.ApiException) second).code()).isEqualTo("already_scanned");
    assertThat(await(store.scan(twoUsers, "first-user", null, token, null, null)).status()).isEqualTo(QrSession.Status.SCANNED);

    Throwable wrongToken = await(store.confirm(twoUsers, QrIds.hash("forged"), "u", "t-0123456789", null, null).map(x -> (Throwable) null).otherwise(e -> e));
    assertThat(((io.scangate.error.ApiException) wrongToken).code()).isEqualTo("invalid_scan_token");
  }

  @Test
  void aDirectConfirmationIssuesATicketForTheScanningUser(Vertx vertx) throws Exception {
    ScanGate g = start(vertx, TestConfigs.standard());
    WebClient client = TestHttp.client(vertx, g.port());
    QrSessionStore store = storeOf(g);
    String id = createSession(client, "demo", "wechat-mp").getString("sessionId");
    QrSession confirmed = await(store.confirmDirect(id, "o-follower", "u-follower", "user-7", "ticket-direct-0123456789", "Lin", ""));
    assertThat(confirmed.status()).isEqualTo(QrSession.Status.CONFIRMED);
    assertThat(confirmed.openid()).isEqualTo("o-follower");
    JsonObject state = confirmed.toJson();
    assertThat(state.getString("ticket")).isEqualTo("ticket-direct-0123456789");
    assertThat(state.getJsonObject("scannedBy")).isEqualTo(new JsonObject().put("nickname", "Lin"));
    assertThat(await(store.peekTicket("ticket-direct-0123456789")).orElseThrow())
        .isEqualTo(new QrSessionStore.Grant(id, "user-7", "demo", "wechat-mp"));
    Throwable again = await(store.confirmDirect(id, "o-other", null, "user-8", "ticket-other-0123456789", "", "")
        .map(x -> (Throwable) null).otherwise(e -> e));
    assertThat(((io.scangate.error.ApiException) again).code()).isEqualTo("session_finished");
  }

  @Test
  void sessionCreationIsRateLimitedPerAddress(Vertx vertx) throws Exception {
    ScanGate g = start(vertx, TestConfigs.parse(TestConfigs.STANDARD_YAML + "rateLimits: { sessionsPerMinutePerIp: 3 }\n"));
    WebClient client = TestHttp.client(vertx, g.port());
    // The limiter counts in fixed clock minutes: start the four requests well inside one.
    long intoMinute = System.currentTimeMillis() % 60_000;
    if (intoMinute > 50_000) Thread.sleep(60_000 - intoMinute + 100);
    for (int i = 0; i < 3; i++) createSession(client, "demo", "wechat-mini-qr");
    HttpResponse<Buffer> limited = await(client.post("/api/v1/qr/sessions")
        .sendJsonObject(new JsonObject().put("appId", "demo").put("connection", "wechat-mini-qr")));
    assertThat(limited.statusCode()).isEqualTo(429);
    assertThat(limited.bodyAsJsonObject().getString("error")).isEqualTo("rate_limited");
    assertThat(Integer.parseInt(limited.getHeader("Retry-After"))).isBetween(1, 60);
    // A different client behind a trusted proxy has its own allowance.
    HttpResponse<Buffer> other = await(client.post("/api/v1/qr/sessions").putHeader("X-Forwarded-For", "203.0.113.9")
        .sendJsonObject(new JsonObject().put("appId", "demo").put("connection", "wechat-mini-qr")));
    assertThat(other.statusCode()).isEqualTo(201);
  }

  @Test
  void theImageDecodesToTheQrContentWithTheLogoInPlace(Vertx vertx, @TempDir Path dir) throws Exception {
    Path logo = dir.resolve("logo.png");
    BufferedImage red = new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB);
    Graphics2D gr = red.createGraphics();
    gr.setColor(Color.RED);
    gr.fillRect(0, 0, 64, 64);
    gr.dispose();
    ImageIO.write(red, "png", logo.toFile());
    String yaml = TestConfigs.STANDARD_YAML.replace("    type: wechat-miniprogram-qrcode\n",
        "    type: wechat-miniprogram-qrcode\n    logo: \"" + logo + "\"\n");
    ScanGate g = start(vertx, TestConfigs.parse(yaml));
    WebClient client = TestHttp.client(vertx, g.port());
    JsonObject s = createSession(client, "demo", "wechat-mini-qr");
    String path = s.getString("qrcodeUrl").substring(g.infrastructure().config().server().publicUrl().length());
    HttpResponse<Buffer> png = await(client.get(path).send());
    assertThat(png.statusCode()).isEqualTo(200);
    assertThat(png.getHeader("Content-Type")).isEqualTo("image/png");
    BufferedImage image = ImageIO.read(new ByteArrayInputStream(png.body().getBytes()));
    // zxing's finder-pattern search misses about 1 perfectly drawn code in 400 (measured); a
    // phone's scanner tries again, and so does the test, reading the image as a pure code.
    com.google.zxing.Result decoded;
    try {
      decoded = new QRCodeReader().decode(new BinaryBitmap(new HybridBinarizer(new BufferedImageLuminanceSource(image))),
          Map.of(DecodeHintType.TRY_HARDER, true));
    } catch (com.google.zxing.NotFoundException e) {
      decoded = new QRCodeReader().decode(new BinaryBitmap(new HybridBinarizer(new BufferedImageLuminanceSource(image))),
          Map.of(DecodeHintType.PURE_BARCODE, true));
    }
    assertThat(decoded.getText()).isEqualTo(s.getString("qrContent"));
    assertThat(new Color(image.getRGB(image.getWidth() / 2, image.getHeight() / 2))).isEqualTo(Color.RED);
  }

  @Test
  void theLandingPageTellsOtherScannersToUseWeChatAndServesTheVerificationFile(Vertx vertx) throws Exception {
    String yaml = TestConfigs.STANDARD_YAML.replace("    type: wechat-miniprogram-qrcode\n",
        "    type: wechat-miniprogram-qrcode\n    verificationFile: { name: \"a1b2c3.txt\", content: \"wechat-check-value\" }\n");
    ScanGate g = start(vertx, TestConfigs.parse(yaml));
    WebClient client = TestHttp.client(vertx, g.port());
    JsonObject s = createSession(client, "demo", "wechat-mini-qr");
    HttpResponse<Buffer> page = await(client.get("/qr/" + s.getString("scene")).send());
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.bodyAsString()).contains("scan this code with WeChat").doesNotContain(s.getString("sessionId"));
    assertThat(await(client.get("/qr/a1b2c3.txt").send()).bodyAsString()).isEqualTo("wechat-check-value");
  }

  @Test
  void anOfficialAccountCodeCarriesTheUrlWeChatReturnedForTheScene(Vertx vertx) throws Exception {
    ScanGate g = start(vertx, TestConfigs.standard());
    WebClient client = TestHttp.client(vertx, g.port());
    JsonObject s = createSession(client, "demo", "wechat-mp");
    var codes = await(client.get("/sandbox/control/qrcodes").send()).bodyAsJsonArray();
    JsonObject created = codes.stream().map(JsonObject.class::cast)
        .filter(c -> s.getString("scene").equals(c.getString("sceneStr"))).findFirst().orElseThrow();
    assertThat(s.getString("qrContent")).isEqualTo(created.getString("url"));
    assertThat(created.getString("appId")).isEqualTo("wxtestmp00000001");
    assertThat(created.getInteger("expireSeconds")).isGreaterThanOrEqualTo(60);
    String path = s.getString("qrcodeUrl").substring(g.infrastructure().config().server().publicUrl().length());
    assertThat(decode(await(client.get(path).send()).body())).isEqualTo(created.getString("url"));
  }

  @Test
  void aWxacodeSessionCarriesTheSceneAndItsImageComesFromWeChatOnce(Vertx vertx) throws Exception {
    String yaml = TestConfigs.STANDARD_YAML.replace("    type: wechat-miniprogram-qrcode\n",
        "    type: wechat-miniprogram-qrcode\n    qrStyle: wxacode\n    envVersion: develop\n");
    ScanGate g = start(vertx, TestConfigs.parse(yaml));
    WebClient client = TestHttp.client(vertx, g.port());
    JsonObject s = createSession(client, "demo", "wechat-mini-qr");
    assertThat(s.getString("qrContent")).isEqualTo(s.getString("scene"));
    String path = s.getString("qrcodeUrl").substring(g.infrastructure().config().server().publicUrl().length());
    HttpResponse<Buffer> first = await(client.get(path).send());
    assertThat(first.statusCode()).isEqualTo(200);
    assertThat(decode(first.body())).contains(s.getString("scene"));
    assertThat(await(client.get(path).send()).body()).isEqualTo(first.body());
  }

  @Test
  void browsersThatGoAwayMidWaitReleaseWhatTheyHeld(Vertx vertx) throws Exception {
    ScanGate g = start(vertx, TestConfigs.standard());
    WebClient client = TestHttp.client(vertx, g.port());
    String id = createSession(client, "demo", "wechat-mini-qr").getString("sessionId");
    SseClient sse = new SseClient(vertx, g.port(), "/api/v1/qr/sessions/" + id + "/events");
    var pollClient = vertx.createHttpClient(new io.vertx.core.http.HttpClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(g.port()));
    pollClient.request(io.vertx.core.http.HttpMethod.GET, "/api/v1/qr/sessions/" + id + "?waitSeconds=60&since=PENDING")
        .compose(io.vertx.core.http.HttpClientRequest::send);
    awaitWaiters(g, 2);
    sse.close();
    await(pollClient.close());
    awaitWaiters(g, 0);
    assertThat(g.qrHub().watchedSessions()).isZero();
  }

  static String decode(Buffer png) throws Exception {
    BufferedImage image = ImageIO.read(new ByteArrayInputStream(png.getBytes()));
    return new QRCodeReader().decode(new BinaryBitmap(new HybridBinarizer(new BufferedImageLuminanceSource(image))),
        Map.of(DecodeHintType.TRY_HARDER, true)).getText();
  }

  static void awaitWaiters(ScanGate g, int count) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (g.qrHub().waiters() != count && System.nanoTime() < deadline) Thread.sleep(10);
    assertThat(g.qrHub().waiters()).isEqualTo(count);
  }
}
