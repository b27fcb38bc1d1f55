package io.scangate.qr;

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

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.scangate.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/** The whole mini program QR login: the sandbox plays WeChat, the test plays the browser, the phone and the site. */
@ExtendWith(VertxExtension.class)
class MiniProgramQrLoginTest {

  /** Instances behind one load balancer share one issuer. */
  static final String YAML = TestConfigs.STANDARD_YAML.replace("tokens:\n", "tokens:\n  issuer: \"https://login.test.example\"\n");

  private final Gateways gateways = new Gateways();

  ScanGate start(Vertx vertx, ScanGateConfig config) {
    return gateways.start(vertx, config);
  }

  @AfterEach
  void stop() {
    gateways.closeAll();
  }

  /** The phone: one-time codes from the sandbox, as wx.login and getPhoneNumber would give them. */
  static JsonObject wxLogin(WebClient client, String openid, String unionid, String phone) throws Exception {
    JsonObject request = new JsonObject().put("appId", "wxtestmini000001").put("openid", openid);
    if (unionid != null) request.put("unionid", unionid);
    if (phone != null) request.put("phone", phone);
    HttpResponse<Buffer> r = await(client.post("/sandbox/control/miniprogram/code").sendJsonObject(request));
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
    return r.bodyAsJsonObject();
  }

  static HttpResponse<Buffer> post(WebClient client, String path, JsonObject body) throws Exception {
    return await(client.post(path).putHeader("User-Agent", "TestBrowser/1.0").sendJsonObject(body));
  }

  static JsonObject createSession(WebClient client, String appId) throws Exception {
    HttpResponse<Buffer> r = post(client, "/api/v1/qr/sessions", new JsonObject().put("appId", appId).put("connection", "wechat-mini-qr"));
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
    return r.bodyAsJsonObject();
  }

  static JsonObject scan(WebClient phone, String scene, String code) throws Exception {
    HttpResponse<Buffer> r = post(phone, "/api/v1/miniprogram/qr/" + scene + "/scan",
        new JsonObject().put("connection", "wechat-mini-qr").put("code", code));
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
    return r.bodyAsJsonObject();
  }

  @Test
  void aBrowserOnOneInstanceLogsInWhileThePhoneTalksToAnother(Vertx vertx) throws Exception {
    Map<String, String> env = TestConfigs.testEnv();
    ScanGate a = start(vertx, TestConfigs.parse(YAML, env));
    ScanGate b = start(vertx, TestConfigs.parse(YAML, env));
    WebClient browser = TestHttp.client(vertx, b.port());
    WebClient phone = TestHttp.client(vertx, a.port());

    JsonObject session = createSession(browser, "demo");
    String id = session.getString("sessionId");
    String scene = session.getString("scene");
    try (SseClient sse = new SseClient(vertx, b.port(), "/api/v1/qr/sessions/" + id + "/events")) {
      sse.awaitEvents(1);
      Future<HttpResponse<Buffer>> longPoll = browser.get("/api/v1/qr/sessions/" + id + "?waitSeconds=50&since=PENDING").send();
      QrSessionTest.awaitWaiters(b, 2);

      JsonObject codes = wxLogin(phone, "o-mei", "u-mei", "13800138000");
      JsonObject scanned = scan(phone, scene, codes.getString("code"));
      assertThat(scanned.getString("scanToken")).matches("[A-Za-z0-9_-]{43}");
      assertThat(scanned.getJsonObject("session").getString("appName")).isEqualTo("Demo site");
      assertThat(scanned.getJsonObject("session").getString("ip")).isEqualTo("127.0.0.*");
      assertThat(scanned.getJsonObject("session").getString("userAgent")).isEqualTo("TestBrowser/1.0");
      assertThat(await(longPoll).bodyAsJsonObject().getString("status")).isEqualTo("SCANNED");

      HttpResponse<Buffer> confirmed = post(phone, "/api/v1/miniprogram/qr/" + scene + "/confirm", new JsonObject()
          .put("scanToken", scanned.getString("scanToken")).put("phoneCode", codes.getString("phoneCode"))
          .put("profile", new JsonObject().put("nickname", "Mei").put("avatarUrl", "https://img.example.com/mei.png")));
      assertThat(confirmed.statusCode()).as(confirmed.bodyAsString()).isEqualTo(200);
      assertThat(confirmed.bodyAsJsonObject()).isEqualTo(new JsonObject());

      List<SseClient.Event> events = sse.awaitEvents(3);
      sse.awaitEnd();
      assertThat(events).extracting(e -> e.json().getString("status")).containsExactly("PENDING", "SCANNED", "CONFIRMED");
      JsonObject done = events.get(2).json();
      assertThat(done.getJsonObject("scannedBy").getString("nickname")).isEqualTo("Mei");
      assertThat(done.encode()).doesNotContain("o-mei", "u-mei", "13800138000", "access_token");
      String ticket = done.getString("ticket");

      HttpResponse<Buffer> exchanged = post(TestHttp.client(vertx, a.port()), "/api/v1/qr/exchange", new JsonObject().put("ticket", ticket));
      assertThat(exchanged.statusCode()).as(exchanged.bodyAsString()).isEqualTo(200);
      JsonObject user = exchanged.bodyAsJsonObject().getJsonObject("user");
      JsonObject tokens = exchanged.bodyAsJsonObject().getJsonObject("tokens");
      assertThat(user.getString("phone")).isEqualTo("13800138000");
      assertThat(user.getString("unionid")).isEqualTo("u-mei");
      assertThat(user.getString("nickname")).isEqualTo("Mei");
      assertThat(user.getJsonArray("identities").getJsonObject(0))
          .isEqualTo(new JsonObject().put("connection", "wechat-mini-qr").put("openid", "o-mei"));
      assertThat(tokens.getString("token_type")).isEqualTo("Bearer");

      HttpResponse<Buffer> verified = await(browser.get("/auth/verify")
          .putHeader("Authorization", "Bearer " + tokens.getString("access_token")).send());
      assertThat(verified.statusCode()).isEqualTo(200);
      assertThat(verified.getHeader("X-Auth-User-Id")).isEqualTo(user.getString("id"));
      assertThat(verified.getHeader("X-Auth-App-Id")).isEqualTo("demo");

      HttpResponse<Buffer> again = post(browser, "/api/v1/qr/exchange", new JsonObject().put("ticket", ticket));
      assertThat(again.statusCode()).isEqualTo(400);
      assertThat(again.bodyAsJsonObject().getString("error")).isEqualTo("invalid_ticket");

      var audit = await(a.infrastructure().postgres()
          .query("SELECT event, outcome, app_id, connection FROM audit_log ORDER BY id").execute());
      List<String> rows = new ArrayList<>();
      audit.forEach(row -> rows.add(row.getString(0) + "/" + row.getString(1) + "/" + row.getString(2) + "/" + row.getString(3)));
      assertThat(rows).containsSubsequence("qr_scan/success/demo/wechat-mini-qr", "login/success/demo/wechat-mini-qr",
          "qr_exchange/success/demo/wechat-mini-qr");
    }
  }

  @Test
  void parallelExchangesOfOneTicketHaveOneWinner(Vertx vertx) throws Exception {
    ScanGate g = start(vertx, TestConfigs.parse(YAML));
    WebClient client = TestHttp.client(vertx, g.port());
    String ticket = confirmedTicket(vertx, g, client, "demo", "o-race");
    List<Future<HttpResponse<Buffer>>> attempts = new ArrayList<>();
    for (int i = 0; i < 8; i++) attempts.add(client.post("/api/v1/qr/exchange").sendJsonObject(new JsonObject().put("ticket", ticket)));
    await(Future.join(attempts));
    assertThat(attempts.stream().filter(f -> f.result().statusCode() == 200).count()).isEqualTo(1);
    assertThat(attempts.stream().filter(f -> f.result().statusCode() == 400).count()).isEqualTo(7);
  }

  @Test
  void theFirstScannerOwnsTheSessionAndCanCancelIt(Vertx vertx) throws Exception {
    ScanGate g = start(vertx, TestConfigs.parse(YAML));
    WebClient client = TestHttp.client(vertx, g.port());
    JsonObject session = createSession(client, "demo");
    String scene = session.getString("scene");
    JsonObject first = scan(client, scene, wxLogin(client, "o-first", null, null).getString("code"));
    HttpResponse<Buffer> other = post(client, "/api/v1/miniprogram/qr/" + scene + "/scan",
        new JsonObject().put("connection", "wechat-mini-qr").put("code", wxLogin(client, "o-other", null, null).getString("code")));
    assertThat(other.statusCode()).isEqualTo(409);
    assertThat(other.bodyAsJsonObject().getString("error")).isEqualTo("already_scanned");
    JsonObject rescan = scan(client, scene, wxLogin(client, "o-first", null, null).getString("code"));

    HttpResponse<Buffer> staleToken = post(client, "/api/v1/miniprogram/qr/" + scene + "/cancel", new JsonObject().put("scanToken", first.getString("scanToken")));
    assertThat(staleToken.statusCode()).isEqualTo(403);
    assertThat(staleToken.bodyAsJsonObject().getString("error")).isEqualTo("invalid_scan_token");
    assertThat(post(client, "/api/v1/miniprogram/qr/" + scene + "/cancel", new JsonObject().put("scanToken", rescan.getString("scanToken"))).statusCode())
        .isEqualTo(200);
    JsonObject state = await(client.get("/api/v1/qr/sessions/" + session.getString("sessionId")).send()).bodyAsJsonObject();
    assertThat(state.getString("status")).isEqualTo("CANCELED");
    HttpResponse<Buffer> late = post(client, "/api/v1/miniprogram/qr/" + scene + "/confirm", new JsonObject().put("scanToken", rescan.getString("scanToken")));
    assertThat(late.statusCode()).isEqualTo(409);
    assertThat(late.bodyAsJsonObject().getString("error")).isEqualTo("session_finished");
  }

  @Test
  void aLoginOnlyConnectionFailsTheSessionForAStrangerAndCreatesNobody(Vertx vertx) throws Exception {
    ScanGate g = start(vertx, TestConfigs.parse(YAML.replace("    type: wechat-miniprogram-qrcode\n",
        "    type: wechat-miniprogram-qrcode\n    loginOnly: true\n")));
    WebClient client = TestHttp.client(vertx, g.port());
    JsonObject session = createSession(client, "demo");
    String scene = session.getString("scene");
    try (SseClient sse = new SseClient(vertx, g.port(), "/api/v1/qr/sessions/" + session.getString("sessionId") + "/events")) {
      JsonObject scanned = scan(client, scene, wxLogin(client, "o-stranger", "u-stranger", null).getString("code"));
      HttpResponse<Buffer> refused = post(client, "/api/v1/miniprogram/qr/" + scene + "/confirm", new JsonObject().put("scanToken", scanned.getString("scanToken")));
      // CONTRACT section 4: confirm answers 200 and the session becomes FAILED with its error.
      assertThat(refused.statusCode()).isEqualTo(200);
      assertThat(refused.bodyAsJsonObject().getString("status")).isEqualTo("FAILED");
      assertThat(refused.bodyAsJsonObject().getString("error")).isEqualTo("login_only");
      sse.awaitEnd();
      JsonObject last = sse.events().get(sse.events().size() - 1).json();
      assertThat(last.getString("status")).isEqualTo("FAILED");
      assertThat(last.getString("error")).isEqualTo("login_only");
      assertThat(last.containsKey("ticket")).isFalse();
    }
    var rows = await(g.infrastructure().postgres().query("SELECT count(*) FROM users").execute());
    assertThat(rows.iterator().next().getLong(0)).isZero();
  }

  @Test
  void aSecretApplicationMustAuthenticateTheExchangeAndAFailedAttemptKeepsTheTicket(Vertx vertx) throws Exception {
    ScanGate g = start(vertx, TestConfigs.parse(YAML));
    WebClient client = TestHttp.client(vertx, g.port());
    String ticket = confirmedTicket(vertx, g, client, "backend", "o-backend");
    HttpResponse<Buffer> anonymous = post(client, "/api/v1/qr/exchange", new JsonObject().put("ticket", ticket));
    assertThat(anonymous.statusCode()).isEqualTo(401);
    assertThat(anonymous.bodyAsJsonObject().getString("error")).isEqualTo("invalid_client");
    HttpResponse<Buffer> wrong = await(client.post("/api/v1/qr/exchange").basicAuthentication("backend", "not-the-secret-at-all")
        .sendJsonObject(new JsonObject().put("ticket", ticket)));
    assertThat(wrong.statusCode()).isEqualTo(401);
    HttpResponse<Buffer> right = await(client.post("/api/v1/qr/exchange").basicAuthentication("backend", "backend-app-secret-for-tests")
        .sendJsonObject(new JsonObject().put("ticket", ticket)));
    assertThat(right.statusCode()).as(right.bodyAsString()).isEqualTo(200);
    assertThat(right.bodyAsJsonObject().getJsonObject("tokens").getString("access_token")).isNotBlank();
  }

  @Test
  void aCodeWeChatRejectsIsAClearErrorAndChangesNothing(Vertx vertx) throws Exception {
    ScanGate g = start(vertx, TestConfigs.parse(YAML));
    WebClient client = TestHttp.client(vertx, g.port());
    JsonObject session = createSession(client, "demo");
    HttpResponse<Buffer> r = post(client, "/api/v1/miniprogram/qr/" + session.getString("scene") + "/scan",
        new JsonObject().put("connection", "wechat-mini-qr").put("code", "made-up-code"));
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.bodyAsJsonObject().getString("error")).isEqualTo("invalid_code");
    assertThat(await(client.get("/api/v1/qr/sessions/" + session.getString("sessionId")).send()).bodyAsJsonObject().getString("status"))
        .isEqualTo("PENDING");
    HttpResponse<Buffer> unknownScene = post(client, "/api/v1/miniprogram/qr/AAAAAAAAAAAAAAAAAAAAAA/scan",
        new JsonObject().put("connection", "wechat-mini-qr").put("code", "x"));
    assertThat(unknownScene.statusCode()).isEqualTo(404);
    HttpResponse<Buffer> missing = post(client, "/api/v1/miniprogram/qr/" + session.getString("scene") + "/scan", new JsonObject());
    assertThat(missing.statusCode()).isEqualTo(400);
    assertThat(missing.bodyAsJsonObject().getString("message")).contains("connection");
  }

  @Test
  void silentLoginInTheMiniProgramAndQrLoginOnThePcAreOneUserByUnionid(Vertx vertx) throws Exception {
    ScanGate g = start(vertx, TestConfigs.parse(YAML));
    WebClient client = TestHttp.client(vertx, g.port());
    JsonObject codes = wxLogin(client, "o-silent", "u-same-person", "13900139000");
    HttpResponse<Buffer> login = post(client, "/api/v1/miniprogram/login", new JsonObject().put("appId", "demo")
        .put("connection", "wechat-mini").put("code", codes.getString("code")).put("phoneCode", codes.getString("phoneCode")));
    assertThat(login.statusCode()).as(login.bodyAsString()).isEqualTo(200);
    JsonObject user = login.bodyAsJsonObject().getJsonObject("user");
    assertThat(user.getString("phone")).isEqualTo("13900139000");
    assertThat(login.bodyAsJsonObject().getJsonObject("tokens").getString("refresh_token")).isNotBlank();
    assertThat(login.bodyAsString()).doesNotContain("session_key", "sessionKey");

    HttpResponse<Buffer> reused = post(client, "/api/v1/miniprogram/login", new JsonObject().put("appId", "demo")
        .put("connection", "wechat-mini").put("code", codes.getString("code")));
    assertThat(reused.statusCode()).isEqualTo(400);
    assertThat(reused.bodyAsJsonObject().getString("error")).isEqualTo("invalid_code");

    String ticket = confirmedTicket(vertx, g, client, "demo", "o-pc-same-person", "u-same-person");
    JsonObject viaQr = post(client, "/api/v1/qr/exchange", new JsonObject().put("ticket", ticket)).bodyAsJsonObject().getJsonObject("user");
    assertThat(viaQr.getString("id")).isEqualTo(user.getString("id"));
    assertThat(viaQr.getJsonArray("identities")).hasSize(2);
  }

  @Test
  void silentLoginNeedsAMiniProgramConnectionTheApplicationEnables(Vertx vertx) throws Exception {
    ScanGate g = start(vertx, TestConfigs.parse(YAML));
    WebClient client = TestHttp.client(vertx, g.port());
    HttpResponse<Buffer> noApp = post(client, "/api/v1/miniprogram/login", new JsonObject().put("connection", "wechat-mini").put("code", "c"));
    assertThat(noApp.statusCode()).isEqualTo(400);
    assertThat(noApp.bodyAsJsonObject().getString("message")).contains("appId");
    HttpResponse<Buffer> notEnabled = post(client, "/api/v1/miniprogram/login", new JsonObject().put("appId", "backend")
        .put("connection", "wechat-mini").put("code", "c"));
    assertThat(notEnabled.bodyAsJsonObject().getString("error")).isEqualTo("connection_not_enabled");
    HttpResponse<Buffer> mp = post(client, "/api/v1/miniprogram/login", new JsonObject().put("appId", "demo")
        .put("connection", "wechat-mp").put("code", "c"));
    assertThat(mp.bodyAsJsonObject().getString("error")).isEqualTo("connection_not_miniprogram");
  }

  @Test
  void corsIsOnlyForConfiguredOriginsAndAnotherSitesOriginCannotCreateSessions(Vertx vertx) throws Exception {
    ScanGate g = start(vertx, TestConfigs.parse(YAML));
    WebClient client = TestHttp.client(vertx, g.port());
    HttpResponse<Buffer> allowed = await(client.request(io.vertx.core.http.HttpMethod.OPTIONS, "/api/v1/qr/sessions")
        .putHeader("Origin", "http://127.0.0.1:9").putHeader("Access-Control-Request-Method", "POST").send());
    assertThat(allowed.getHeader("Access-Control-Allow-Origin")).isEqualTo("http://127.0.0.1:9");
    HttpResponse<Buffer> foreign = await(client.request(io.vertx.core.http.HttpMethod.OPTIONS, "/api/v1/qr/sessions")
        .putHeader("Origin", "https://evil.example.com").putHeader("Access-Control-Request-Method", "POST").send());
    assertThat(foreign.getHeader("Access-Control-Allow-Origin")).isNull();
    HttpResponse<Buffer> create = await(client.post("/api/v1/qr/sessions").putHeader("Origin", "https://evil.example.com")
        .sendJsonObject(new JsonObject().put("appId", "demo").put("connection", "wechat-mini-qr")));
    assertThat(create.statusCode()).isEqualTo(403);
    assertThat(create.bodyAsJsonObject().getString("error")).isEqualTo("origin_not_allowed");
    HttpResponse<Buffer> ownSite = await(client.post("/api/v1/qr/sessions").putHeader("Origin", "http://127.0.0.1:9")
        .sendJsonObject(new JsonObject().put("appId", "demo").put("connection", "wechat-mini-qr")));
    assertThat(ownSite.statusCode()).isEqualTo(201);
    assertThat(ownSite.getHeader("Access-Control-Allow-Origin")).isEqualTo("http://127.0.0.1:9");
    // The gateway's own pages (same origin; browsers still send Origin on POST) are always allowed.
    String gatewayOrigin = g.infrastructure().config().server().publicUrl();
    HttpResponse<Buffer> samePage = await(client.post("/api/v1/qr/sessions").putHeader("Origin", gatewayOrigin)
        .sendJsonObject(new JsonObject().put("appId", "demo").put("connection", "wechat-mini-qr")));
    assertThat(samePage.statusCode()).isEqualTo(201);
  }

  static String confirmedTicket(Vertx vertx, ScanGate g, WebClient client, String appId, String openid) throws Exception {
    return confirmedTicket(vertx, g, client, appId, openid, null);
  }

  static String confirmedTicket(Vertx vertx, ScanGate g, WebClient client, String appId, String openid, String unionid) throws Exception {
    JsonObject session = createSession(client, appId);
    String scene = session.getString("scene");
    JsonObject scanned = scan(client, scene, wxLogin(client, openid, unionid, null).getString("code"));
    HttpResponse<Buffer> confirmed = post(client, "/api/v1/miniprogram/qr/" + scene + "/confirm",
        new JsonObject().put("scanToken", scanned.getString("scanToken")));
    assertThat(confirmed.statusCode()).as(confirmed.bodyAsString()).isEqualTo(200);
    JsonObject state = await(client.get("/api/v1/qr/sessions/" + session.getString("sessionId")).send()).bodyAsJsonObject();
    assertThat(state.getString("status")).isEqualTo("CONFIRMED");
    return state.getString("ticket");
  }
}
