package io.scangate.qr;

import io.scangate.ScanGate;
import io.scangate.testing.Gateways;
import io.scangate.testing.RawHttp;
import io.scangate.testing.TestConfigs;
import io.scangate.testing.TestHttp;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.multipart.MultipartForm;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;

import static io.scangate.qr.MiniProgramQrLoginTest.createSession;
import static io.scangate.qr.MiniProgramQrLoginTest.post;
import static io.scangate.qr.MiniProgramQrLoginTest.scan;
import static io.scangate.qr.MiniProgramQrLoginTest.wxLogin;
import static io.scangate.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 9: the landed API tried as an attacker would. Each refusal answers our JSON error and
 * changes nothing (the session keeps its status, the ticket stays usable, nothing is stored).
 */
@ExtendWith(VertxExtension.class)
class HostileInputTest {

  static final String OTHER_ORIGIN = "https://other.example.com";
  static final String DEMO_ORIGIN = "http://127.0.0.1:9";

  /** The standard applications plus "other", whose pages live on another origin than demo's. */
  static final String YAML = MiniProgramQrLoginTest.YAML.replace("connections:\n  - identifier: \"wechat-mp\"", """
        - appId: "other"
          appSecret: "other-app-secret-for-tests"
          name: "Another site"
          redirectUris: ["https://other.example.com/callback"]
          connections: ["wechat-mini-qr"]
          allowedOrigins: ["https://other.example.com"]
      connections:
        - identifier: "wechat-mp\"""");

  static final List<String> BAD_NICKNAMES = List.of("Mei\u0000", "\u0000", "Mei\u0007", "Mei\u001b[31m", "Mei\u202Egnp.exe",
      "Mei\nAdmin", "Mei\r\n");
  static final List<String> BAD_AVATARS = List.of("javascript:alert(1)", "JavaScript:alert(1)", "data:image/png;base64,AAAA",
      "vbscript:msgbox(1)", "http://tmp/abc.png", "wxfile://tmp_abc.png", "https://img.example.com/a\u0000.png",
      "https://img.example.com/a\n.png", "https://img.example.com/\u202Ea.png");

  private final Gateways gateways = new Gateways();

  @AfterEach
  void stop() {
    gateways.closeAll();
  }

  private ScanGate start(Vertx vertx) {
    return gateways.start(vertx, TestConfigs.parse(YAML));
  }

  private static void assertError(HttpResponse<Buffer> r, int status, String code) {
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(status);
    assertThat(r.getHeader("Content-Type")).startsWith("application/json");
    assertThat(r.bodyAsJsonObject().getString("error")).as(r.bodyAsString()).isEqualTo(code);
    assertThat(r.bodyAsJsonObject().getString("message")).isNotBlank();
  }

  private static String status(WebClient client, String sessionId) throws Exception {
    HttpResponse<Buffer> r = await(client.get("/api/v1/qr/sessions/" + sessionId).send());
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
    return r.bodyAsJsonObject().getString("status");
  }

  private static long users(ScanGate g) throws Exception {
    return await(g.infrastructure().postgres().query("SELECT count(*) FROM users").execute()).iterator().next().getLong(0);
  }

  // ---- 1 and 2: one profile validation at every door ----

  @Test
  void aConfirmWithAnUnsafeProfileIsRefusedAndTheSessionStaysScanned(Vertx vertx) throws Exception {
    ScanGate g = start(vertx);
    WebClient client = TestHttp.client(vertx, g.port());
    JsonObject session = createSession(client, "demo");
    String scene = session.getString("scene");
    String id = session.getString("sessionId");
    String scanToken = scan(client, scene, wxLogin(client, "o-hostile", null, null).getString("code")).getString("scanToken");
    String confirm = "/api/v1/miniprogram/qr/" + scene + "/confirm";

    for (String nickname : BAD_NICKNAMES) {
      HttpResponse<Buffer> r = post(client, confirm, new JsonObject().put("scanToken", scanToken)
          .put("profile", new JsonObject().put("nickname", nickname).put("avatarUrl", "https://img.example.com/mei.png")));
      assertError(r, 400, "invalid_profile");
    }
    for (String avatar : BAD_AVATARS) {
      HttpResponse<Buffer> r = post(client, confirm, new JsonObject().put("scanToken", scanToken)
          .put("profile", new JsonObject().put("nickname", "Mei").put("avatarUrl", avatar)));
      assertError(r, 400, "invalid_profile");
    }
    assertThat(status(client, id)).isEqualTo("SCANNED");
    assertThat(users(g)).isZero();

    HttpResponse<Buffer> ok = post(client, confirm, new JsonObject().put("scanToken", scanToken)
        .put("profile", new JsonObject().put("nickname", "Mei 美").put("avatarUrl", "https://img.example.com/mei.png")));
    assertThat(ok.statusCode()).as(ok.bodyAsString()).isEqualTo(200);
    JsonObject state = await(client.get("/api/v1/qr/sessions/" + id).send()).bodyAsJsonObject();
    assertThat(state.getString("status")).isEqualTo("CONFIRMED");
    assertThat(state.getJsonObject("scannedBy").getString("nickname")).isEqualTo("Mei 美");
  }

  @Test
  void patchUsersMeRefusesTheSameProfilesAndStoresNothing(Vertx vertx) throws Exception {
    ScanGate g = start(vertx);
    WebClient client = TestHttp.client(vertx, g.port());
    String ticket = MiniProgramQrLoginTest.confirmedTicket(vertx, g, client, "demo", "o-patch");
    String access = post(client, "/api/v1/qr/exchange", new JsonObject().put("ticket", ticket)).bodyAsJsonObject()
        .getJsonObject("tokens").getString("access_token");
    HttpResponse<Buffer> named = await(client.patch("/api/v1/users/me").bearerTokenAuthentication(access)
        .sendJsonObject(new JsonObject().put("nickname", "Before").put("avatarUrl", "https://img.example.com/before.png")));
    assertThat(named.statusCode()).as(named.bodyAsString()).isEqualTo(200);

    for (String nickname : BAD_NICKNAMES) {
      assertError(await(client.patch("/api/v1/users/me").bearerTokenAuthentication(access)
          .sendJsonObject(new JsonObject().put("nickname", nickname))), 400, "invalid_profile");
    }
    for (String avatar : BAD_AVATARS) {
      assertError(await(client.patch("/api/v1/users/me").bearerTokenAuthentication(access)
          .sendJsonObject(new JsonObject().put("avatarUrl", avatar))), 400, "invalid_profile");
    }
    JsonObject me = await(client.get("/oidc/me").bearerTokenAuthentication(access).send()).bodyAsJsonObject();
    assertThat(me.getString("nickname")).isEqualTo("Before");
    assertThat(me.getString("picture") == null ? me.getString("avatarUrl") : me.getString("picture"))
        .isEqualTo("https://img.example.com/before.png");
  }

  // ---- 1: no control characters from clients reach PostgreSQL or Redis ----

  @Test
  void identifiersAndCodesWithControlCharactersAreRefusedNamingTheField(Vertx vertx) throws Exception {
    ScanGate g = start(vertx);
    WebClient client = TestHttp.client(vertx, g.port());
    assertInvalid(post(client, "/api/v1/qr/sessions", new JsonObject().put("appId", "de\u0000mo").put("connection", "wechat-mini-qr")), "appId");
    assertInvalid(post(client, "/api/v1/qr/sessions", new JsonObject().put("appId", "demo").put("connection", "wechat-mini-qr\u0000")), "connection");
    JsonObject session = createSession(client, "demo");
    String scene = session.getString("scene");
    JsonObject codes = wxLogin(client, "o-nul", null, "13800138000");
    assertInvalid(post(client, "/api/v1/miniprogram/qr/" + scene + "/scan",
        new JsonObject().put("connection", "wechat-mini-qr").put("code", codes.getString("code") + "\u0000")), "code");
    assertThat(status(client, session.getString("sessionId"))).isEqualTo("PENDING");
    String scanToken = scan(client, scene, codes.getString("code")).getString("scanToken");
    String confirm = "/api/v1/miniprogram/qr/" + scene + "/confirm";
    assertInvalid(post(client, confirm, new JsonObject().put("scanToken", scanToken + "\u0000")), "scanToken");
    assertInvalid(post(client, confirm, new JsonObject().put("scanToken", scanToken).put("phoneCode", "p\u0000")), "phoneCode");
    assertInvalid(post(client, "/api/v1/miniprogram/qr/" + scene + "/cancel", new JsonObject().put("scanToken", "\u0000" + scanToken)), "scanToken");
    assertInvalid(post(client, "/api/v1/qr/exchange", new JsonObject().put("ticket", "t\u0000")), "ticket");
    assertInvalid(post(client, "/api/v1/miniprogram/login", new JsonObject().put("appId", "demo\u0000")
        .put("connection", "wechat-mini").put("code", "c")), "appId");
    assertThat(status(client, session.getString("sessionId"))).isEqualTo("SCANNED");
    assertThat(users(g)).isZero();
    // Legitimate values pass: the same confirm without the NUL works.
    HttpResponse<Buffer> ok = post(client, confirm, new JsonObject().put("scanToken", scanToken));
    assertThat(ok.statusCode()).as(ok.bodyAsString()).isEqualTo(200);
  }

  private static void assertInvalid(HttpResponse<Buffer> r, String field) {
    assertError(r, 400, "invalid_request");
    assertThat(r.bodyAsJsonObject().getString("message")).contains("\"" + field + "\"");
  }

  /**
   * The HTTP decoder already refuses C0 controls other than tab and DEL in header values (400, see
   * InvalidRequestTest); tab and C1 controls (bytes 0x80-0x9F) get through and are dropped.
   */
  @Test
  void controlCharactersInTheUserAgentAreDroppedBeforeTheSessionIsStored(Vertx vertx) throws Exception {
    ScanGate g = start(vertx);
    WebClient client = TestHttp.client(vertx, g.port());
    String body = new JsonObject().put("appId", "demo").put("connection", "wechat-mini-qr").encode();
    String answer = RawHttp.exchange(g.port(), "POST /api/v1/qr/sessions HTTP/1.1\r\nHost: 127.0.0.1:" + g.port() + "\r\n"
        + "User-Agent: Evil\tBrowser\u0085/1.0\u009b\r\nContent-Type: application/json\r\nContent-Length: " + body.length()
        + "\r\nConnection: close\r\n\r\n" + body);
    assertThat(answer).startsWith("HTTP/1.1 201");
    JsonObject session = new JsonObject(answer.substring(answer.indexOf("\r\n\r\n") + 4));
    JsonObject scanned = scan(client, session.getString("scene"), wxLogin(client, "o-ua", null, null).getString("code"));
    assertThat(scanned.getJsonObject("session").getString("userAgent")).isEqualTo("EvilBrowser/1.0");
  }

  // ---- 3: the per-application Origin rule on every browser call about a session ----

  @Test
  void anotherApplicationsPageCannotReadWaitForStreamOrExchangeASession(Vertx vertx) throws Exception {
    ScanGate g = start(vertx);
    WebClient client = TestHttp.client(vertx, g.port());
    JsonObject session = createSession(client, "demo");
    String id = session.getString("sessionId");
    String path = "/api/v1/qr/sessions/" + id;

    assertError(await(client.get(path).putHeader("Origin", OTHER_ORIGIN).send()), 403, "origin_not_allowed");
    long started = System.nanoTime();
    assertError(await(client.get(path + "?waitSeconds=30&since=PENDING").putHeader("Origin", OTHER_ORIGIN).send()), 403, "origin_not_allowed");
    assertThat((System.nanoTime() - started) / 1_000_000).as("refused at once, not after the wait").isLessThan(10_000);
    assertError(await(client.get(path + "/events").putHeader("Origin", OTHER_ORIGIN).send()), 403, "origin_not_allowed");
    // The application's own pages, the gateway's pages and server-to-server calls (no Origin) may read it.
    String gateway = io.scangate.login.LoginPipeline.originOf(g.infrastructure().config().server().publicUrl());
    for (String allowed : new String[] {DEMO_ORIGIN, gateway}) {
      HttpResponse<Buffer> r = await(client.get(path).putHeader("Origin", allowed).send());
      assertThat(r.statusCode()).as(allowed + ": " + r.bodyAsString()).isEqualTo(200);
    }
    assertThat(status(client, id)).isEqualTo("PENDING");
    // An unknown session stays a 404 whoever asks.
    assertError(await(client.get("/api/v1/qr/sessions/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").putHeader("Origin", OTHER_ORIGIN).send()),
        404, "session_not_found");

    // demo's pages may not read "other"'s sessions either.
    JsonObject others = createSession(client, "other");
    assertError(await(client.get("/api/v1/qr/sessions/" + others.getString("sessionId")).putHeader("Origin", DEMO_ORIGIN).send()),
        403, "origin_not_allowed");

    String ticket = MiniProgramQrLoginTest.confirmedTicket(vertx, g, client, "demo", "o-origin");
    HttpResponse<Buffer> foreign = await(client.post("/api/v1/qr/exchange").putHeader("Origin", OTHER_ORIGIN)
        .sendJsonObject(new JsonObject().put("ticket", ticket)));
    assertError(foreign, 403, "origin_not_allowed");
    // The refusal did not use the ticket up: demo's own page exchanges it.
    HttpResponse<Buffer> own = await(client.post("/api/v1/qr/exchange").putHeader("Origin", DEMO_ORIGIN)
        .sendJsonObject(new JsonObject().put("ticket", ticket)));
    assertThat(own.statusCode()).as(own.bodyAsString()).isEqualTo(200);
    assertThat(own.getHeader("Access-Control-Allow-Origin")).isEqualTo(DEMO_ORIGIN);
  }

  @Test
  void aServerToServerExchangeWithoutOriginStillWorks(Vertx vertx) throws Exception {
    ScanGate g = start(vertx);
    WebClient client = TestHttp.client(vertx, g.port());
    String ticket = MiniProgramQrLoginTest.confirmedTicket(vertx, g, client, "other", "o-server");
    HttpResponse<Buffer> exchanged = post(client, "/api/v1/qr/exchange", new JsonObject().put("ticket", ticket));
    assertThat(exchanged.statusCode()).as(exchanged.bodyAsString()).isEqualTo(200);
  }

  // ---- 4: content types ----

  @Test
  void jsonEndpointsRefuseFormsMultipartAndTextWith415(Vertx vertx) throws Exception {
    ScanGate g = start(vertx);
    WebClient client = TestHttp.client(vertx, g.port());
    String json = new JsonObject().put("appId", "demo").put("connection", "wechat-mini-qr").encode();
    assertError(await(client.post("/api/v1/qr/sessions")
        .sendForm(MultiMap.caseInsensitiveMultiMap().add("appId", "demo").add("connection", "wechat-mini-qr"))), 415, "unsupported_media_type");
    assertError(await(client.post("/api/v1/qr/sessions")
        .sendMultipartForm(MultipartForm.create().attribute("appId", "demo").attribute("connection", "wechat-mini-qr"))), 415,
        "unsupported_media_type");
    for (String type : new String[] {"text/plain", "text/plain; charset=utf-8", "text/json", "application/x-www-form-urlencoded"}) {
      assertError(await(client.post("/api/v1/qr/sessions").putHeader("Content-Type", type).sendBuffer(Buffer.buffer(json))), 415,
          "unsupported_media_type");
    }
    JsonObject session = createSession(client, "demo");
    assertError(await(client.post("/api/v1/miniprogram/qr/" + session.getString("scene") + "/cancel").putHeader("Content-Type", "text/plain")
        .sendBuffer(Buffer.buffer(new JsonObject().put("scanToken", "x").encode()))), 415, "unsupported_media_type");
    assertThat(status(client, session.getString("sessionId"))).isEqualTo("PENDING");

    // JSON by any of its names, and a body without a Content-Type, are read as JSON.
    for (String type : new String[] {"application/json", "application/json; charset=utf-8", "Application/JSON;charset=UTF-8",
        "application/vnd.scangate+json"}) {
      HttpResponse<Buffer> r = await(client.post("/api/v1/qr/sessions").putHeader("Content-Type", type).sendBuffer(Buffer.buffer(json)));
      assertThat(r.statusCode()).as(type + ": " + r.bodyAsString()).isEqualTo(201);
    }
    HttpResponse<Buffer> untyped = await(client.post("/api/v1/qr/sessions").sendBuffer(Buffer.buffer(json)));
    assertThat(untyped.getHeader("Content-Type")).startsWith("application/json");
    assertThat(untyped.statusCode()).as(untyped.bodyAsString()).isEqualTo(201);

    // PATCH /api/v1/users/me too; OAuth's form endpoints are not JSON endpoints.
    String ticket = MiniProgramQrLoginTest.confirmedTicket(vertx, g, client, "demo", "o-types");
    JsonObject tokens = post(client, "/api/v1/qr/exchange", new JsonObject().put("ticket", ticket)).bodyAsJsonObject().getJsonObject("tokens");
    assertError(await(client.patch("/api/v1/users/me").bearerTokenAuthentication(tokens.getString("access_token"))
        .sendForm(MultiMap.caseInsensitiveMultiMap().add("nickname", "Form"))), 415, "unsupported_media_type");
    HttpResponse<Buffer> refreshed = await(client.post("/oidc/token").basicAuthentication("demo", "demo-app-secret-for-tests")
        .sendForm(MultiMap.caseInsensitiveMultiMap().add("grant_type", "refresh_token").add("refresh_token", tokens.getString("refresh_token"))));
    assertThat(refreshed.statusCode()).as(refreshed.bodyAsString()).isEqualTo(200);
  }

  // ---- 5: repeats of what an endpoint reads ----

  @Test
  void repeatedParametersAndHeadersAnEndpointReadsAreRefused(Vertx vertx) throws Exception {
    ScanGate g = start(vertx);
    WebClient client = TestHttp.client(vertx, g.port());
    String path = "/api/v1/qr/sessions/" + createSession(client, "demo").getString("sessionId");
    assertError(await(client.get(path + "?waitSeconds=1&waitSeconds=abc").send()), 400, "invalid_request");
    assertError(await(client.get(path + "?waitSeconds=1&waitSeconds=1").send()), 400, "invalid_request");
    assertError(await(client.get(path + "?since=PENDING&since=SCANNED").send()), 400, "invalid_request");
    assertError(await(client.get(path + "?waitSeconds=1&since=PENDING&since=PENDING").send()), 400, "invalid_request");
    assertThat(await(client.get(path + "?waitSeconds=1&since=SCANNED&other=1&other=2").send()).statusCode()).isEqualTo(200);

    String ticket = MiniProgramQrLoginTest.confirmedTicket(vertx, g, client, "demo", "o-repeat");
    String access = post(client, "/api/v1/qr/exchange", new JsonObject().put("ticket", ticket)).bodyAsJsonObject()
        .getJsonObject("tokens").getString("access_token");
    HttpResponse<Buffer> twice = await(client.get("/auth/verify").putHeader("Authorization", List.of("Bearer " + access, "Bearer x")).send());
    assertError(twice, 400, "invalid_request");
    assertThat(twice.getHeader("X-Auth-User-Id")).isNull();
    HttpResponse<Buffer> same = await(client.get("/auth/verify").putHeader("Authorization", List.of("Bearer " + access, "Bearer " + access)).send());
    assertError(same, 400, "invalid_request");
    assertError(await(client.get("/auth/verify").bearerTokenAuthentication(access)
        .putHeader("X-ScanGate-Audience", List.of("demo", "other")).send()), 400, "invalid_request");
    // What forward-auth passes through is left alone; a repeated aud stays invalid_token as before.
    HttpResponse<Buffer> passedThrough = await(client.get("/auth/verify/page?x=1&x=2").bearerTokenAuthentication(access).send());
    assertThat(passedThrough.statusCode()).isEqualTo(200);
    assertThat(await(client.get("/auth/verify?aud=demo&aud=demo").bearerTokenAuthentication(access).send()).statusCode()).isEqualTo(401);
  }
}
