package io.scangate.miniprogram;

import io.scangate.Infrastructure;
import io.scangate.config.ScanGateConfig;
import io.scangate.config.ScanGateConfig.Application;
import io.scangate.config.ScanGateConfig.Connection;
import io.scangate.http.ApiException;
import io.scangate.http.ClientIp;
import io.scangate.http.JsonInput;
import io.scangate.http.Responses;
import io.scangate.http.Routes;
import io.scangate.identity.LoginContext;
import io.scangate.identity.UserStore;
import io.scangate.identity.WeChatIdentity;
import io.scangate.token.Tokens;
import io.scangate.wechat.WeChatClient;
import io.scangate.wechat.WeChatException;
import io.vertx.core.Future;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * Silent login inside the mini program (CONTRACT section 4): the {@code wx.login} code becomes
 * the WeChat identity (jscode2session), optionally with the phone number the user granted,
 * then a user (resolution, linking, loginOnly) and tokens for the application.
 * The session key WeChat returns never leaves the gateway.
 */
public final class MiniProgramLoginRoutes implements Routes {

  private final ScanGateConfig config;
  private final WeChatClient wechat;
  private final UserStore users;
  private final EventBus bus;

  public MiniProgramLoginRoutes(Infrastructure infra, WeChatClient wechat, UserStore users) {
    this.config = infra.config();
    this.wechat = wechat;
    this.users = users;
    this.bus = infra.vertx().eventBus();
  }

  @Override
  public void mount(Router router) {
    router.post("/api/v1/miniprogram/login").handler(this::login);
  }

  private void login(RoutingContext ctx) {
    JsonObject body = JsonInput.body(ctx);
    String connectionId = JsonInput.requiredString(body, "connection");
    String code = JsonInput.requiredString(body, "code");
    String phoneCode = JsonInput.optionalString(body, "phoneCode", 512);
    Application app = application(JsonInput.optionalString(body, "appId", 64));
    Connection connection = config.connection(connectionId)
        .orElseThrow(() -> ApiException.badRequest("unknown_connection", "No connection named " + connectionId));
    if (connection instanceof ScanGateConfig.OfficialAccountConnection) {
      throw ApiException.badRequest("connection_not_miniprogram", "Connection " + connectionId + " is not a mini program connection");
    }
    if (!app.enables(connectionId)) {
      throw ApiException.badRequest("connection_not_enabled", "Application " + app.appId() + " does not enable connection " + connectionId);
    }
    LoginContext context = new LoginContext(app.appId(), ClientIp.of(ctx, config.server().trustedProxies()));
    wechat.jscode2session(connection, code).recover(WeChatException::asApiFailure)
        .compose(session -> phone(connection, phoneCode).compose(phone -> users.resolve(
            new WeChatIdentity(connection.identifier(), connection.wechatAppId(), session.openid(), session.unionid(), phone, null, null),
            connection, context)))
        .compose(user -> Tokens.issue(bus, user.id(), app.appId(), null)
            .map(tokens -> new JsonObject().put("user", user.toJson()).put("tokens", tokens)))
        .onSuccess(result -> Responses.json(ctx, 200, result))
        .onFailure(ctx::fail);
  }

  private Future<String> phone(Connection connection, String phoneCode) {
    if (phoneCode == null) return Future.succeededFuture(null);
    return wechat.phoneNumber(connection, phoneCode).recover(WeChatException::asApiFailure)
        .map(WeChatClient.PhoneNumber::purePhoneNumber);
  }

  /** {@code appId} may be left out when exactly one application is configured. */
  private Application application(String appId) {
    if (appId == null) {
      if (config.applications().size() == 1) return config.applications().get(0);
      throw ApiException.badRequest("invalid_request", "\"appId\" is required when several applications are configured");
    }
    return config.application(appId).orElseThrow(() -> ApiException.badRequest("unknown_app", "No application with appId " + appId));
  }


}
