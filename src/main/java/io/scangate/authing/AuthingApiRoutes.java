package io.scangate.authing;

import io.scangate.config.ScanGateConfig;
import io.scangate.error.ApiException;
import io.scangate.http.ClientIp;
import io.scangate.http.ErrorShape;
import io.scangate.http.JsonInput;
import io.scangate.http.Routes;
import io.scangate.login.LoginPipeline;
import io.scangate.login.LoginService;
import io.scangate.token.InvalidTokenException;
import io.scangate.token.TokenVerifier;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.CorsHandler;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Authing's {@code /api/v2} calls that {@code authing-js-sdk} 4.x makes for WeChat QR login
 * ({@code wxqrcode}, {@code wechatmpqrcode}: QrCodeAuthenticationClient) and {@code validateToken},
 * over our QR sessions: {@code random} is the session's private id, {@code check} is the session
 * read, {@code userinfo} the ticket exchange.
 */
public final class AuthingApiRoutes implements Routes {

  /** Authing's {@code scene} values and the kind of code each one asks for. */
  static final String SCENE_MINIPROGRAM = "WXAPP_AUTH";
  static final String SCENE_OFFICIAL_ACCOUNT = "WECHATMP_AUTH";

  private final ScanGateConfig config;
  private final LoginService login;
  private final TokenVerifier verifier;

  public AuthingApiRoutes(ScanGateConfig config, LoginService login, TokenVerifier verifier) {
    this.config = config;
    this.login = login;
    this.verifier = verifier;
  }

  @Override
  public String prefix() {
    return "/api/v2";
  }

  @Override
  public ErrorShape errors() {
    return ErrorShape.AUTHING;
  }

  @Override
  public void mount(Router router) {
    // The applications' pages only; the SDK sends its x-authing-* headers and, with axios's
    // withCredentials, needs credentials allowed (no cookie is set or read here).
    Set<String> origins = new LinkedHashSet<>();
    config.applications().forEach(a -> origins.addAll(a.allowedOrigins()));
    Set<String> headers = new LinkedHashSet<>(List.of("content-type", "authorization", "x-request-id"));
    headers.addAll(AuthingShapes.SDK_HEADERS);
    router.route().handler(CorsHandler.create()
        .addOrigins(List.copyOf(origins))
        .allowedMethods(Set.of(HttpMethod.GET, HttpMethod.POST))
        .allowedHeaders(headers)
        .allowCredentials(true)
        .maxAgeSeconds(600));
    router.post("/qrcode/gene").handler(this::gene);
    router.get("/qrcode/check").handler(this::check);
    router.post("/qrcode/userinfo").handler(this::userinfo);
    router.get("/oidc/validate_token").handler(this::validateToken);
  }

  /** {@code {scene, extIdpConnId?}} → {@code {random, url, expiresIn}}; the SDK's other fields (context, params) are not used. */
  private void gene(RoutingContext ctx) {
    String appId = AuthingShapes.appId(ctx);
    JsonObject body = JsonInput.body(ctx);
    String scene = JsonInput.requiredString(body, "scene");
    String kind = switch (scene) {
      case SCENE_MINIPROGRAM -> LoginPipeline.KIND_MINIPROGRAM_QR;
      case SCENE_OFFICIAL_ACCOUNT -> LoginPipeline.KIND_OFFICIAL_ACCOUNT;
      default -> throw ApiException.badRequest("unsupported_scene",
          "scene must be WXAPP_AUTH (mini program code) or WECHATMP_AUTH (Official Account code)");
    };
    String connection = JsonInput.optionalString(body, "extIdpConnId", 64);
    login.startQrSessionOfKind(appId, kind, connection, origin(ctx), clientIp(ctx), ctx.request().getHeader("User-Agent"))
        .onSuccess(session -> {
          long expiresIn = Math.max(0, (java.time.Instant.parse(session.getString("expiresAt")).toEpochMilli()
              - System.currentTimeMillis() + 999) / 1000);
          AuthingShapes.ok(ctx, new JsonObject()
              .put("random", session.getString("sessionId"))
              .put("url", session.getString("qrcodeUrl"))
              .put("expiresIn", expiresIn));
        })
        .onFailure(ctx::fail);
  }

  private void check(RoutingContext ctx) {
    String appId = AuthingShapes.appId(ctx);
    String random = JsonInput.queryParam(ctx, "random");
    if (random == null || random.isEmpty()) throw ApiException.badRequest("invalid_request", "random is required");
    login.readQrSession(random, appId, origin(ctx))
        .onSuccess(state -> AuthingShapes.ok(ctx, AuthingShapes.check(state)))
        .onFailure(ctx::fail);
  }

  private void userinfo(RoutingContext ctx) {
    String appId = AuthingShapes.appId(ctx);
    String ticket = JsonInput.requiredString(JsonInput.body(ctx), "ticket");
    login.exchangeTicketOfApp(appId, ticket, clientIp(ctx), origin(ctx))
        .onSuccess(result -> AuthingShapes.ok(ctx, AuthingShapes.user(result, config.userPoolId())))
        .onFailure(ctx::fail);
  }

  /**
   * {@code validateToken({accessToken})} or {@code ({idToken})}: the SDK returns this answer as it
   * is — the token's claims when it is valid, else {@code {code: 400, message}} (a token that does
   * not verify is an answer, like introspection's {@code active: false}, not a malformed request).
   */
  private void validateToken(RoutingContext ctx) {
    String accessToken = JsonInput.queryParam(ctx, "access_token");
    String idToken = JsonInput.queryParam(ctx, "id_token");
    boolean access = accessToken != null && !accessToken.isEmpty();
    boolean id = idToken != null && !idToken.isEmpty();
    if (access == id) throw ApiException.badRequest("invalid_request", "give exactly one of access_token and id_token");
    (access ? verifier.verifyAccess(accessToken, null) : verifier.verifyId(idToken)).onComplete(done -> {
      if (done.succeeded()) {
        io.scangate.http.Responses.json(ctx, 200, done.result().claims());
      } else if (done.cause() instanceof InvalidTokenException invalid) {
        io.scangate.http.Responses.json(ctx, 200, new JsonObject().put("code", 400).put("message", invalid.getMessage())
            .put("error", "invalid_token"));
      } else {
        ctx.fail(done.cause());
      }
    });
  }

  private String clientIp(RoutingContext ctx) {
    return ClientIp.of(ctx, config.server().trustedProxies());
  }

  /** The browser's Origin header (null for server-to-server calls); given twice → 400. */
  static String origin(RoutingContext ctx) {
    List<String> origins = ctx.request().headers().getAll("Origin");
    if (origins.size() > 1) throw ApiException.badRequest("invalid_request", "Origin is given more than once");
    return origins.isEmpty() ? null : origins.get(0);
  }
}
