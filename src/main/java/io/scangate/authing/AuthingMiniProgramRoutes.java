package io.scangate.authing;

import io.scangate.config.ScanGateConfig;
import io.scangate.config.ScanGateConfig.Application;
import io.scangate.config.ScanGateConfig.MiniProgramConnection;
import io.scangate.error.ApiException;
import io.scangate.http.ClientIp;
import io.scangate.http.ErrorHandlers;
import io.scangate.http.ErrorShape;
import io.scangate.http.JsonInput;
import io.scangate.http.Routes;
import io.scangate.login.LoginService;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * The login calls of {@code authing-wxapp-sdk} ({@code loginByCode}, {@code loginByPhone}) over
 * our silent mini program login. Mounted on the root router with paths of their own (the
 * Official Account webhook lives under {@code /connections/social} too), errors in Authing's shape.
 */
public final class AuthingMiniProgramRoutes implements Routes {

  static final String BASE = "/connections/social/wechat-miniprogram";

  private final ScanGateConfig config;
  private final LoginService login;

  public AuthingMiniProgramRoutes(ScanGateConfig config, LoginService login) {
    this.config = config;
    this.login = login;
  }

  @Override
  public void mount(Router router) {
    for (String path : new String[] {BASE + "/auth", BASE + "/auth-by-phone"}) {
      router.route(path).failureHandler(ErrorHandlers.failureHandler(ErrorShape.AUTHING));
    }
    router.post(BASE + "/auth").handler(this::loginByCode);
    router.post(BASE + "/auth-by-phone").handler(this::loginByPhone);
  }

  /** {@code {code, iv?, encryptedData?, rawData?}}: the {@code wx.login} code; the legacy profile fields are not used. */
  private void loginByCode(RoutingContext ctx) {
    String appId = AuthingShapes.appId(ctx);
    String code = JsonInput.requiredString(JsonInput.body(ctx), "code");
    login.miniProgramLogin(appId, miniProgramOf(appId), code, null, ClientIp.of(ctx, config.server().trustedProxies()))
        .onSuccess(result -> AuthingShapes.ok(ctx, AuthingShapes.user(result, config.userPoolId())))
        .onFailure(ctx::fail);
  }

  /**
   * {@code {code, iv, encryptedData}}: the phone number encrypted with WeChat's session key, the
   * form WeChat has deprecated in favour of the phone code; not decrypted here
   * (docs/migrating-from-authing.md says what to call instead).
   */
  private void loginByPhone(RoutingContext ctx) {
    AuthingShapes.appId(ctx);
    throw ApiException.badRequest("phone_encryption_unsupported",
        "Encrypted phone data (iv, encryptedData) is not accepted: send the phone code of getPhoneNumber to "
            + "POST /api/v1/miniprogram/login as phoneCode");
  }

  /** The application's first enabled silent-login (wechat-miniprogram) connection. */
  private String miniProgramOf(String appId) {
    Application app = config.application(appId)
        .orElseThrow(() -> ApiException.badRequest("unknown_app", "No application with appId " + appId));
    return app.connections().stream()
        .filter(id -> config.connection(id).filter(MiniProgramConnection.class::isInstance).isPresent())
        .findFirst()
        .orElseThrow(() -> ApiException.badRequest("connection_not_enabled",
            "Application " + appId + " enables no wechat-miniprogram connection"));
  }
}
