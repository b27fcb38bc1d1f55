package io.scangate.avatar;

import io.scangate.ScanGate;
import io.scangate.testing.Gateways;
import io.scangate.testing.TestConfigs;
import io.scangate.testing.TestHttp;
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

import java.net.URI;
import java.util.Arrays;

import static io.scangate.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/** {@code POST /api/v1/miniprogram/avatar} and {@code GET /api/v1/avatars/{id}.{ext}} (CONTRACT section 4). */
@ExtendWith(VertxExtension.class)
class AvatarUploadTest {

  static final byte[] PNG = {(byte) 0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 'I', 'H', 'D', 'R', 1, 2, 3};
  static final byte[] JPEG = {(byte) 0xff, (byte) 0xd8, (byte) 0xff, (byte) 0xe0, 0, 16, 'J', 'F', 'I', 'F', 0};
  static final byte[] WEBP = {'R', 'I', 'F', 'F', 20, 0, 0, 0, 'W', 'E', 'B', 'P', 'V', 'P', '8', ' '};
  static final byte[] HTML = "<html><script>alert(1)</script></html>".getBytes();

  private final Gateways gateways = new Gateways();

  @AfterEach
  void stop() {
    gateways.closeAll();
  }

  static HttpResponse<Buffer> upload(WebClient client, byte[] file, String claimedType, String scanToken, String bearer) throws Exception {
    MultipartForm form = MultipartForm.create().binaryFileUpload("file", "tmp_avatar", Buffer.buffer(file), claimedType);
    if (scanToken != null) form.attribute("scanToken", scanToken);
    var request = client.post("/api/v1/miniprogram/avatar");
    if (bearer != null) request.putHeader("Authorization", "Bearer " + bearer);
    return await(request.sendMultipartForm(form));
  }

  static JsonObject codes(WebClient client, String openid) throws Exception {
    HttpResponse<Buffer> r = await(client.post("/sandbox/control/miniprogram/code")
        .sendJsonObject(new JsonObject().put("appId", "wxtestmini000001").put("openid", openid)));
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
    return r.bodyAsJsonObject();
  }

  /** A live SCANNED session's scan token, as the mini program holds it after scanning. */
  static String scanToken(WebClient client, String openid) throws Exception {
    return scanned(client, openid).getString("scanToken");
  }

  /** {@code {sessionId, scene, scanToken}} of a session this WeChat user just scanned. */
  static JsonObject scanned(WebClient client, String openid) throws Exception {
    HttpResponse<Buffer> created = await(client.post("/api/v1/qr/sessions")
        .sendJsonObject(new JsonObject().put("appId", "demo").put("connection", "wechat-mini-qr")));
    assertThat(created.statusCode()).as(created.bodyAsString()).isEqualTo(201);
    String scene = created.bodyAsJsonObject().getString("scene");
    HttpResponse<Buffer> scanned = await(client.post("/api/v1/miniprogram/qr/" + scene + "/scan")
        .sendJsonObject(new JsonObject().put("connection", "wechat-mini-qr").put("code", codes(client, openid).getString("code"))));
    assertThat(scanned.statusCode()).as(scanned.bodyAsString()).isEqualTo(200);
    return new JsonObject().put("sessionId", created.bodyAsJsonObject().getString("sessionId")).put("scene", scene).put("scanToken", scanned.bodyAsJsonObject().getString("scanToken"));
  }

  static String accessToken(WebClient client, String openid) throws Exception {
    HttpResponse<Buffer> r = await(client.post("/api/v1/miniprogram/login").sendJsonObject(new JsonObject()
        .put("appId", "demo").put("connection", "wechat-mini").put("code", codes(client, openid).getString("code"))));
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
    return r.bodyAsJsonObject().getJsonObject("tokens").getString("access_token");
  }

  static String pathOf(String url) {
    return URI.create(url).getPath();
  }

  static void assertError(HttpResponse<Buffer> r, int status, String code) {
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(status);
    assertThat(r.bodyAsJsonObject().getString("error")).isEqualTo(code);
  }

  @Test
  void aScanningPhoneUploadsAPictureThatAnotherInstanceServesAndAConfirmAccepts(Vertx vertx) throws Exception {
    var env = TestConfigs.testEnv();
    ScanGate a = gateways.start(vertx, TestConfigs.parse(TestConfigs.STANDARD_YAML, env));
    ScanGate b = gateways.start(vertx, TestConfigs.parse(TestConfigs.STANDARD_YAML, env));
    WebClient phone = TestHttp.client(vertx, a.port());
    JsonObject scan = scanned(phone, "o-avatar-scan");
    String token = scan.getString("scanToken");

    HttpResponse<Buffer> uploaded = upload(phone, PNG, "image/png", token, null);
    assertThat(uploaded.statusCode()).as(uploaded.bodyAsString()).isEqualTo(200);
    String url = uploaded.bodyAsJsonObject().getString("avatarUrl");
    assertThat(url).startsWith(a.infrastructure().config().server().publicUrl() + "/api/v1/avatars/").endsWith(".png");

    HttpResponse<Buffer> served = await(TestHttp.client(vertx, b.port()).get(pathOf(url)).send());
    assertThat(served.statusCode()).isEqualTo(200);
    assertThat(served.getHeader("Content-Type")).isEqualTo("image/png");
    assertThat(served.getHeader("X-Content-Type-Options")).isEqualTo("nosniff");
    assertThat(served.getHeader("Cache-Control")).contains("max-age=31536000");
    assertThat(served.body().getBytes()).isEqualTo(PNG);

    // The URL is what a confirm's profile may carry (a temporary client path is not).
    String confirmPath = "/api/v1/miniprogram/qr/" + scan.getString("scene") + "/confirm";
    HttpResponse<Buffer> temporary = await(phone.post(confirmPath).sendJsonObject(new JsonObject().put("scanToken", token)
        .put("profile", new JsonObject().put("avatarUrl", "http://tmp/abc.png"))));
    assertError(temporary, 400, "invalid_profile");
    HttpResponse<Buffer> confirmed = await(phone.post(confirmPath).sendJsonObject(new JsonObject().put("scanToken", token)
        .put("profile", new JsonObject().put("nickname", "Pic").put("avatarUrl", url))));
    assertThat(confirmed.statusCode()).as(confirmed.bodyAsString()).isEqualTo(200);
    HttpResponse<Buffer> state = await(phone.get("/api/v1/qr/sessions/" + scan.getString("sessionId")).send());
    assertThat(state.bodyAsJsonObject().getJsonObject("scannedBy").getString("avatarUrl")).isEqualTo(url);

    HttpResponse<Buffer> unknown = await(phone.get("/api/v1/avatars/AAAAAAAAAAAAAAAAAAAAAA.png").send());
    assertError(unknown, 404, "avatar_not_found");
  }

  @Test
  void aBearerTokenUploadsJpegAndWebpAndTheUserKeepsTheUrl(Vertx vertx) throws Exception {
    ScanGate g = gateways.start(vertx, TestConfigs.parse(TestConfigs.STANDARD_YAML));
    WebClient client = TestHttp.client(vertx, g.port());
    String access = accessToken(client, "o-avatar-bearer");

    HttpResponse<Buffer> jpeg = upload(client, JPEG, "application/octet-stream", null, access);
    assertThat(jpeg.statusCode()).as(jpeg.bodyAsString()).isEqualTo(200);
    String url = jpeg.bodyAsJsonObject().getString("avatarUrl");
    assertThat(url).endsWith(".jpg");
    HttpResponse<Buffer> served = await(client.get(pathOf(url)).send());
    assertThat(served.getHeader("Content-Type")).isEqualTo("image/jpeg");
    assertThat(served.body().getBytes()).isEqualTo(JPEG);

    HttpResponse<Buffer> webp = upload(client, WEBP, "image/webp", null, access);
    assertThat(webp.statusCode()).as(webp.bodyAsString()).isEqualTo(200);
    assertThat(await(client.get(pathOf(webp.bodyAsJsonObject().getString("avatarUrl"))).send()).getHeader("Content-Type"))
        .isEqualTo("image/webp");

    HttpResponse<Buffer> patched = await(client.patch("/api/v1/users/me").putHeader("Authorization", "Bearer " + access)
        .sendJsonObject(new JsonObject().put("avatarUrl", url)));
    assertThat(patched.statusCode()).as(patched.bodyAsString()).isEqualTo(200);
    assertThat(patched.bodyAsJsonObject().getString("avatarUrl")).isEqualTo(url);
  }

  @Test
  void onlyRealImagesOfAtMostOneMegabyteFromAnAuthenticatedCallerAreKept(Vertx vertx) throws Exception {
    ScanGate g = gateways.start(vertx, TestConfigs.parse(TestConfigs.STANDARD_YAML));
    WebClient client = TestHttp.client(vertx, g.port());
    String token = scanToken(client, "o-avatar-refused");

    assertError(upload(client, HTML, "image/png", token, null), 415, "unsupported_image_type");
    assertError(upload(client, "GIF89a\u0001\u0000".getBytes(), "image/gif", token, null), 415, "unsupported_image_type");

    byte[] big = Arrays.copyOf(PNG, Avatars.MAX_BYTES + 1);
    assertError(upload(client, big, "image/png", token, null), 413, "avatar_too_large");
    byte[] exactlyOneMegabyte = Arrays.copyOf(PNG, Avatars.MAX_BYTES);
    assertThat(upload(client, exactlyOneMegabyte, "image/png", token, null).statusCode()).isEqualTo(200);
    byte[] huge = Arrays.copyOf(PNG, 3 * Avatars.MAX_BYTES);
    assertThat(upload(client, huge, "image/png", token, null).statusCode()).isEqualTo(413);

    assertError(upload(client, PNG, "image/png", null, null), 401, "unauthorized");
    HttpResponse<Buffer> badBearer = upload(client, PNG, "image/png", null, "not-a-token");
    assertError(badBearer, 401, "invalid_token");
    assertThat(badBearer.getHeader("WWW-Authenticate")).startsWith("Bearer error=\"invalid_token\"");
    assertError(upload(client, PNG, "image/png", "A".repeat(43), null), 403, "invalid_scan_token");

    HttpResponse<Buffer> json = await(client.post("/api/v1/miniprogram/avatar")
        .sendJsonObject(new JsonObject().put("scanToken", token)));
    assertError(json, 415, "unsupported_media_type");

    // Only the one accepted image was stored.
    var rows = await(g.infrastructure().postgres().query("SELECT count(*) FROM avatars").execute());
    assertThat(rows.iterator().next().getLong(0)).isEqualTo(1);
  }

  @Test
  void aScanTokenStopsWorkingOnceTheSessionIsCanceled(Vertx vertx) throws Exception {
    ScanGate g = gateways.start(vertx, TestConfigs.parse(TestConfigs.STANDARD_YAML));
    WebClient client = TestHttp.client(vertx, g.port());
    HttpResponse<Buffer> created = await(client.post("/api/v1/qr/sessions")
        .sendJsonObject(new JsonObject().put("appId", "demo").put("connection", "wechat-mini-qr")));
    String scene = created.bodyAsJsonObject().getString("scene");
    HttpResponse<Buffer> scanned = await(client.post("/api/v1/miniprogram/qr/" + scene + "/scan").sendJsonObject(new JsonObject()
        .put("connection", "wechat-mini-qr").put("code", codes(client, "o-avatar-cancel").getString("code"))));
    String token = scanned.bodyAsJsonObject().getString("scanToken");
    assertThat(upload(client, PNG, "image/png", token, null).statusCode()).isEqualTo(200);

    HttpResponse<Buffer> canceled = await(client.post("/api/v1/miniprogram/qr/" + scene + "/cancel")
        .sendJsonObject(new JsonObject().put("scanToken", token)));
    assertThat(canceled.statusCode()).isEqualTo(200);
    assertError(upload(client, PNG, "image/png", token, null), 403, "invalid_scan_token");
  }

  @Test
  void oneUploaderGetsTenUploadsAMinute(Vertx vertx) throws Exception {
    ScanGate g = gateways.start(vertx, TestConfigs.parse(TestConfigs.STANDARD_YAML));
    WebClient client = TestHttp.client(vertx, g.port());
    String token = scanToken(client, "o-avatar-many");
    // Fixed one-minute windows: start well inside one, so all eleven land in the same window.
    while (java.time.LocalTime.now().getSecond() > 40) Thread.sleep(1000);
    for (int i = 0; i < AvatarServiceImpl.UPLOADS_PER_MINUTE; i++) {
      assertThat(upload(client, PNG, "image/png", token, null).statusCode()).isEqualTo(200);
    }
    HttpResponse<Buffer> refused = upload(client, PNG, "image/png", token, null);
    assertError(refused, 429, "rate_limited");
    assertThat(refused.getHeader("Retry-After")).isNotNull();
    // Another phone is not affected.
    assertThat(upload(client, PNG, "image/png", scanToken(client, "o-avatar-other"), null).statusCode()).isEqualTo(200);
  }
}
