package io.scangate.authing;

import io.scangate.ScanGate;
import io.scangate.config.ScanGateConfig;
import io.scangate.testing.Gateways;
import io.scangate.testing.TestConfigs;
import io.scangate.testing.TestHttp;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static io.scangate.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Authing-compatible API as authing-js-sdk 4.x and authing-wxapp-sdk call it (their requests
 * as read from the packages' source): the sandbox plays WeChat, the test plays the SDK's page.
 */
@ExtendWith(VertxExtension.class)
class AuthingApiTest {

  static final String PAGE = "http://127.0.0.1:9";

  private final Gateways gateways = new Gateways();

  @AfterEach
  void stop() {
    gateways.closeAll();
  }

  ScanGate start(Vertx vertx, ScanGateConfig config) {
    return gateways.start(vertx, config);
  }

  /** A request as the SDK's HttpClient sends it from an application's page. */
  static HttpRequest<Buffer> sdk(WebClient client, HttpMethod method, String path, String appId) {
    HttpRequest<Buffer> r = client.request(method, path)
        .putHeader("Origin", PAGE)
        .putHeader("x-authing-userpool-id", "59f86b4832eb28071bdd9214")
        .putHeader("x-authing-request-from", "sdk")
        .putHeader("x-authing-sdk-version", "js:4.23.55")
        .putHeader("x-authing-lang", "zh-CN");
    if (appId != null) r.putHeader("x-authing-app-id", appId);
    return r;
  }

  static HttpResponse<Buffer> gene(WebClient client, String appId, JsonObject body) throws Exception {
    return await(sdk(client, HttpMethod.POST, "/api/v2/qrcode/gene", appId).sendJsonObject(body));
  }

  static JsonObject geneOk(WebClient client, String scene) throws Exception {
    HttpResponse<Buffer> r = gene(client, "demo", new JsonObject().put("autoMergeQrCode", false).put("scene", scene));
    return data(r);
  }

  static JsonObject data(HttpResponse<Buffer> r) {
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
    JsonObject body = r.bodyAsJsonObject();
    assertThat(body.getInteger("code")).as(r.bodyAsString()).isEqualTo(200);
    return body.getJsonObject("data");
  }

  static HttpResponse<Buffer> check(WebClient client, String appId, String random) throws Exception {
    return await(sdk(client, HttpMethod.GET, "/api/v2/qrcode/check?random=" + random, appId).send());
  }

  static HttpResponse<Buffer> userinfo(WebClient client, String appId, String ticket) throws Exception {
    return await(sdk(client, HttpMethod.POST, "/api/v2/qrcode/userinfo", appId).sendJsonObject(new JsonObject().put("ticket", ticket)));
  }

  static void assertError(HttpResponse<Buffer> r, int status, String error) {
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(status);
    JsonObject body = r.bodyAsJsonObject();
    assertThat(body.getInteger("code")).isEqualTo(status);
    assertThat(body.getString("error")).isEqualTo(error);
    assertThat(body.getString("message")).isNotBlank();
    assertThat(body.containsKey("data")).isTrue();
  }

  /** The phone: sandbox codes as wx.login / getPhoneNumber give them. */
  static JsonObject wxLogin(WebClient client, String openid, String phone) throws Exception {
    JsonObject request = new JsonObject().put("appId", "wxtestmini000001").put("openid", openid).put("unionid", "u-" + openid);
    if (phone != null) request.put("phone", phone);
    HttpResponse<Buffer> r = await(client.post("/sandbox/control/miniprogram/code").sendJsonObject(request));
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
    return r.bodyAsJsonObject();
  }

  /** The session's public scene, as the code shows it (the SDK's page never sees it: the test reads it back). */
  static String sceneOf(WebClient client, String random) throws Exception {
    return await(client.get("/api/v1/qr/sessions/" + random).send()).bodyAsJsonObject().getString("scene");
  }

  static String scan(WebClient phone, String scene, String code) throws Exception {
    HttpResponse<Buffer> r = await(phone.post("/api/v1/miniprogram/qr/" + scene + "/scan")
        .sendJsonObject(new JsonObject().put("connection", "wechat-mini-qr").put("code", code)));
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
    return r.bodyAsJsonObject().getString("scanToken");
  }

  static JsonObject confirm(WebClient phone, String scene, String scanToken, String phoneCode) throws Exception {
    JsonObject body = new JsonObject().put("scanToken", scanToken)
        .put("profile", new JsonObject().put("nickname", "Mei").put("avatarUrl", "https://img.example.com/mei.png"));
    if (phoneCode != null) body.put("phoneCode", phoneCode);
    HttpResponse<Buffer> r = await(phone.post("/api/v1/miniprogram/qr/" + scene + "/confirm").sendJsonObject(body));
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
    return r.bodyAsJsonObject();
  }

  @Test
  void aMiniProgramCodeIsScannedConfirmedAndExchangedForAnAuthingUser(Vertx vertx) throws Exception {
    ScanGate g = start(vertx, TestConfigs.standard());
    WebClient client = TestHttp.client(vertx, g.port());

    JsonObject code = geneOk(client, "WXAPP_AUTH");
    String random = code.getString("random");
    assertThat(random).matches("[A-Za-z0-9_-]{22,}");
    assertThat(code.getString("url")).startsWith("http").endsWith(".png").doesNotContain(random);
    assertThat(code.getLong("expiresIn")).isBetween(115L, 120L); // Authing's 120 s = our default qr.sessionTtl
    HttpResponse<Buffer> image = await(client.getAbs(code.getString("url")).send());
    assertThat(image.statusCode()).isEqualTo(200);
    assertThat(image.getHeader("Content-Type")).isEqualTo("image/png");

    JsonObject pending = data(check(client, "demo", random));
    assertThat(pending.getInteger("status")).isZero();
    assertThat(pending.getJsonObject("userInfo")).isEqualTo(new JsonObject());

    String scene = sceneOf(client, random);
    assertThat(code.getString("url")).contains(scene);
    JsonObject codes = wxLogin(client, "o-mei", "13800138000");
    String scanToken = scan(client, scene, codes.getString("code"));
    JsonObject scanned = data(check(client, "demo", random));
    assertThat(scanned.getInteger("status")).isEqualTo(1);
    // The SDK reads userInfo.nickname on the first scan: the object is there even before a profile.
    assertThat(scanned.getJsonObject("userInfo")).isNotNull();
    assertThat(scanned.containsKey("ticket")).isFalse();

    confirm(client, scene, scanToken, codes.getString("phoneCode"));
    HttpResponse<Buffer> authorizedResponse = check(client, "demo", random);
    JsonObject authorized = data(authorizedResponse);
    assertThat(authorized.getInteger("status")).isEqualTo(2);
    assertThat(authorized.getJsonObject("userInfo"))
        .isEqualTo(new JsonObject().put("nickname", "Mei").put("photo", "https://img.example.com/mei.png"));
    String ticket = authorized.getString("ticket");
    assertThat(ticket).isNotBlank();
    // check never carries tokens or the profile.
    assertThat(authorizedResponse.bodyAsString()).doesNotContain("13800138000", "o-mei", "u-o-mei", "token\"", "accessToken");

    JsonObject user = data(userinfo(client, "demo", ticket));
    assertThat(user.getString("id")).isNotBlank();
    assertThat(user.getString("nickname")).isEqualTo("Mei");
    assertThat(user.getString("photo")).isEqualTo("https://img.example.com/mei.png");
    assertThat(user.getString("phone")).isEqualTo("13800138000");
    assertThat(user.getBoolean("phoneVerified")).isTrue();
    assertThat(user.getString("unionid")).isEqualTo("u-o-mei");
    assertThat(user.getString("openid")).isEqualTo("o-mei");
    assertThat(user.getString("userPoolId")).isEqualTo("default");
    assertThat(user.getString("tokenExpiredAt")).matches("\\d{4}-.*Z");
    assertThat(user.containsKey("refreshToken")).isFalse();

    // accessToken is our access token: forward-auth and validateToken accept it; token is the id token.
    HttpResponse<Buffer> verified = await(client.get("/auth/verify")
        .putHeader("Authorization", "Bearer " + user.getString("accessToken")).send());
    assertThat(verified.statusCode()).isEqualTo(200);
    assertThat(verified.getHeader("X-Auth-User-Id")).isEqualTo(user.getString("id"));
    assertThat(verified.getHeader("X-Auth-App-Id")).isEqualTo("demo");
    JsonObject idClaims = new JsonObject(Buffer.buffer(java.util.Base64.getUrlDecoder().decode(user.getString("token").split("\\.")[1])));
    assertThat(idClaims.getString("sub")).isEqualTo(user.getString("id"));
    assertThat(idClaims.getString("aud")).isEqualTo("demo");
    assertThat(await(client.get("/auth/verify").putHeader("Authorization", "Bearer " + user.getString("token")).send())
        .statusCode()).as("the id token is not an access token").isEqualTo(401);

    JsonObject claims = await(sdk(client, HttpMethod.GET, "/api/v2/oidc/validate_token", "demo")
        .addQueryParam("access_token", user.getString("accessToken")).send()).bodyAsJsonObject();
    assertThat(claims.getString("sub")).isEqualTo(user.getString("id"));
    assertThat(claims.getString("aud")).isEqualTo("demo");
    HttpResponse<Buffer> forged = await(sdk(client, HttpMethod.GET, "/api/v2/oidc/validate_token", "demo")
        .addQueryParam("access_token", user.getString("accessToken") + "x").send());
    assertThat(forged.statusCode()).isEqualTo(200);
    assertThat(forged.bodyAsJsonObject().getInteger("code")).isEqualTo(400);
    assertThat(forged.bodyAsJsonObject().containsKey("sub")).isFalse();
    JsonObject idValidated = await(sdk(client, HttpMethod.GET, "/api/v2/oidc/validate_token", "demo")
        .addQueryParam("id_token", user.getString("token")).send()).bodyAsJsonObject();
    assertThat(idValidated.getString("sub")).isEqualTo(user.getString("id"));
    HttpResponse<Buffer> accessAsId = await(sdk(client, HttpMethod.GET, "/api/v2/oidc/validate_token", "demo")
        .addQueryParam("id_token", user.getString("accessToken")).send());
    assertThat(accessAsId.bodyAsJsonObject().getInteger("code")).as("an access token is not an id token").isEqualTo(400);
    assertError(await(sdk(client, HttpMethod.GET, "/api/v2/oidc/validate_token", "demo")
        .addQueryParam("id_token", user.getString("token")).addQueryParam("access_token", user.getString("accessToken")).send()),
        400, "invalid_request");

    // The ticket works once.
    assertError(userinfo(client, "demo", ticket), 400, "invalid_ticket");
  }

  @Test
  void onlyTheBrowserHoldingRandomSeesTheTicketAndOnlyForItsOwnApplication(Vertx vertx) throws Exception {
    ScanGate g = start(vertx, TestConfigs.standard());
    WebClient client = TestHttp.client(vertx, g.port());
    String random = geneOk(client, "WXAPP_AUTH").getString("random");
    String scene = sceneOf(client, random);
    JsonObject codes = wxLogin(client, "o-lin", null);
    confirm(client, scene, scan(client, scene, codes.getString("code")), null);

    // Another client knows what the code shows (its scene), never random: nothing to read there.
    assertError(check(client, "demo", scene), 404, "session_not_found");
    assertError(check(client, "demo", "not-a-session-id-at-all-000000"), 404, "session_not_found");
    assertError(check(client, "demo", "short"), 404, "session_not_found");
    // Another application's SDK cannot read this application's session, even with random.
    assertError(check(client, "backend", random), 404, "session_not_found");
    // Nor a page of an origin the application does not allow.
    HttpResponse<Buffer> foreign = await(client.get("/api/v2/qrcode/check?random=" + random)
        .putHeader("x-authing-app-id", "demo").putHeader("Origin", "https://evil.example").send());
    assertThat(foreign.statusCode()).isEqualTo(403);
    assertThat(foreign.getHeader("Access-Control-Allow-Origin")).isNull();
    // Without the application header the SDK's calls are refused in Authing's envelope.
    assertError(check(client, null, random), 400, "invalid_request");

    String ticket = data(check(client, "demo", random)).getString("ticket");
    // A ticket used by another application's SDK is unknown there, and stays usable by its own.
    assertError(userinfo(client, "backend", ticket), 400, "invalid_ticket");
    assertThat(data(userinfo(client, "demo", ticket)).getString("accessToken")).isNotBlank();
    assertError(userinfo(client, "demo", ticket), 400, "invalid_ticket");
    assertError(userinfo(client, "demo", "unknown-ticket-0000000000000"), 400, "invalid_ticket");
  }

  @Test
  void canceledAndFailedCodesAnswerAuthingsStatusNumbers(Vertx vertx) throws Exception {
    ScanGate g = start(vertx, TestConfigs.parse(TestConfigs.STANDARD_YAML.replace("    type: wechat-miniprogram-qrcode\n",
        "    type: wechat-miniprogram-qrcode\n    loginOnly: true\n")));
    WebClient client = TestHttp.client(vertx, g.port());

    String canceled = geneOk(client, "WXAPP_AUTH").getString("random");
    String scene = sceneOf(client, canceled);
    String scanToken = scan(client, scene, wxLogin(client, "o-a", null).getString("code"));
    assertThat(await(client.post("/api/v1/miniprogram/qr/" + scene + "/cancel")
        .sendJsonObject(new JsonObject().put("scanToken", scanToken))).statusCode()).isEqualTo(200);
    assertThat(data(check(client, "demo", canceled)).getInteger("status")).isEqualTo(3);

    // loginOnly refuses a stranger: the session fails, and the SDK's onError gets scannedResult.errmsg.
    String failed = geneOk(client, "WXAPP_AUTH").getString("random");
    scene = sceneOf(client, failed);
    confirm(client, scene, scan(client, scene, wxLogin(client, "o-b", null).getString("code")), null);
    JsonObject failedState = data(check(client, "demo", failed));
    assertThat(failedState.getInteger("status")).isEqualTo(5);
    assertThat(failedState.getJsonObject("scannedResult").getString("errmsg")).isEqualTo("login_only");
    assertThat(failedState.containsKey("ticket")).isFalse();

  }

  @Test
  void anExpiredCodeAnswersMinusOne(Vertx vertx) throws Exception {
    ScanGate quick = start(vertx, TestConfigs.parse(TestConfigs.STANDARD_YAML + "qr: { sessionTtl: PT2S }\n"));
    WebClient client = TestHttp.client(vertx, quick.port());
    String expiring = geneOk(client, "WXAPP_AUTH").getString("random");
    Thread.sleep(2300);
    assertThat(data(check(client, "demo", expiring)).getInteger("status")).isEqualTo(-1);
  }

  @Test
  void theSceneChoosesTheKindOfCodeAndExtIdpConnIdOneConnection(Vertx vertx) throws Exception {
    ScanGate g = start(vertx, TestConfigs.standard());
    WebClient client = TestHttp.client(vertx, g.port());

    JsonObject mp = geneOk(client, "WECHATMP_AUTH");
    JsonObject state = await(client.get("/api/v1/qr/sessions/" + mp.getString("random")).send()).bodyAsJsonObject();
    assertThat(state.getString("connection")).isEqualTo("wechat-mp");
    assertThat(data(check(client, "demo", mp.getString("random"))).getInteger("status")).isZero();
    assertThat(await(client.getAbs(mp.getString("url")).send()).statusCode()).isEqualTo(200);

    JsonObject named = data(gene(client, "demo", new JsonObject().put("scene", "WECHATMP_AUTH").put("extIdpConnId", "wechat-mp")));
    assertThat(await(client.get("/api/v1/qr/sessions/" + named.getString("random")).send()).bodyAsJsonObject()
        .getString("connection")).isEqualTo("wechat-mp");
    assertError(gene(client, "demo", new JsonObject().put("scene", "WECHATMP_AUTH").put("extIdpConnId", "wechat-mini-qr")),
        400, "scene_connection_mismatch");
    assertError(gene(client, "demo", new JsonObject().put("scene", "WXAPP_AUTH").put("extIdpConnId", "nope")), 400, "unknown_connection");
    // "backend" enables only the mini program code.
    assertError(gene(client, "backend", new JsonObject().put("scene", "WECHATMP_AUTH")), 400, "connection_not_enabled");
    assertError(gene(client, "demo", new JsonObject().put("scene", "APP_AUTH")), 400, "unsupported_scene");
    assertError(gene(client, "nobody", new JsonObject().put("scene", "WXAPP_AUTH")), 400, "unknown_app");
    assertError(gene(client, null, new JsonObject().put("scene", "WXAPP_AUTH")), 400, "invalid_request");
  }

  @Test
  void corsLetsTheSdkHeadersThroughForTheApplicationsPagesOnly(Vertx vertx) throws Exception {
    ScanGate g = start(vertx, TestConfigs.standard());
    WebClient client = TestHttp.client(vertx, g.port());
    HttpResponse<Buffer> preflight = await(client.request(HttpMethod.OPTIONS, "/api/v2/qrcode/gene")
        .putHeader("Origin", PAGE)
        .putHeader("Access-Control-Request-Method", "POST")
        .putHeader("Access-Control-Request-Headers",
            "content-type,x-authing-app-id,x-authing-lang,x-authing-request-from,x-authing-sdk-version,x-authing-userpool-id")
        .send());
    assertThat(preflight.statusCode()).isBetween(200, 204);
    assertThat(preflight.getHeader("Access-Control-Allow-Origin")).isEqualTo(PAGE);
    assertThat(preflight.getHeader("Access-Control-Allow-Credentials")).isEqualTo("true");
    assertThat(preflight.getHeader("Access-Control-Allow-Headers").toLowerCase()).contains("x-authing-app-id", "x-authing-sdk-version");

    HttpResponse<Buffer> foreign = await(client.request(HttpMethod.OPTIONS, "/api/v2/qrcode/gene")
        .putHeader("Origin", "https://evil.example")
        .putHeader("Access-Control-Request-Method", "POST").send());
    assertThat(foreign.getHeader("Access-Control-Allow-Origin")).isNull();
    HttpResponse<Buffer> foreignGene = await(client.post("/api/v2/qrcode/gene").putHeader("Origin", "https://evil.example")
        .putHeader("x-authing-app-id", "demo").sendJsonObject(new JsonObject().put("scene", "WXAPP_AUTH")));
    assertThat(foreignGene.statusCode()).isEqualTo(403);
    assertThat(foreignGene.getHeader("Access-Control-Allow-Origin")).isNull();

    HttpResponse<Buffer> gene = gene(client, "demo", new JsonObject().put("scene", "WXAPP_AUTH"));
    assertThat(gene.getHeader("Access-Control-Allow-Origin")).isEqualTo(PAGE);
    assertThat(gene.getHeader("Access-Control-Allow-Credentials")).isEqualTo("true");
  }

  @Test
  void theMiniProgramSdksLoginByCodeIsOurSilentLogin(Vertx vertx) throws Exception {
    ScanGate g = start(vertx, TestConfigs.standard());
    WebClient client = TestHttp.client(vertx, g.port());
    JsonObject codes = wxLogin(client, "o-wx", null);
    HttpResponse<Buffer> r = await(client.post("/connections/social/wechat-miniprogram/auth")
        .putHeader("x-authing-app-id", "demo").putHeader("x-authing-request-from", "wxapp")
        .sendJsonObject(new JsonObject().put("code", codes.getString("code"))));
    JsonObject user = data(r);
    assertThat(user.getString("openid")).isEqualTo("o-wx");
    assertThat(user.getString("unionid")).isEqualTo("u-o-wx");
    assertThat(user.getJsonArray("identities").getJsonObject(0).getString("connection")).isEqualTo("wechat-mini");
    assertThat(await(client.get("/auth/verify").putHeader("Authorization", "Bearer " + user.getString("accessToken")).send())
        .statusCode()).isEqualTo(200);
    assertThat(user.getString("token")).contains(".");

    // A used code is refused by WeChat (here the sandbox), in Authing's envelope.
    HttpResponse<Buffer> again = await(client.post("/connections/social/wechat-miniprogram/auth")
        .putHeader("x-authing-app-id", "demo").sendJsonObject(new JsonObject().put("code", codes.getString("code"))));
    assertThat(again.statusCode()).isBetween(400, 499);
    assertThat(again.bodyAsJsonObject().getInteger("code")).isEqualTo(again.statusCode());
    assertThat(again.bodyAsJsonObject().getString("error")).isNotBlank();
    // "backend" enables no silent-login connection.
    HttpResponse<Buffer> backend = await(client.post("/connections/social/wechat-miniprogram/auth")
        .putHeader("x-authing-app-id", "backend").sendJsonObject(new JsonObject().put("code", wxLogin(client, "o-x", null).getString("code"))));
    assertError(backend, 400, "connection_not_enabled");
    HttpResponse<Buffer> phone = await(client.post("/connections/social/wechat-miniprogram/auth-by-phone")
        .putHeader("x-authing-app-id", "demo").sendJsonObject(new JsonObject().put("code", "c").put("iv", "i").put("encryptedData", "e")));
    assertError(phone, 400, "phone_encryption_unsupported");
  }
}
