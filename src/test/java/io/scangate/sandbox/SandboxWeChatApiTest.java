package io.scangate.sandbox;

import io.scangate.ScanGate;
import io.scangate.testing.TestConfigs;
import io.scangate.testing.TestHttp;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The sandbox's WeChat APIs answer like WeChat: shapes, errcodes, one-time codes, token lifecycles. */
@ExtendWith(VertxExtension.class)
class SandboxWeChatApiTest {

  static final String MP = "wxtestmp00000001";
  static final String MP_SECRET = "test-mp-secret-000001";
  static final String MINI = "wxtestmini000001";
  static final String MINI_SECRET = "test-mini-secret-000001";

  ScanGate gateway;
  WebClient http;

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    gateway = ScanGate.start(vertx, TestConfigs.standard(), ScanGate.Options.dev(null)).await(60, TimeUnit.SECONDS);
    http = TestHttp.client(vertx, gateway.port());
  }

  @AfterEach
  void stop() throws Exception {
    http.close();
    gateway.close().await(30, TimeUnit.SECONDS);
  }

  JsonObject get(String uri) throws Exception {
    HttpResponse<Buffer> r = http.get(uri).send().await(20, TimeUnit.SECONDS);
    assertThat(r.statusCode()).as("HTTP status of GET %s", uri).isEqualTo(200);
    return r.bodyAsJsonObject();
  }

  JsonObject post(String uri, JsonObject body) throws Exception {
    HttpResponse<Buffer> r = http.post(uri).sendJsonObject(body).await(20, TimeUnit.SECONDS);
    assertThat(r.statusCode()).as("HTTP status of POST %s: %s", uri, r.bodyAsString()).isEqualTo(200);
    return r.bodyAsJsonObject();
  }

  String token(String appId, String secret) throws Exception {
    return get("/sandbox/wechat/cgi-bin/token?grant_type=client_credential&appid=" + appId + "&secret=" + secret).getString("access_token");
  }

  JsonObject stable(String appId, String secret, boolean force) throws Exception {
    return post("/sandbox/wechat/cgi-bin/stable_token", new JsonObject().put("grant_type", "client_credential")
        .put("appid", appId).put("secret", secret).put("force_refresh", force));
  }

  JsonObject miniCode(JsonObject request) throws Exception {
    return post("/sandbox/control/miniprogram/code", request);
  }

  JsonObject phone(String token, String code) throws Exception {
    return post("/sandbox/wechat/wxa/business/getuserphonenumber?access_token=" + token, new JsonObject().put("code", code));
  }

  @Test
  void tokenChecksAppIdAndSecretAndInvalidatesThePreviousToken() throws Exception {
    JsonObject wrong = get("/sandbox/wechat/cgi-bin/token?grant_type=client_credential&appid=" + MINI + "&secret=nope");
    assertThat(wrong.getInteger("errcode")).isEqualTo(40125);
    assertThat(wrong.getString("errmsg")).doesNotContain("nope");
    assertThat(get("/sandbox/wechat/cgi-bin/token?grant_type=client_credential&appid=wxunknown&secret=x").getInteger("errcode")).isEqualTo(40013);
    assertThat(get("/sandbox/wechat/cgi-bin/token?grant_type=password&appid=" + MINI + "&secret=" + MINI_SECRET).getInteger("errcode")).isEqualTo(40002);

    JsonObject first = get("/sandbox/wechat/cgi-bin/token?grant_type=client_credential&appid=" + MINI + "&secret=" + MINI_SECRET);
    assertThat(first.getInteger("expires_in")).isEqualTo(7200);
    String t1 = first.getString("access_token");
    String code = miniCode(new JsonObject().put("appId", MINI)).getString("phoneCode");
    String t2 = token(MINI, MINI_SECRET);
    assertThat(t2).isNotEqualTo(t1);
    assertThat(phone(t1, code).getInteger("errcode")).isEqualTo(40001);
    assertThat(phone(t2, code).getInteger("errcode")).isEqualTo(0);
  }

  @Test
  void stableTokenNormalModeReturnsTheCurrentTokenAndForceRefreshObeysTheLimits() throws Exception {
    JsonObject a = stable(MINI, MINI_SECRET, false);
    JsonObject b = stable(MINI, MINI_SECRET, false);
    assertThat(b.getString("access_token")).isEqualTo(a.getString("access_token"));
    assertThat(b.getInteger("expires_in")).isBetween(7000, 7200);
    // cgi-bin/token and stable_token are independent, as on WeChat.
    token(MINI, MINI_SECRET);
    assertThat(stable(MINI, MINI_SECRET, false).getString("access_token")).isEqualTo(a.getString("access_token"));

    JsonObject forced = stable(MINI, MINI_SECRET, true);
    assertThat(forced.getString("access_token")).isNotEqualTo(a.getString("access_token"));
    String code = miniCode(new JsonObject().put("appId", MINI)).getString("phoneCode");
    assertThat(phone(a.getString("access_token"), code).getInteger("errcode")).isEqualTo(40001);
    assertThat(stable(MINI, MINI_SECRET, false).getString("access_token")).isEqualTo(forced.getString("access_token"));
    assertThat(stable(MINI, MINI_SECRET, true).getInteger("errcode")).isEqualTo(45011); // once per 30 s
    assertThat(stable(MINI, "wrong-secret", false).getInteger("errcode")).isEqualTo(40125);
  }

  @Test
  void rejectsMissingUnknownExpiredAndRevokedTokens() throws Exception {
    String code = miniCode(new JsonObject().put("appId", MINI)).getString("phoneCode");
    assertThat(post("/sandbox/wechat/wxa/business/getuserphonenumber", new JsonObject().put("code", code)).getInteger("errcode")).isEqualTo(41001);
    assertThat(phone("made-up-token", code).getInteger("errcode")).isEqualTo(40001);

    String token = stable(MINI, MINI_SECRET, false).getString("access_token");
    assertThat(post("/sandbox/control/tokens/expire", new JsonObject().put("appId", MINI)).getInteger("expired")).isEqualTo(1);
    assertThat(phone(token, code).getInteger("errcode")).isEqualTo(42001);
    String renewed = stable(MINI, MINI_SECRET, false).getString("access_token");
    assertThat(renewed).isNotEqualTo(token);

    assertThat(post("/sandbox/control/tokens/revoke", new JsonObject().put("appId", MINI)).getInteger("revoked")).isEqualTo(1);
    assertThat(phone(renewed, code).getInteger("errcode")).isEqualTo(40001);
    assertThat(stable(MINI, MINI_SECRET, false).getString("access_token")).as("normal mode still returns it").isEqualTo(renewed);
    String healed = stable(MINI, MINI_SECRET, true).getString("access_token");
    assertThat(phone(healed, code).getInteger("errcode")).isEqualTo(0);
  }

  @Test
  void jscode2sessionAcceptsEachCodeOnce() throws Exception {
    JsonObject codes = miniCode(new JsonObject().put("appId", MINI).put("openid", "oUser1").put("unionid", "uUnion1"));
    assertThat(codes.getString("openid")).isEqualTo("oUser1");
    String uri = "/sandbox/wechat/sns/jscode2session?appid=" + MINI + "&secret=" + MINI_SECRET + "&grant_type=authorization_code&js_code=";
    JsonObject session = get(uri + codes.getString("code"));
    assertThat(session.getString("openid")).isEqualTo("oUser1");
    assertThat(session.getString("unionid")).isEqualTo("uUnion1");
    assertThat(session.getString("session_key")).hasSizeGreaterThanOrEqualTo(24);
    assertThat(session.containsKey("errcode")).isFalse();
    assertThat(get(uri + codes.getString("code")).getInteger("errcode")).isEqualTo(40163);
    assertThat(get(uri + "never-issued").getInteger("errcode")).isEqualTo(40029);
    assertThat(get(uri).getInteger("errcode")).isEqualTo(41008);

    String fresh = miniCode(new JsonObject().put("appId", MINI)).getString("code");
    JsonObject wrongSecret = get("/sandbox/wechat/sns/jscode2session?appid=" + MINI + "&secret=bad&grant_type=authorization_code&js_code=" + fresh);
    assertThat(wrongSecret.getInteger("errcode")).isEqualTo(40125);
    JsonObject anon = get(uri + fresh);
    assertThat(anon.getString("openid")).startsWith("o").hasSize(28);
    assertThat(anon.containsKey("unionid")).isFalse();
    // An Official Account cannot use a mini program API.
    assertThat(get("/sandbox/wechat/sns/jscode2session?appid=" + MP + "&secret=" + MP_SECRET + "&js_code=x").getInteger("errcode")).isEqualTo(48001);
  }

  @Test
  void phoneNumberAcceptsEachCodeOnce() throws Exception {
    String token = stable(MINI, MINI_SECRET, false).getString("access_token");
    String code = miniCode(new JsonObject().put("appId", MINI).put("phone", "+86 13800138000")).getString("phoneCode");
    JsonObject ok = phone(token, code);
    assertThat(ok.getInteger("errcode")).isZero();
    JsonObject info = ok.getJsonObject("phone_info");
    assertThat(info.getString("phoneNumber")).isEqualTo("13800138000");
    assertThat(info.getString("purePhoneNumber")).isEqualTo("13800138000");
    assertThat(info.getString("countryCode")).isEqualTo("86");
    assertThat(info.getJsonObject("watermark").getString("appid")).isEqualTo(MINI);
    assertThat(phone(token, code).getInteger("errcode")).isEqualTo(40163);
    assertThat(phone(token, "bogus").getInteger("errcode")).isEqualTo(40029);

    String hk = miniCode(new JsonObject().put("appId", MINI).put("phone", "+852 61234567")).getString("phoneCode");
    assertThat(phone(token, hk).getJsonObject("phone_info").getString("phoneNumber")).isEqualTo("+852 61234567");
    assertThat(http.post("/sandbox/control/miniprogram/code").sendJsonObject(new JsonObject().put("appId", "wxnope"))
        .await(10, TimeUnit.SECONDS).bodyAsJsonObject().getString("error")).isEqualTo("unknown_app");
  }

  @Test
  void officialAccountQrCodesAreListedAndDrawn() throws Exception {
    String token = stable(MP, MP_SECRET, false).getString("access_token");
    JsonObject qr = post("/sandbox/wechat/cgi-bin/qrcode/create?access_token=" + token, new JsonObject()
        .put("expire_seconds", 120).put("action_name", "QR_STR_SCENE")
        .put("action_info", new JsonObject().put("scene", new JsonObject().put("scene_str", "scene-abc_123"))));
    assertThat(qr.getInteger("expire_seconds")).isEqualTo(120);
    assertThat(qr.getString("url")).startsWith("http://weixin.qq.com/q/");
    String ticket = qr.getString("ticket");

    JsonArray list = http.get("/sandbox/control/qrcodes").send().await(10, TimeUnit.SECONDS).bodyAsJsonArray();
    assertThat(list).hasSize(1);
    JsonObject listed = list.getJsonObject(0);
    assertThat(listed.getString("ticket")).isEqualTo(ticket);
    assertThat(listed.getString("sceneStr")).isEqualTo("scene-abc_123");
    assertThat(listed.getString("url")).isEqualTo(qr.getString("url"));
    assertThat(listed.getString("appId")).isEqualTo(MP);
    assertThat(listed.getInteger("expireSeconds")).isEqualTo(120);
    assertThat(listed.getString("expiresAt")).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ");

    HttpResponse<Buffer> image = http.get("/sandbox/wechat/cgi-bin/showqrcode").addQueryParam("ticket", ticket).send().await(20, TimeUnit.SECONDS);
    assertThat(image.statusCode()).isEqualTo(200);
    assertThat(image.getHeader("Content-Type")).isEqualTo("image/png");
    assertThat(QrDecode.text(image.body().getBytes())).isEqualTo(qr.getString("url"));
    assertThat(http.get("/sandbox/wechat/cgi-bin/showqrcode?ticket=unknown").send().await(10, TimeUnit.SECONDS).statusCode()).isEqualTo(404);

    JsonObject bad = post("/sandbox/wechat/cgi-bin/qrcode/create?access_token=" + token, new JsonObject().put("action_name", "QR_LIMIT_SCENE_X"));
    assertThat(bad.getInteger("errcode")).isEqualTo(40053);
    String miniToken = stable(MINI, MINI_SECRET, false).getString("access_token");
    assertThat(post("/sandbox/wechat/cgi-bin/qrcode/create?access_token=" + miniToken, new JsonObject().put("action_name", "QR_STR_SCENE"))
        .getInteger("errcode")).isEqualTo(48001);
  }

  @Test
  void wxaCodeIsAPngOfTheSceneOrJsonOnError() throws Exception {
    String token = stable(MINI, MINI_SECRET, false).getString("access_token");
    HttpResponse<Buffer> ok = http.post("/sandbox/wechat/wxa/getwxacodeunlimit?access_token=" + token)
        .sendJsonObject(new JsonObject().put("scene", "Ab3_x-9").put("page", "pages/login/index").put("env_version", "trial"))
        .await(20, TimeUnit.SECONDS);
    assertThat(ok.getHeader("Content-Type")).isEqualTo("image/png");
    assertThat(QrDecode.isPng(ok.body().getBytes())).isTrue();
    assertThat(QrDecode.text(ok.body().getBytes())).isEqualTo("Ab3_x-9");

    JsonObject tooLong = post("/sandbox/wechat/wxa/getwxacodeunlimit?access_token=" + token, new JsonObject().put("scene", "x".repeat(33)));
    assertThat(tooLong.getInteger("errcode")).isEqualTo(40169);
    JsonObject badPage = post("/sandbox/wechat/wxa/getwxacodeunlimit?access_token=" + token,
        new JsonObject().put("scene", "abc").put("page", "/pages/../x y"));
    assertThat(badPage.getInteger("errcode")).isEqualTo(41030);
    assertThat(post("/sandbox/wechat/wxa/getwxacodeunlimit?access_token=expired", new JsonObject().put("scene", "abc"))
        .getInteger("errcode")).isEqualTo(40001);
  }

  @Test
  void userInfoAnswersWhatTheScanSaid() throws Exception {
    String token = stable(MP, MP_SECRET, false).getString("access_token");
    assertThat(get("/sandbox/wechat/cgi-bin/user/info?access_token=" + token + "&openid=oNobody").getInteger("errcode")).isEqualTo(40003);
    JsonObject qr = post("/sandbox/wechat/cgi-bin/qrcode/create?access_token=" + token, new JsonObject()
        .put("expire_seconds", 60).put("action_name", "QR_STR_SCENE")
        .put("action_info", new JsonObject().put("scene", new JsonObject().put("scene_str", "s1"))));
    // The scan registers the follower and reports the webhook's answer.
    JsonObject scan = post("/sandbox/control/mp/scan", new JsonObject().put("connection", "wechat-mp")
        .put("qrContent", qr.getString("url")).put("openid", "oFollower1").put("unionid", "uFollower1").put("subscribe", true));
    assertThat(scan.getInteger("status")).isEqualTo(200);
    assertThat(scan.getString("body")).isEqualTo("success");
    assertThat(scan.getString("event")).isEqualTo("subscribe");
    assertThat(scan.getString("eventKey")).isEqualTo("qrscene_s1");
    JsonObject info = get("/sandbox/wechat/cgi-bin/user/info?access_token=" + token + "&openid=oFollower1&lang=zh_CN");
    assertThat(info.getInteger("subscribe")).isEqualTo(1);
    assertThat(info.getString("openid")).isEqualTo("oFollower1");
    assertThat(info.getString("unionid")).isEqualTo("uFollower1");
    assertThat(info.getString("qr_scene_str")).isEqualTo("s1");
  }

  @Test
  void controlEndpointsRefuseBadInput() throws Exception {
    HttpResponse<Buffer> r = http.post("/sandbox/control/mp/scan").sendJsonObject(new JsonObject().put("connection", "wechat-mini"))
        .await(10, TimeUnit.SECONDS);
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.bodyAsJsonObject().getString("error")).isEqualTo("unknown_connection");
    r = http.post("/sandbox/control/mp/scan").sendJsonObject(new JsonObject().put("connection", "wechat-mp").put("openid", "o1")
        .put("subscribe", true).put("qrContent", "http://weixin.qq.com/q/nothing")).await(10, TimeUnit.SECONDS);
    assertThat(r.statusCode()).isEqualTo(404);
    assertThat(r.bodyAsJsonObject().getString("error")).isEqualTo("qr_not_found");
    r = http.post("/sandbox/control/mp/scan").sendJsonObject(new JsonObject().put("connection", "wechat-mp").put("openid", "o1")
        .put("qrContent", "x")).await(10, TimeUnit.SECONDS);
    assertThat(r.bodyAsJsonObject().getString("error")).isEqualTo("invalid_request");
    r = http.post("/sandbox/control/miniprogram/code").putHeader("Content-Type", "application/json").sendBuffer(Buffer.buffer("{nope"))
        .await(10, TimeUnit.SECONDS);
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.bodyAsJsonObject().getString("error")).isEqualTo("invalid_json");
    HttpResponse<Buffer> page = http.get("/sandbox/phone").send().await(10, TimeUnit.SECONDS);
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.getHeader("Content-Type")).startsWith("text/html");
    assertThat(page.bodyAsString()).contains("/sandbox/control/mp/scan", "/sandbox/control/qrcodes",
        "/sandbox/control/miniprogram/code", "/api/v1/miniprogram/qr/", "/scan", "/confirm", "/cancel");
    JsonObject connections = get("/sandbox/control/connections");
    assertThat(connections.getJsonArray("connections")).hasSize(3);
    assertThat(connections.getJsonArray("connections").getJsonObject(0).getString("messageMode")).isEqualTo("safe");
  }
}
