package io.scangate.sandbox;

import io.scangate.Infrastructure;
import io.scangate.config.ScanGateConfig;
import io.scangate.config.ScanGateConfig.ExchangeAuth;
import io.scangate.http.Routes;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * The WeChat sandbox (CONTRACT section 9), mounted only by start-dev: WeChat's server APIs under
 * {@code /sandbox/wechat}, the control endpoints under {@code /sandbox/control}, and the phone
 * page {@code /sandbox/phone}. All state is in Redis. It can forge logins: never mount it in production.
 */
public final class SandboxRoutes implements Routes {

  private final SandboxWeChatApi api;
  private final SandboxControl control;
  private final SandboxFaults faults;
  private final Buffer phonePage;
  private final Buffer homePage;
  private final Buffer demoPage;
  private final Buffer demoScript;
  private final JsonObject homeConfig;
  @SuppressWarnings({"unused", "FieldCanBeLocal"}) // held so that the GC does not close it
  private final WebClient web;

  public SandboxRoutes(Infrastructure infra) {
    if (!infra.dev()) throw new IllegalStateException("the WeChat sandbox exists only in start-dev");
    SandboxApps apps = new SandboxApps(infra.config());
    SandboxStore store = new SandboxStore(infra.redis(), infra.keys());
    this.web = WebClient.create(infra.vertx(), new WebClientOptions().setFollowRedirects(false).setUserAgent("Mozilla/4.0 (sandbox WeChat)"));
    this.api = new SandboxWeChatApi(infra.vertx(), apps, store);
    this.control = new SandboxControl(infra.config(), apps, store, web);
    this.faults = new SandboxFaults(infra.vertx(), infra.redis(), infra.keys());
    this.phonePage = resource("/sandbox/phone.html");
    this.homePage = resource("/sandbox/home.html");
    this.demoPage = resource("/sandbox/demo.html");
    this.demoScript = resource("/sandbox/demo.js");
    // What the home page's demo may offer: applications (no secrets) and their QR connections.
    JsonArray applications = new JsonArray();
    for (var app : infra.config().applications()) {
      JsonArray qrConnections = new JsonArray();
      app.connections().stream()
          .filter(id -> infra.config().connection(id).map(c -> c instanceof ScanGateConfig.QrConnection).orElse(false))
          .forEach(qrConnections::add);
      if (!qrConnections.isEmpty() && app.exchangeAuth() == ExchangeAuth.NONE) {
        applications.add(new JsonObject().put("appId", app.appId()).put("name", app.name()).put("connections", qrConnections));
      }
    }
    this.homeConfig = new JsonObject().put("applications", applications);
  }

  @Override
  public void mount(Router router) {
    // Only this gateway's own pages and servers: a page of another site must not forge logins.
    router.route("/sandbox/*").handler(io.scangate.http.DevHosts.sameOriginOnly());
    String w = "/sandbox/wechat/";
    router.route(w + "*").handler(faults::apply); // WeChat made slow or failing on purpose, until reset
    router.get(w + "cgi-bin/token").handler(api::token);
    router.post(w + "cgi-bin/stable_token").handler(api::stableToken);
    router.post(w + "cgi-bin/qrcode/create").handler(api::createQrCode);
    router.get(w + "cgi-bin/showqrcode").handler(api::showQrCode);
    router.get(w + "sns/jscode2session").handler(api::jscode2session);
    router.post(w + "wxa/business/getuserphonenumber").handler(api::phoneNumber);
    router.post(w + "wxa/getwxacodeunlimit").handler(api::wxaCode);
    router.get(w + "cgi-bin/user/info").handler(api::userInfo);

    String c = "/sandbox/control/";
    router.post(c + "miniprogram/code").handler(control::miniProgramCode);
    router.get(c + "qrcodes").handler(control::qrCodes);
    router.post(c + "mp/scan").handler(control::mpScan);
    router.get(c + "connections").handler(control::connections);
    router.post(c + "tokens/expire").handler(control::expireTokens);
    router.post(c + "tokens/revoke").handler(control::revokeTokens);
    router.post(c + "wechat/faults").handler(faults::set);
    router.get(c + "wechat/faults").handler(faults::list);
    router.post(c + "wechat/faults/reset").handler(faults::reset);

    router.get("/sandbox/phone").handler(this::phone);
    router.get(c + "home-config").handler(ctx -> ctx.json(homeConfig));
    // CONTRACT section 7: in start-dev, / links to a demo application and to the phone.
    router.get("/").handler(ctx -> page(ctx, homePage));
    // The demo application (a public OIDC client, demo-spa) that logs in through the hosted page.
    router.get("/demo").handler(ctx -> page(ctx, demoPage));
    router.get("/demo/").handler(ctx -> page(ctx, demoPage));
    router.get("/sandbox/demo.js").handler(ctx -> ctx.response().putHeader("Content-Type", "text/javascript; charset=utf-8")
        .putHeader("Cache-Control", "no-cache").end(demoScript));
  }

  private void phone(RoutingContext ctx) {
    page(ctx, phonePage);
  }

  private static void page(RoutingContext ctx, Buffer html) {
    io.scangate.http.Pages.send(ctx, html, io.scangate.http.Pages.SCRIPTED_CSP);
  }

  private static Buffer resource(String path) {
    try (InputStream in = SandboxRoutes.class.getResourceAsStream(path)) {
      if (in == null) throw new IllegalStateException(path + " is missing from the jar");
      return Buffer.buffer(in.readAllBytes());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * How long the sandbox's {@code mp/scan} waits for the webhook's answer before it tries again, as
   * WeChat does (5 s, three tries). Tests shorten it.
   */
  public static void webhookTimeout(java.time.Duration timeout) {
    SandboxControl.webhookTimeoutMillis = timeout.toMillis();
  }
}
