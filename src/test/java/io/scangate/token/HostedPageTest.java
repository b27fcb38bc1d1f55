package io.scangate.token;

import io.scangate.ScanGate;
import io.scangate.config.ScanGateConfig;
import io.scangate.config.ScanGateConfig.Application;
import io.scangate.config.ScanGateConfig.ExchangeAuth;
import io.scangate.testing.Gateways;
import io.scangate.testing.TestConfigs;
import io.scangate.testing.TestHttp;
import io.scangate.web.WebAssets;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayOutputStream;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPOutputStream;

import static io.scangate.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The hosted login page as the gateway serves it (CONTRACT section 7): its language, tabs, strict
 * headers and weight, and the browser SDK's files. The page in a real browser is
 * {@code HostedLoginE2EIT}.
 */
@ExtendWith(VertxExtension.class)
class HostedPageTest {

  private final Gateways gateways = new Gateways();

  @AfterEach
  void stop() {
    gateways.closeAll();
  }

  private static Application app(List<String> origins) {
    return new Application("site", null, "A <b>site</b>", List.of("https://site.example.com/cb"), null, origins,
        List.of("wechat-mp", "wechat-mini-qr", "wechat-mini"), ExchangeAuth.NONE);
  }

  @Test
  void acceptLanguagePicksChineseOrEnglishByQuality() {
    assertThat(AuthorizePage.language("zh-CN,zh;q=0.9,en;q=0.8")).isEqualTo("zh");
    assertThat(AuthorizePage.language("zh-TW")).isEqualTo("zh");
    assertThat(AuthorizePage.language("en-US,en;q=0.9,zh-CN;q=0.8")).isEqualTo("en");
    assertThat(AuthorizePage.language("fr-FR,fr;q=0.9,zh;q=0.5,en;q=0.4")).isEqualTo("zh");
    assertThat(AuthorizePage.language("de, en;q=0")).as("q=0 means not this one").isEqualTo("en");
    assertThat(AuthorizePage.language("zh;q=0, en;q=0.1")).isEqualTo("en");
    assertThat(AuthorizePage.language("fr")).as("neither: English").isEqualTo("en");
    assertThat(AuthorizePage.language(null)).isEqualTo("en");
    assertThat(AuthorizePage.language("zh;q=bogus,en")).isEqualTo("en");
  }

  @Test
  void framingIsLimitedToTheApplicationsOriginsAndScriptsToTheGatewaysFiles() {
    String csp = AuthorizePage.csp(app(List.of("https://site.example.com", "http://127.0.0.1:8080")));
    assertThat(csp).contains("frame-ancestors https://site.example.com http://127.0.0.1:8080", "script-src 'self';",
        "default-src 'none'", "base-uri 'none'").doesNotContain("unsafe-inline", "unsafe-eval");
    assertThat(AuthorizePage.csp(app(List.of()))).endsWith("frame-ancestors 'none'");
    // Nothing that is not a plain origin reaches the policy (it could add directives).
    assertThat(AuthorizePage.frameAncestors(app(List.of("https://a.example.com; script-src *", "*")))).isEqualTo("'none'");
  }

  @Test
  void aTabPerEnabledQrConnectionOrOnlyTheNamedOne() {
    ScanGateConfig config = TestConfigs.standard();
    Application app = app(List.of());
    assertThat(AuthorizePage.tabs(config, app, null, "wechat-mp"))
        .containsExactly(new AuthorizePage.Tab("wechat-mp", "mp", null), new AuthorizePage.Tab("wechat-mini-qr", "mini", null));
    assertThat(AuthorizePage.tabs(config, app, "wechat-mini-qr", "wechat-mini-qr"))
        .extracting(AuthorizePage.Tab::connection).containsExactly("wechat-mini-qr");
  }

  @Test
  void thePageCarriesItsSettingsAsDataThatNoValueCanBreakOutOf() {
    Application app = new Application("site", null, "</script><script>alert(1)</script>", List.of(), null, List.of(),
        List.of("wechat-mini-qr"), ExchangeAuth.NONE);
    String html = AuthorizePage.login(app, List.of(new AuthorizePage.Tab("wechat-mini-qr", "mini", "Scan <me>")), "wechat-mini-qr",
        "request-id", "zh");
    assertThat(html).contains("<html lang=\"zh-CN\">", "<meta name=\"scangate-auth-request\" content=\"request-id\">",
        "<h1 id=\"heading\">微信扫码登录</h1>", "Scan &lt;me&gt;")
        .doesNotContain("<script>alert(1)");
    Matcher m = Pattern.compile("<script type=\"application/json\" id=\"settings\">(.*?)</script>").matcher(html);
    assertThat(m.find()).isTrue();
    JsonObject settings = new JsonObject(m.group(1));
    assertThat(settings.getString("appName")).isEqualTo(app.name());
    assertThat(settings.getString("connection")).isEqualTo("wechat-mini-qr");
    assertThat(settings.getJsonObject("strings").fieldNames()).containsExactlyInAnyOrder("zh", "en");
    // No script of its own: every <script> is the external module or the JSON data block.
    assertThat(Pattern.compile("<script(?![^>]*(type=\"module\" src=|type=\"application/json\"))").matcher(html).find()).isFalse();
  }

  @Test
  void bothLanguagesHaveEveryString() {
    assertThat(AuthorizePage.STRINGS.getJsonObject("zh").fieldNames())
        .containsExactlyInAnyOrderElementsOf(AuthorizePage.STRINGS.getJsonObject("en").fieldNames());
  }

  @Test
  void thePageAndTheSdkAreSmall() throws Exception {
    var files = new WebAssets().files();
    String html = AuthorizePage.login(app(List.of()), AuthorizePage.tabs(TestConfigs.standard(), app(List.of()), null, "wechat-mp"),
        "wechat-mp", "x".repeat(43), "zh");
    long page = html.getBytes(java.nio.charset.StandardCharsets.UTF_8).length + files.get("/static/login/login.js").length()
        + files.get("/static/login/login.css").length() + files.get("/sdk/scangate.js").length();
    // The goal is 50 KB with the QR image (about 12 KB, measured by HostedLoginE2EIT).
    assertThat(page).isLessThan(30 * 1024);
    for (String sdk : List.of("/sdk/scangate.js", "/sdk/scangate.umd.js")) {
      assertThat(gzipped(files.get(sdk).getBytes())).as(sdk).isLessThan(10 * 1024);
    }
  }

  @Test
  void theModuleAndTheClassicScriptAreOneSource() {
    var files = new WebAssets().files();
    String module = files.get("/sdk/scangate.js").toString();
    String umd = files.get("/sdk/scangate.umd.js").toString();
    String core = module.substring(0, module.indexOf("\nconst ScanGate"));
    assertThat(core).contains("function createScanGate(base)", "function startScanning", "function exchange");
    assertThat(umd).contains(core).contains("root.ScanGate = api");
    assertThat(module).contains("export const {startScanning, exchange, follow, loginUrl, openLoginPage} = ScanGate;");
  }

  @Test
  void theGatewayServesThePageWithStrictHeadersAndItsFiles(Vertx vertx) {
    ScanGate gateway = gateways.start(vertx, TestConfigs.standard());
    WebClient client = TestHttp.client(vertx, gateway.port());
    HttpResponse<Buffer> page = await(client.get("/oidc/auth?client_id=demo&response_type=code&scope=openid"
        + "&redirect_uri=http%3A%2F%2F127.0.0.1%3A5555%2Fcallback").putHeader("Accept-Language", "zh-CN,zh;q=0.9").send());
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.getHeader("Content-Security-Policy")).contains("script-src 'self'", "frame-ancestors http://127.0.0.1:9")
        .doesNotContain("unsafe-inline");
    assertThat(page.getHeader("X-Frame-Options")).as("the allowed origin may frame it").isNull();
    assertThat(page.getHeader("Referrer-Policy")).isEqualTo("no-referrer");
    assertThat(page.getHeader("X-Content-Type-Options")).isEqualTo("nosniff");
    assertThat(page.getHeader("Cache-Control")).isEqualTo("no-store");
    assertThat(page.bodyAsString()).contains("<html lang=\"zh-CN\">", "data-connection=\"wechat-mp\"", "data-connection=\"wechat-mini-qr\"")
        .doesNotContain("data-connection=\"wechat-mini\"");

    HttpResponse<Buffer> only = await(client.get("/oidc/auth?client_id=demo&response_type=code&scope=openid&connection=wechat-mini-qr"
        + "&redirect_uri=http%3A%2F%2F127.0.0.1%3A5555%2Fcallback").putHeader("Accept-Language", "en").send());
    assertThat(only.bodyAsString()).contains("<html lang=\"en\">", "data-connection=\"wechat-mini-qr\"")
        .doesNotContain("data-connection=\"wechat-mp\"");

    for (String[] file : new String[][] {{"/static/login/login.js", "text/javascript"}, {"/static/login/login.css", "text/css"},
        {"/sdk/scangate.js", "text/javascript"}, {"/sdk/scangate.umd.js", "text/javascript"}}) {
      HttpResponse<Buffer> r = await(client.get(file[0]).send());
      assertThat(r.statusCode()).as(file[0]).isEqualTo(200);
      assertThat(r.getHeader("Content-Type")).as(file[0]).startsWith(file[1]);
      assertThat(r.getHeader("X-Content-Type-Options")).isEqualTo("nosniff");
      assertThat(await(client.get(file[0]).putHeader("If-None-Match", r.getHeader("ETag")).send()).statusCode()).isEqualTo(304);
    }
    HttpResponse<Buffer> sdk = await(client.get("/sdk/scangate.js").putHeader("Origin", "https://any.example.com").send());
    assertThat(sdk.getHeader("Access-Control-Allow-Origin")).as("module scripts load in CORS mode").isEqualTo("*");
    assertThat(sdk.getHeader("Cache-Control")).as("an unversioned URL is revalidated").isEqualTo("no-cache");

    // The page links its files by versioned URLs, which never change: cached for a year, no revalidation.
    String sdkUrl = WebAssets.versioned("/sdk/scangate.js");
    assertThat(sdkUrl).matches("/sdk/scangate\\.js\\?v=[0-9a-f]{24}");
    assertThat(page.bodyAsString()).contains("<link rel=\"stylesheet\" href=\"" + WebAssets.versioned("/static/login/login.css") + "\">",
        "<link rel=\"modulepreload\" href=\"" + sdkUrl + "\">",
        "<script type=\"module\" src=\"" + WebAssets.versioned("/static/login/login.js") + "\">");
    HttpResponse<Buffer> script = await(client.get(WebAssets.versioned("/static/login/login.js")).send());
    assertThat(script.getHeader("Cache-Control")).isEqualTo("public, max-age=31536000, immutable");
    assertThat(script.bodyAsString()).as("the script imports the URL the page preloads").contains("from '" + sdkUrl + "';");
    assertThat(await(client.get(sdkUrl).send()).getHeader("Cache-Control")).isEqualTo("public, max-age=31536000, immutable");
    assertThat(await(client.get("/sdk/scangate.js?v=0123").send()).getHeader("Cache-Control"))
        .as("an old version's URL gets today's file, revalidated").isEqualTo("no-cache");
  }

  @Test
  void startDevsHomePageLinksToTheDemoApplicationAndThePhone(Vertx vertx) {
    ScanGate gateway = gateways.start(vertx, TestConfigs.standard());
    WebClient client = TestHttp.client(vertx, gateway.port());
    assertThat(await(client.get("/").send()).bodyAsString()).contains("href=\"/demo/\"", "href=\"/sandbox/phone\"");
    HttpResponse<Buffer> demo = await(client.get("/demo/").send());
    assertThat(demo.statusCode()).isEqualTo(200);
    assertThat(demo.bodyAsString()).contains("<script type=\"module\" src=\"/sandbox/demo.js\"></script>", "id=\"login\"");
    HttpResponse<Buffer> script = await(client.get("/sandbox/demo.js").send());
    assertThat(script.getHeader("Content-Type")).startsWith("text/javascript");
    assertThat(script.bodyAsString()).contains("import {openLoginPage, startScanning, exchange} from '/sdk/scangate.js';",
        "code_verifier");
  }

  private static int gzipped(byte[] bytes) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(bytes);
    }
    return out.size();
  }
}
