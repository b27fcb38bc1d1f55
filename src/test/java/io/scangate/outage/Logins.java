package io.scangate.outage;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;

import static io.scangate.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/** A mini program QR login step by step, as the browser and the phone (the sandbox plays WeChat). */
final class Logins {

  private Logins() {}

  static HttpResponse<Buffer> post(WebClient client, String path, JsonObject body) {
    return await(client.post(path).sendJsonObject(body));
  }

  static JsonObject createSession(WebClient browser) {
    HttpResponse<Buffer> r = post(browser, "/api/v1/qr/sessions", new JsonObject().put("appId", "demo").put("connection", "wechat-mini-qr"));
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(201);
    return r.bodyAsJsonObject();
  }

  /** The phone scans: the scan token. */
  static String scan(WebClient phone, String scene, String openid) {
    HttpResponse<Buffer> code = post(phone, "/sandbox/control/miniprogram/code",
        new JsonObject().put("appId", "wxtestmini000001").put("openid", openid));
    assertThat(code.statusCode()).as(code.bodyAsString()).isEqualTo(200);
    HttpResponse<Buffer> r = post(phone, "/api/v1/miniprogram/qr/" + scene + "/scan",
        new JsonObject().put("connection", "wechat-mini-qr").put("code", code.bodyAsJsonObject().getString("code")));
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
    return r.bodyAsJsonObject().getString("scanToken");
  }

  static HttpResponse<Buffer> confirm(WebClient phone, String scene, String scanToken) {
    return post(phone, "/api/v1/miniprogram/qr/" + scene + "/confirm", new JsonObject().put("scanToken", scanToken));
  }

  static JsonObject read(WebClient browser, String sessionId) {
    HttpResponse<Buffer> r = await(browser.get("/api/v1/qr/sessions/" + sessionId).send());
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
    return r.bodyAsJsonObject();
  }

  /** A whole login: the exchange's answer ({user, tokens}). */
  static JsonObject login(WebClient browser, WebClient phone, String openid) {
    JsonObject session = createSession(browser);
    String scanToken = scan(phone, session.getString("scene"), openid);
    HttpResponse<Buffer> confirmed = confirm(phone, session.getString("scene"), scanToken);
    assertThat(confirmed.statusCode()).as(confirmed.bodyAsString()).isEqualTo(200);
    String ticket = read(browser, session.getString("sessionId")).getString("ticket");
    HttpResponse<Buffer> exchanged = post(browser, "/api/v1/qr/exchange", new JsonObject().put("ticket", ticket));
    assertThat(exchanged.statusCode()).as(exchanged.bodyAsString()).isEqualTo(200);
    return exchanged.bodyAsJsonObject();
  }

  static int verify(WebClient client, String accessToken) {
    return await(client.get("/auth/verify").putHeader("Authorization", "Bearer " + accessToken).send()).statusCode();
  }
}
