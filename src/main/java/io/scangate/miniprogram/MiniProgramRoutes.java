package io.scangate.miniprogram;

import io.scangate.config.ScanGateConfig;
import io.scangate.error.ApiException;
import io.scangate.http.ClientIp;
import io.scangate.http.JsonInput;
import io.scangate.http.Responses;
import io.scangate.http.Routes;
import io.scangate.login.LoginService;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * What the mini program calls (CONTRACT section 4): after scanning a url-style or wxacode QR code,
 * scan (proves who scans, shows which browser asked), confirm and cancel, with the scan token
 * returned by scan as its proof; and silent login with a {@code wx.login} code. Thin adapters over
 * the login pipeline: they read the body, call {@link LoginService}, and answer its JSON.
 */
public final class MiniProgramRoutes implements Routes {

  private final ScanGateConfig config;
  private final LoginService login;

  public MiniProgramRoutes(ScanGateConfig config, LoginService login) {
    this.config = config;
    this.login = login;
  }

  @Override
  public void mount(Router router) {
    router.post("/api/v1/miniprogram/qr/:scene/scan").handler(this::scan);
    router.post("/api/v1/miniprogram/qr/:scene/confirm").handler(this::confirm);
    router.post("/api/v1/miniprogram/qr/:scene/cancel").handler(this::cancel);
    router.post("/api/v1/miniprogram/login").handler(this::login);
  }

  private void scan(RoutingContext ctx) {
    JsonObject body = JsonInput.body(ctx);
    String connection = JsonInput.requiredString(body, "connection");
    String code = JsonInput.requiredString(body, "code");
    login.scanMiniProgramQr(ctx.pathParam("scene"), connection, code, clientIp(ctx))
        .onSuccess(scanned -> Responses.json(ctx, 200, scanned))
        .onFailure(ctx::fail);
  }

  private void confirm(RoutingContext ctx) {
    JsonObject body = JsonInput.body(ctx);
    String scanToken = JsonInput.requiredString(body, "scanToken");
    String phoneCode = JsonInput.optionalString(body, "phoneCode", 512);
    Object profile = body.getValue("profile");
    if (profile != null && !(profile instanceof JsonObject)) {
      throw ApiException.badRequest("invalid_request", "\"profile\" must be an object");
    }
    JsonObject given = profile == null ? new JsonObject() : (JsonObject) profile;
    // Types are checked here; what the values may be, by the pipeline's one profile validation.
    String nickname = JsonInput.optionalText(given, "nickname", Integer.MAX_VALUE);
    String avatarUrl = JsonInput.optionalText(given, "avatarUrl", Integer.MAX_VALUE);
    login.confirmMiniProgramQr(ctx.pathParam("scene"), scanToken, phoneCode, nickname, avatarUrl)
        .onSuccess(outcome -> Responses.json(ctx, 200, outcome))
        .onFailure(ctx::fail);
  }

  private void cancel(RoutingContext ctx) {
    JsonObject body = JsonInput.body(ctx);
    String scanToken = JsonInput.requiredString(body, "scanToken");
    login.cancelMiniProgramQr(ctx.pathParam("scene"), scanToken)
        .onSuccess(v -> Responses.json(ctx, 200, new JsonObject()))
        .onFailure(ctx::fail);
  }

  private void login(RoutingContext ctx) {
    JsonObject body = JsonInput.body(ctx);
    String connection = JsonInput.requiredString(body, "connection");
    String code = JsonInput.requiredString(body, "code");
    String phoneCode = JsonInput.optionalString(body, "phoneCode", 512);
    String appId = JsonInput.optionalString(body, "appId", 64);
    login.miniProgramLogin(appId, connection, code, phoneCode, clientIp(ctx))
        .onSuccess(result -> Responses.json(ctx, 200, result))
        .onFailure(ctx::fail);
  }

  private String clientIp(RoutingContext ctx) {
    return ClientIp.of(ctx, config.server().trustedProxies());
  }
}
