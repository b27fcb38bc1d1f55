package io.scangate.officialaccount;

import io.scangate.ScanGate;
import io.scangate.config.ScanGateConfig;
import io.scangate.testing.Gateways;
import io.scangate.testing.SseClient;
import io.scangate.testing.TestConfigs;
import io.scangate.testing.TestHttp;
import io.scangate.wechat.WeChatMessageCrypto;
import io.scangate.wechat.WeChatXml;
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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.scangate.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Follow-to-login with an Official Account: the sandbox plays WeChat (its {@code mp/scan} pushes
 * the subscribe/SCAN event to the webhook as WeChat would), the test plays the browser and the site.
 */
@ExtendWith(VertxExtension.class)
class OfficialAccountLoginTest {

  static final String KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

  private final Gateways gateways = new Gateways();

  @AfterEach
  void stop() {
    gateways.closeAll();
  }

  /** The standard configuration with the Official Account connection set up as a test needs. */
  static String yaml(String mode, String extra) {
    return TestConfigs.STANDARD_YAML
        .replace("tokens:\n", "tokens:\n  issuer: \"https://login.test.example\"\n")
        .replace("    messageMode: safe\n", "    messageMode: " + mode + "\n" + extra);
  }

  static JsonObject createSession(WebClient browser) throws Exception {
    HttpResponse<Buffer> r = await(browser.post("/api/v1/qr/sessions").putHeader("User-Agent", "TestBrowser/1.0")
        .sendJsonObject(new JsonObject().put("appId", "demo").put("connection", "wechat-mp")));
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
    return r.bodyAsJsonObject();
  }

  /** The phone: scans the code the browser shows (and follows, with {@code subscribe}); the sandbox pushes the event. */
  static JsonObject scan(WebClient phone, JsonObject session, String openid, String unionid, boolean subscribe) throws Exception {
    JsonObject request = new JsonObject().put("connection", "wechat-mp").put("qrContent", session.getString("qrContent"))
        .put("openid", openid).put("subscribe", subscribe);
    if (unionid != null) request.put("unionid", unionid);
    HttpResponse<Buffer> r = await(phone.post("/sandbox/control/mp/scan").sendJsonObject(request));
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
    assertThat(r.bodyAsJsonObject().getInteger("status")).as(r.bodyAsString()).isEqualTo(200);
    return r.bodyAsJsonObject();
  }

  static JsonObject read(WebClient browser, String id) throws Exception {
    return await(browser.get("/api/v1/qr/sessions/" + id).send()).bodyAsJsonObject();
  }

  @ParameterizedTest
  @CsvSource({"safe, true", "safe, false", "compatible, true", "compatible, false", "plain, true", "plain, false"})
  void followingOrScanningLogsTheWaitingBrowserIn(String mode, boolean subscribe, Vertx vertx) throws Exception {
    Map<String, String> env = TestConfigs.testEnv();
    String yaml = yaml(mode, "    welcomeMessage: \"Welcome back <friend> ]]>\"\n");
    ScanGate a = gateways.start(vertx, TestConfigs.parse(yaml, env));
    ScanGate b = gateways.start(vertx, TestConfigs.parse(yaml, env));
    WebClient browser = TestHttp.client(vertx, b.port());
    WebClient phone = TestHttp.client(vertx, a.port());

    JsonObject session = createSession(browser);
    String id = session.getString("sessionId");
    try (SseClient sse = new SseClient(vertx, b.port(), "/api/v1/qr/sessions/" + id + "/events")) {
      sse.awaitEvents(1);
      Future<HttpResponse<Buffer>> longPoll = browser.get("/api/v1/qr/sessions/" + id + "?waitSeconds=50&since=PENDING").send();

      JsonObject pushed = scan(phone, session, "o-follower", null, subscribe);
      assertThat(pushed.getString("event")).isEqualTo(subscribe ? "subscribe" : "SCAN");
      Map<String, String> reply = WeChatXml.parse(pushed.getString("reply"));
      assertThat(reply.get("MsgType")).isEqualTo("text");
      assertThat(reply.get("Content")).isEqualTo("Welcome back <friend> ]]>");
      assertThat(reply.get("ToUserName")).isEqualTo("o-follower");
      if (!mode.equals("plain")) {
        assertThat(pushed.getString("body")).as("the passive reply is encrypted").contains("<Encrypt>").doesNotContain("Welcome");
      }

      JsonObject polled = await(longPoll).bodyAsJsonObject();
      assertThat(polled.getString("status")).isEqualTo("CONFIRMED");
      List<SseClient.Event> events = sse.awaitEvents(2);
      sse.awaitEnd();
      assertThat(events).extracting(e -> e.json().getString("status")).containsExactly("PENDING", "CONFIRMED");
      String ticket = events.get(1).json().getString("ticket");
      assertThat(ticket).isEqualTo(polled.getString("ticket"));
      assertThat(events.get(1).json().encode()).doesNotContain("o-follower");

      HttpResponse<Buffer> exchanged = await(TestHttp.client(vertx, a.port()).post("/api/v1/qr/exchange")
          .sendJsonObject(new JsonObject().put("ticket", ticket)));
      assertThat(exchanged.statusCode()).as(exchanged.bodyAsString()).isEqualTo(200);
      JsonObject user = exchanged.bodyAsJsonObject().getJsonObject("user");
      assertThat(user.getJsonArray("identities").getJsonObject(0))
          .isEqualTo(new JsonObject().put("connection", "wechat-mp").put("openid", "o-follower"));
      String accessToken = exchanged.bodyAsJsonObject().getJsonObject("tokens").getString("access_token");
      HttpResponse<Buffer> verified = await(browser.get("/auth/verify").putHeader("Authorization", "Bearer " + accessToken).send());
      assertThat(verified.statusCode()).isEqualTo(200);
      assertThat(verified.getHeader("X-Auth-User-Id")).isEqualTo(user.getString("id"));
      assertThat(verified.getHeader("X-Auth-App-Id")).isEqualTo("demo");
    }
  }

  @Test
  void theFirstScannerWinsAndLaterScansChangeNothing(Vertx vertx) throws Exception {
    ScanGate g = gateways.start(vertx, TestConfigs.parse(yaml("safe", "    welcomeMessage: \"Hi\"\n")));
    WebClient http = TestHttp.client(vertx, g.port());
    JsonObject session = createSession(http);
    String id = session.getString("sessionId");

    assertThat(WeChatXml.parse(scan(http, session, "o-first", null, false).getString("reply")).get("Content")).isEqualTo("Hi");
    JsonObject second = scan(http, session, "o-second", null, true);
    assertThat(second.getString("body")).as("a finished scene is answered success").isEqualTo("success");
    assertThat(second.getString("reply")).isNull();

    JsonObject state = read(http, id);
    assertThat(state.getString("status")).isEqualTo("CONFIRMED");
    JsonObject exchanged = await(http.post("/api/v1/qr/exchange").sendJsonObject(new JsonObject().put("ticket", state.getString("ticket"))))
        .bodyAsJsonObject();
    assertThat(exchanged.getJsonObject("user").getJsonArray("identities").getJsonObject(0).getString("openid")).isEqualTo("o-first");
  }

  @Test
  void loginOnlyRefusesAnUnknownScannerAndTheBrowserIsToldWhy(Vertx vertx) throws Exception {
    ScanGate g = gateways.start(vertx, TestConfigs.parse(yaml("safe", "    loginOnly: true\n    welcomeMessage: \"Hi\"\n")));
    WebClient http = TestHttp.client(vertx, g.port());
    JsonObject session = createSession(http);

    JsonObject pushed = scan(http, session, "o-stranger", null, true);
    assertThat(pushed.getString("body")).isEqualTo("success");
    JsonObject state = read(http, session.getString("sessionId"));
    assertThat(state.getString("status")).isEqualTo("FAILED");
    assertThat(state.getString("error")).isEqualTo("login_only");
    long users = await(g.infrastructure().postgres().query("SELECT count(*) FROM users").execute()).iterator().next().getLong(0);
    assertThat(users).isZero();
  }

  @Test
  void aUnionidLinksTheOfficialAccountUserToTheMiniProgramUser(Vertx vertx) throws Exception {
    ScanGate g = gateways.start(vertx, TestConfigs.parse(yaml("safe", "    accountLinking: { mode: match, fields: [unionid] }\n")));
    WebClient http = TestHttp.client(vertx, g.port());
    JsonObject codes = await(http.post("/sandbox/control/miniprogram/code")
        .sendJsonObject(new JsonObject().put("appId", "wxtestmini000001").put("openid", "o-mini").put("unionid", "u-shared")))
        .bodyAsJsonObject();
    HttpResponse<Buffer> mini = await(http.post("/api/v1/miniprogram/login")
        .sendJsonObject(new JsonObject().put("appId", "demo").put("connection", "wechat-mini").put("code", codes.getString("code"))));
    assertThat(mini.statusCode()).as(mini.bodyAsString()).isEqualTo(200);
    String miniUser = mini.bodyAsJsonObject().getJsonObject("user").getString("id");

    JsonObject session = createSession(http);
    scan(http, session, "o-oa", "u-shared", true);
    JsonObject state = read(http, session.getString("sessionId"));
    assertThat(state.getString("status")).isEqualTo("CONFIRMED");
    JsonObject user = await(http.post("/api/v1/qr/exchange").sendJsonObject(new JsonObject().put("ticket", state.getString("ticket"))))
        .bodyAsJsonObject().getJsonObject("user");
    assertThat(user.getString("id")).isEqualTo(miniUser);
    assertThat(user.getString("unionid")).isEqualTo("u-shared");
    assertThat(user.getJsonArray("identities").stream().map(o -> ((JsonObject) o).getString("connection")).toList())
        .containsExactlyInAnyOrder("wechat-mini", "wechat-mp");
  }

  @Test
  void anUnknownSceneIsAnsweredSuccessAndChangesNothing(Vertx vertx) throws Exception {
    ScanGate g = gateways.start(vertx, TestConfigs.parse(yaml("safe", "")));
    WebClient http = TestHttp.client(vertx, g.port());
    JsonObject session = createSession(http);
    var c = g.infrastructure().config().connection("wechat-mp", ScanGateConfig.OfficialAccountConnection.class).orElseThrow();
    long now = System.currentTimeMillis() / 1000;
    HttpResponse<Buffer> r = post(http, c, push(c, c.token(), event("o-x", "SCAN", "nosuchscene0000000000000"), now, "111"));
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.bodyAsString()).isEqualTo("success");
    assertThat(read(http, session.getString("sessionId")).getString("status")).isEqualTo("PENDING");
  }

  @Test
  void aForgedOrReplayedEventNeverConfirmsASession(Vertx vertx) throws Exception {
    ScanGate g = gateways.start(vertx, TestConfigs.parse(yaml("safe", "")));
    WebClient http = TestHttp.client(vertx, g.port());
    var c = g.infrastructure().config().connection("wechat-mp", ScanGateConfig.OfficialAccountConnection.class).orElseThrow();
    JsonObject session = createSession(http);
    String id = session.getString("sessionId");
    String scene = session.getString("scene");
    long now = System.currentTimeMillis() / 1000;

    // Signed with another token (someone who does not hold the connection's token).
    HttpResponse<Buffer> forged = post(http, c, push(c, "someoneElse9", event("o-attacker", "SCAN", scene), now, "222"));
    assertThat(forged.statusCode()).isEqualTo(401);
    // Signed properly, but long ago: a captured push replayed later.
    HttpResponse<Buffer> stale = post(http, c, push(c, c.token(), event("o-attacker", "SCAN", scene), now - 3600, "333"));
    assertThat(stale.statusCode()).isEqualTo(401);
    assertThat(read(http, id).getString("status")).isEqualTo("PENDING");

    // A genuine push for another scene; then its signed query replayed with this session's scene in the body.
    Push genuine = push(c, c.token(), event("o-attacker", "SCAN", "otherscene00000000000000"), now, "444");
    assertThat(post(http, c, genuine).statusCode()).isEqualTo(200);
    Push swapped = push(c, c.token(), event("o-attacker", "SCAN", scene), now, "444");
    HttpResponse<Buffer> replayed = post(http, c, new Push(genuine.query(), swapped.body()));
    assertThat(replayed.statusCode()).isEqualTo(401);
    assertThat(read(http, id).getString("status")).isEqualTo("PENDING");
  }

  /** The link the scanner was sent, from the passive reply's text. */
  static String confirmLink(JsonObject pushed) {
    String content = WeChatXml.parse(pushed.getString("reply")).get("Content");
    var m = java.util.regex.Pattern.compile("https?://\\S+/official-account/confirm/[A-Za-z0-9_-]{43}").matcher(content);
    assertThat(m.find()).as(content).isTrue();
    return m.group();
  }

  static String csrfToken(String html) {
    var m = java.util.regex.Pattern.compile("name=\"X-XSRF-TOKEN\" value=\"([^\"]+)\"").matcher(html);
    assertThat(m.find()).as(html).isTrue();
    return m.group(1);
  }

  static HttpResponse<Buffer> submit(io.vertx.ext.web.client.WebClientSession phone, String link, String action, String token)
      throws Exception {
    var form = io.vertx.core.MultiMap.caseInsensitiveMultiMap();
    if (token != null) form.add("X-XSRF-TOKEN", token);
    return await(phone.postAbs(link + "/" + action).sendForm(form));
  }

  @Test
  void withConfirmLinkTheScanMarksScannedAndOnlyTheLinksConfirmLogsIn(Vertx vertx) throws Exception {
    ScanGate g = gateways.start(vertx, TestConfigs.parse(yaml("safe", "    confirmMode: link\n    welcomeMessage: \"Hi\"\n")));
    WebClient http = TestHttp.client(vertx, g.port());
    JsonObject session = createSession(http);
    String id = session.getString("sessionId");

    JsonObject pushed = scan(http, session, "o-linker", null, true);
    assertThat(pushed.getString("body")).as("the link travels encrypted").doesNotContain("official-account");
    String link = confirmLink(pushed);
    assertThat(read(http, id).getString("status")).isEqualTo("SCANNED");

    var phone = io.vertx.ext.web.client.WebClientSession.create(TestHttp.client(vertx, g.port()));
    HttpResponse<Buffer> page = await(phone.getAbs(link).send());
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.getHeader("Content-Security-Policy")).contains("frame-ancestors 'none'", "form-action 'self'");
    assertThat(page.bodyAsString()).contains("Demo site", "127.0.0.*", "TestBrowser/1.0");
    // Opened again: still nothing changes; the latest page's token is the one its cookie signs.
    String token = csrfToken(await(phone.getAbs(link).send()).bodyAsString());
    assertThat(read(http, id).getString("status")).as("opening the link changes nothing").isEqualTo("SCANNED");

    assertThat(submit(phone, link, "confirm", null).statusCode()).as("no CSRF token").isEqualTo(403);
    HttpResponse<Buffer> foreign = await(TestHttp.client(vertx, g.port()).postAbs(link + "/confirm")
        .sendForm(io.vertx.core.MultiMap.caseInsensitiveMultiMap().add("X-XSRF-TOKEN", token)));
    assertThat(foreign.statusCode()).as("the token without its cookie").isEqualTo(403);
    assertThat(read(http, id).getString("status")).isEqualTo("SCANNED");

    HttpResponse<Buffer> confirmed = submit(phone, link, "confirm", token);
    assertThat(confirmed.statusCode()).as(confirmed.bodyAsString()).isEqualTo(200);
    assertThat(confirmed.bodyAsString()).contains("logged in");
    JsonObject state = read(http, id);
    assertThat(state.getString("status")).isEqualTo("CONFIRMED");
    JsonObject user = await(http.post("/api/v1/qr/exchange").sendJsonObject(new JsonObject().put("ticket", state.getString("ticket"))))
        .bodyAsJsonObject().getJsonObject("user");
    assertThat(user.getJsonArray("identities").getJsonObject(0).getString("openid")).isEqualTo("o-linker");

    HttpResponse<Buffer> page2 = await(phone.getAbs(link).send());
    assertThat(page2.statusCode()).as("the link works once").isEqualTo(404);
    assertThat(page2.bodyAsString()).doesNotContain("X-XSRF-TOKEN\" value");
    HttpResponse<Buffer> again = submit(phone, link, "confirm", token);
    assertThat(again.statusCode()).isIn(403, 404);
    assertThat(read(http, id).getString("ticket")).isEqualTo(state.getString("ticket"));
  }

  @Test
  void withConfirmLinkCancelEndsTheSessionAndAnotherScannerGetsNoLink(Vertx vertx) throws Exception {
    ScanGate g = gateways.start(vertx, TestConfigs.parse(yaml("safe", "    confirmMode: link\n")));
    WebClient http = TestHttp.client(vertx, g.port());
    JsonObject session = createSession(http);
    String id = session.getString("sessionId");
    String link = confirmLink(scan(http, session, "o-first", null, false));
    JsonObject other = scan(http, session, "o-intruder", null, false);
    assertThat(other.getString("body")).as("the first scanner owns the session").isEqualTo("success");

    var phone = io.vertx.ext.web.client.WebClientSession.create(TestHttp.client(vertx, g.port()));
    String token = csrfToken(await(phone.getAbs(link).send()).bodyAsString());
    HttpResponse<Buffer> canceled = submit(phone, link, "cancel", token);
    assertThat(canceled.statusCode()).as(canceled.bodyAsString()).isEqualTo(200);
    assertThat(read(http, id).getString("status")).isEqualTo("CANCELED");
    assertThat(await(phone.getAbs(link).send()).statusCode()).isEqualTo(404);
    assertThat(submit(phone, link, "confirm", token).statusCode()).isIn(403, 404);
    assertThat(read(http, id).getString("status")).isEqualTo("CANCELED");
  }

  @Test
  void withConfirmLinkLoginOnlyRefusesAtTheConfirm(Vertx vertx) throws Exception {
    ScanGate g = gateways.start(vertx, TestConfigs.parse(yaml("safe", "    confirmMode: link\n    loginOnly: true\n")));
    WebClient http = TestHttp.client(vertx, g.port());
    JsonObject session = createSession(http);
    String link = confirmLink(scan(http, session, "o-stranger", null, true));
    var phone = io.vertx.ext.web.client.WebClientSession.create(TestHttp.client(vertx, g.port()));
    String token = csrfToken(await(phone.getAbs(link).send()).bodyAsString());
    HttpResponse<Buffer> refused = submit(phone, link, "confirm", token);
    assertThat(refused.statusCode()).isEqualTo(200);
    assertThat(refused.bodyAsString()).contains("refused");
    JsonObject state = read(http, session.getString("sessionId"));
    assertThat(state.getString("status")).isEqualTo("FAILED");
    assertThat(state.getString("error")).isEqualTo("login_only");
  }

  // ---- pushes made by hand, as WeChat's servers make them (safe mode) ----

  record Push(String query, String body) {}

  static Map<String, Object> event(String openid, String event, String eventKey) {
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("ToUserName", "gh_0123456789ab");
    fields.put("FromUserName", openid);
    fields.put("CreateTime", System.currentTimeMillis() / 1000);
    fields.put("MsgType", "event");
    fields.put("Event", event);
    fields.put("EventKey", eventKey);
    return fields;
  }

  static Push push(ScanGateConfig.OfficialAccountConnection c, String token, Map<String, Object> fields, long timestamp, String nonce) {
    WeChatMessageCrypto crypto = new WeChatMessageCrypto(token, c.encodingAesKey(), c.wechatAppId());
    String ts = String.valueOf(timestamp);
    String encrypt = crypto.encrypt(WeChatXml.build(fields));
    String query = "signature=" + crypto.sign(ts, nonce) + "&timestamp=" + ts + "&nonce=" + nonce + "&openid="
        + fields.get("FromUserName") + "&encrypt_type=aes&msg_signature=" + crypto.sign(ts, nonce, encrypt);
    return new Push(query, crypto.encryptedPush("gh_0123456789ab", encrypt));
  }

  static HttpResponse<Buffer> post(WebClient http, ScanGateConfig.OfficialAccountConnection c, Push push) throws Exception {
    return await(http.post("/connections/social/" + c.identifier() + "/default/events?" + push.query())
        .putHeader("Content-Type", "text/xml").sendBuffer(Buffer.buffer(push.body())));
  }
}
