package io.scangate.wechat;

import io.scangate.Infrastructure;
import io.scangate.ScanGate;
import io.scangate.config.ScanGateConfig;
import io.scangate.config.ScanGateConfig.Connection;
import io.scangate.sandbox.QrDecode;
import io.scangate.testing.TestConfigs;
import io.scangate.testing.TestHttp;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/** The WeChat client against the sandbox (real Redis), and against a misbehaving WeChat of our own. */
@ExtendWith(VertxExtension.class)
class WeChatClientTest {

  Vertx vertx;
  ScanGate gateway;
  WebClient http;
  Connection mini;
  Connection mp;
  final List<ScanGate> others = new ArrayList<>();
  HttpServer fakeWeChat;

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    this.vertx = vertx;
    gateway = ScanGate.start(vertx, TestConfigs.standard(), ScanGate.Options.dev(null)).await(60, TimeUnit.SECONDS);
    http = TestHttp.client(vertx, gateway.port());
    mini = config().connection("wechat-mini").orElseThrow();
    mp = config().connection("wechat-mp").orElseThrow();
  }

  @AfterEach
  void stop() throws Exception {
    http.close();
    for (ScanGate g : others) g.close().await(30, TimeUnit.SECONDS);
    gateway.close().await(30, TimeUnit.SECONDS);
    if (fakeWeChat != null) fakeWeChat.close().await(10, TimeUnit.SECONDS);
  }

  ScanGateConfig config() {
    return gateway.infrastructure().config();
  }

  static double count(Infrastructure infra, String name, String... tags) {
    var counter = infra.metrics().find(name).tags(tags).counter();
    return counter == null ? 0 : counter.count();
  }

  static WeChatException failure(Future<?> future) {
    Throwable t = catchThrowable(() -> future.await(60, TimeUnit.SECONDS));
    if (t instanceof CompletionException || t instanceof ExecutionException) t = t.getCause();
    assertThat(t).isInstanceOf(WeChatException.class);
    return (WeChatException) t;
  }

  JsonObject control(String path, JsonObject body) throws Exception {
    var r = http.post("/sandbox/control/" + path).sendJsonObject(body).await(20, TimeUnit.SECONDS);
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
    return r.bodyAsJsonObject();
  }

  String sandboxStableToken(Connection c, boolean force) throws Exception {
    return http.post("/sandbox/wechat/cgi-bin/stable_token").sendJsonObject(new JsonObject().put("grant_type", "client_credential")
        .put("appid", c.wechatAppId()).put("secret", c.appSecret()).put("force_refresh", force))
        .await(20, TimeUnit.SECONDS).bodyAsJsonObject().getString("access_token");
  }

  String phoneCode() throws Exception {
    return control("miniprogram/code", new JsonObject().put("appId", mini.wechatAppId()).put("phone", "13900139000")).getString("phoneCode");
  }

  @Test
  void concurrentRequestsOnTwoInstancesCauseExactlyOneFetch() throws Exception {
    ScanGateConfig second = TestConfigs.parse(TestConfigs.STANDARD_YAML, Map.of(
        "TEST_REDIS_URL", config().redis().url(), "TEST_POSTGRES_URL", config().postgres().url(),
        "TEST_KEY_PREFIX", config().redis().keyPrefix()));
    ScanGate other = ScanGate.start(vertx, second, ScanGate.Options.dev(null)).await(60, TimeUnit.SECONDS);
    others.add(other);
    WeChatClient a = new WeChatClient(gateway.infrastructure());
    WeChatClient b = new WeChatClient(other.infrastructure());

    List<Future<String>> tokens = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      tokens.add(a.accessToken(mini));
      tokens.add(b.accessToken(mini));
    }
    Future.all(tokens).await(60, TimeUnit.SECONDS);
    assertThat(tokens.stream().map(Future::result).distinct()).hasSize(1);
    String api = "cgi-bin/stable_token";
    assertThat(count(gateway.infrastructure(), "scangate.wechat.calls", "api", api)
        + count(other.infrastructure(), "scangate.wechat.calls", "api", api)).isEqualTo(1.0);
    assertThat(tokens.get(0).result()).isEqualTo(sandboxStableToken(mini, false));
    // Later callers use the cache: still one fetch.
    assertThat(b.accessToken(mini).await(10, TimeUnit.SECONDS)).isEqualTo(tokens.get(0).result());
    assertThat(count(other.infrastructure(), "scangate.wechat.calls", "api", api)
        + count(gateway.infrastructure(), "scangate.wechat.calls", "api", api)).isEqualTo(1.0);
  }

  @Test
  void aTokenInvalidatedByWeChatIsReplacedAndTheCallRetried() throws Exception {
    WeChatClient client = new WeChatClient(gateway.infrastructure());
    String first = client.accessToken(mini).await(20, TimeUnit.SECONDS);
    // The account owner's own server force-refreshes: our cached token now gets 40001.
    String theirs = sandboxStableToken(mini, true);
    assertThat(theirs).isNotEqualTo(first);

    WeChatClient.PhoneNumber phone = client.phoneNumber(mini, phoneCode()).await(20, TimeUnit.SECONDS);
    assertThat(phone.purePhoneNumber()).isEqualTo("13900139000");
    assertThat(phone.countryCode()).isEqualTo("86");
    assertThat(client.accessToken(mini).await(10, TimeUnit.SECONDS)).isEqualTo(theirs);
    assertThat(count(gateway.infrastructure(), "scangate.wechat.errors", "api", "wxa/business/getuserphonenumber", "errcode", "40001"))
        .isEqualTo(1.0);

    // An expired token (42001) is replaced too.
    control("tokens/expire", new JsonObject().put("appId", mini.wechatAppId()));
    assertThat(client.phoneNumber(mini, phoneCode()).await(20, TimeUnit.SECONDS).purePhoneNumber()).isEqualTo("13900139000");
    assertThat(client.accessToken(mini).await(10, TimeUnit.SECONDS)).isNotEqualTo(theirs);
  }

  @Test
  void aTokenThatOnlyAForcedRefreshHealsIsForceRefreshedWithinWeChatsLimits() throws Exception {
    WeChatClient client = new WeChatClient(gateway.infrastructure());
    String first = client.accessToken(mini).await(20, TimeUnit.SECONDS);
    control("tokens/revoke", new JsonObject().put("appId", mini.wechatAppId()));
    assertThat(client.phoneNumber(mini, phoneCode()).await(20, TimeUnit.SECONDS).purePhoneNumber()).isEqualTo("13900139000");
    String forced = client.accessToken(mini).await(10, TimeUnit.SECONDS);
    assertThat(forced).isNotEqualTo(first);

    // A second forced refresh within 30 s is not allowed: a clear, typed failure.
    control("tokens/revoke", new JsonObject().put("appId", mini.wechatAppId()));
    WeChatException e = failure(client.phoneNumber(mini, phoneCode()));
    assertThat(e.reason()).isEqualTo(WeChatException.Reason.REFRESH_LIMITED);
    assertThat(e.getMessage()).contains("30 s").doesNotContain(forced).doesNotContain(mini.appSecret());
    assertThat(e.toApiException().code()).isEqualTo("wechat_token_refresh_limited");
  }

  @Test
  void aWrongSecretFailsWithWeChatsErrcodeAndWithoutTheSecret() throws Exception {
    String secret = "a-wrong-secret-0123456789";
    Connection wrong = withSecret(mini, secret);
    WeChatClient client = new WeChatClient(gateway.infrastructure());
    WeChatException e = failure(client.accessToken(wrong));
    assertThat(e.errcode()).isEqualTo(40125);
    assertThat(e.reason()).isEqualTo(WeChatException.Reason.WECHAT_ERROR);
    assertThat(e.getMessage()).contains("40125").contains(mini.wechatAppId()).doesNotContain(secret);
    String code = control("miniprogram/code", new JsonObject().put("appId", mini.wechatAppId())).getString("code");
    WeChatException e2 = failure(client.jscode2session(wrong, code));
    assertThat(e2.errcode()).isEqualTo(40125);
    assertThat(e2.getMessage()).doesNotContain(secret).doesNotContain(code);
    assertThat(e2.toApiException().status()).isEqualTo(502);
  }

  @Test
  void miniProgramCallsWork() throws Exception {
    WeChatClient client = new WeChatClient(gateway.infrastructure());
    JsonObject codes = control("miniprogram/code", new JsonObject().put("appId", mini.wechatAppId())
        .put("openid", "oMini1").put("unionid", "uMini1"));
    WeChatClient.MiniProgramSession session = client.jscode2session(mini, codes.getString("code")).await(20, TimeUnit.SECONDS);
    assertThat(session.openid()).isEqualTo("oMini1");
    assertThat(session.unionid()).isEqualTo("uMini1");
    assertThat(session.toString()).doesNotContain(session.sessionKey()).contains("***");
    WeChatException used = failure(client.jscode2session(mini, codes.getString("code")));
    assertThat(used.errcode()).isEqualTo(40163);

    Buffer png = client.wxaCode(mini, "scene123", "pages/login/index", ScanGateConfig.EnvVersion.DEVELOP).await(20, TimeUnit.SECONDS);
    assertThat(QrDecode.text(png.getBytes())).isEqualTo("scene123");
    WeChatException tooLong = failure(client.wxaCode(mini, "s".repeat(40), null, ScanGateConfig.EnvVersion.RELEASE));
    assertThat(tooLong.errcode()).isEqualTo(40169);

    String metrics = http.get("/metrics").send().await(20, TimeUnit.SECONDS).bodyAsString();
    assertThat(metrics).contains("scangate_wechat_calls_total{api=\"sns/jscode2session\"}")
        .contains("scangate_wechat_errors_total{api=\"sns/jscode2session\",errcode=\"40163\"}")
        .contains("scangate_wechat_errors_total{api=\"wxa/getwxacodeunlimit\",errcode=\"40169\"}")
        .contains("scangate_wechat_latency_seconds_count{api=\"cgi-bin/stable_token\"}");
  }

  @Test
  void officialAccountCallsWork() throws Exception {
    WeChatClient client = new WeChatClient(gateway.infrastructure());
    WeChatClient.QrTicket qr = client.createQrCode(mp, "scene-xyz", Duration.ofMinutes(2)).await(20, TimeUnit.SECONDS);
    assertThat(qr.expireSeconds()).isEqualTo(120);
    assertThat(qr.toString()).doesNotContain(qr.ticket());
    String imageUrl = client.showQrCodeUrl(qr.ticket());
    assertThat(imageUrl).startsWith(config().wechat().apiBaseUrl() + "/cgi-bin/showqrcode?ticket=");
    Buffer image = http.getAbs(imageUrl).send().await(20, TimeUnit.SECONDS).body();
    assertThat(QrDecode.text(image.getBytes())).isEqualTo(qr.url());

    control("mp/scan", new JsonObject().put("connection", "wechat-mp").put("qrContent", qr.url())
        .put("openid", "oMp1").put("unionid", "uMp1").put("subscribe", false));
    JsonObject info = client.userInfo(mp, "oMp1").await(20, TimeUnit.SECONDS);
    assertThat(info.getString("unionid")).isEqualTo("uMp1");
    assertThat(info.getInteger("subscribe")).isEqualTo(1);
    assertThat(failure(client.userInfo(mp, "oUnknown")).errcode()).isEqualTo(40003);
  }

  // ---- a misbehaving WeChat of our own ----

  WeChatClient clientForFakeWeChat(String mode, AtomicInteger requests, WeChatClient.Settings settings) throws Exception {
    fakeWeChat = vertx.createHttpServer().requestHandler(req -> {
      int n = requests.incrementAndGet();
      switch (mode) {
        case "busy" -> req.response().putHeader("Content-Type", "application/json").end("{\"errcode\":-1,\"errmsg\":\"system error\"}");
        case "busy-then-ok" -> req.response().putHeader("Content-Type", "application/json").end(n < 3
            ? "{\"errcode\":-1,\"errmsg\":\"system error\"}"
            : "{\"openid\":\"oFake\",\"session_key\":\"c2Vzc2lvbmtleQ==\"}");
        default -> { /* never answers */ }
      }
    }).listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS);
    Infrastructure infra = gateway.infrastructure();
    ScanGateConfig c = infra.config();
    ScanGateConfig moved = new ScanGateConfig(c.server(), c.redis(), c.postgres(),
        new ScanGateConfig.WeChat("http://127.0.0.1:" + fakeWeChat.actualPort()), c.userPoolId(), c.tokens(), c.qr(), c.webhook(),
        c.rateLimits(), c.applications(), c.connections());
    return new WeChatClient(new Infrastructure(vertx, moved, infra.postgres(), infra.redis(), infra.keys(), infra.metrics(), infra.dev()),
        settings);
  }

  @Test
  void systemBusyIsRetriedThenFailsClearly() throws Exception {
    AtomicInteger requests = new AtomicInteger();
    WeChatClient client = clientForFakeWeChat("busy", requests,
        WeChatClient.Settings.defaults().withRetries(3, Duration.ofMillis(10)));
    WeChatException e = failure(client.jscode2session(mini, "some-js-code"));
    assertThat(requests.get()).isEqualTo(3);
    assertThat(e.reason()).isEqualTo(WeChatException.Reason.BUSY);
    assertThat(e.errcode()).isEqualTo(-1);
    assertThat(e.getMessage()).contains("sns/jscode2session").contains("3 attempts").doesNotContain(mini.appSecret()).doesNotContain("some-js-code");
    assertThat(e.toApiException().code()).isEqualTo("wechat_unavailable");
    assertThat(count(gateway.infrastructure(), "scangate.wechat.errors", "api", "sns/jscode2session", "errcode", "-1")).isEqualTo(3.0);
  }

  @Test
  void systemBusyThenSuccessSucceeds() throws Exception {
    AtomicInteger requests = new AtomicInteger();
    WeChatClient client = clientForFakeWeChat("busy-then-ok", requests,
        WeChatClient.Settings.defaults().withRetries(3, Duration.ofMillis(10)));
    assertThat(client.jscode2session(mini, "code").await(20, TimeUnit.SECONDS).openid()).isEqualTo("oFake");
    assertThat(requests.get()).isEqualTo(3);
  }

  @Test
  void timeoutsAreRetriedThenFailClearly() throws Exception {
    AtomicInteger requests = new AtomicInteger();
    WeChatClient client = clientForFakeWeChat("silent", requests,
        WeChatClient.Settings.defaults().withCallTimeout(Duration.ofMillis(300)).withRetries(2, Duration.ofMillis(10)));
    WeChatException e = failure(client.accessToken(mini));
    assertThat(requests.get()).isEqualTo(2);
    assertThat(e.reason()).isEqualTo(WeChatException.Reason.TIMEOUT);
    assertThat(e.getMessage()).contains("did not answer").contains("cgi-bin/stable_token").doesNotContain(mini.appSecret());
    assertThat(count(gateway.infrastructure(), "scangate.wechat.errors", "api", "cgi-bin/stable_token", "errcode", "timeout")).isEqualTo(2.0);
    // The failed fetch released the lock: the next caller tries again at once instead of waiting.
    failure(client.accessToken(mini));
    assertThat(requests.get()).isEqualTo(4);
  }

  static Connection withSecret(Connection c, String secret) {
    if (c instanceof ScanGateConfig.OfficialAccountConnection oa) {
      return new ScanGateConfig.OfficialAccountConnection(oa.identifier(), oa.displayName(), oa.wechatAppId(), secret,
          oa.loginOnly(), oa.accountLinking(), oa.token(), oa.encodingAesKey(), oa.messageMode(), oa.confirmMode(),
          oa.forwardTo(), oa.welcomeMessage());
    }
    if (c instanceof ScanGateConfig.MiniProgramQrConnection q) {
      return new ScanGateConfig.MiniProgramQrConnection(q.identifier(), q.displayName(), q.wechatAppId(), secret,
          q.loginOnly(), q.accountLinking(), q.qrStyle(), q.logo(), q.page(), q.envVersion(), q.verificationFile());
    }
    return new ScanGateConfig.MiniProgramConnection(c.identifier(), c.displayName(), c.wechatAppId(), secret,
        c.loginOnly(), c.accountLinking());
  }
}
