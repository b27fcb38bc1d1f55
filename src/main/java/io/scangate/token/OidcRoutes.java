package io.scangate.token;

import io.scangate.config.ScanGateConfig;
import io.scangate.config.ScanGateConfig.Application;
import io.scangate.http.ClientIp;
import io.scangate.http.ErrorHandlers;
import io.scangate.http.ErrorShape;
import io.scangate.http.Routes;
import io.scangate.identity.UserStore;
import io.scangate.login.SsoSessions;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.http.Cookie;
import io.vertx.core.http.CookieSameSite;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.handler.CorsHandler;

import java.net.URI;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * The OAuth/OIDC surface under {@code /oidc} (CONTRACT section 6): the JWK set, the token
 * endpoint (refresh_token and authorization_code grants), introspection (RFC 7662), revocation
 * (RFC 7009), userinfo, the authorization endpoint with its single sign-on cookie, and
 * RP-initiated logout; plus {@code /login?app_id=} on the root router ({@link #directLogin()}).
 * Errors are RFC 6749's {@code {error, error_description}} (this surface's {@link ErrorShape}).
 * Thin adapters: they authenticate the client, then call {@link TokenService} on the bus; the
 * JWK set and userinfo's token check are answered from this instance's memory.
 */
public final class OidcRoutes implements Routes {

  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(OidcRoutes.class);

  /** How long verifiers may cache the JWK set; they refetch it when they meet an unknown kid. */
  static final int JWKS_MAX_AGE_SECONDS = 300;

  /** The single sign-on cookie's name ({@code __Host-} in front when the public URL is https). */
  public static final String SSO_COOKIE = "scangate_sso";

  private final TokenService tokens;
  private final KeyRing keys;
  private final TokenVerifier verifier;
  private final UserStore users;
  private final ScanGateConfig config;
  private final io.scangate.login.LoginService login;
  private final SsoSessions sso;
  private final String ssoCookie;
  private final boolean secureCookie;

  public OidcRoutes(TokenService tokens, TokenManager local, io.scangate.login.LoginService login, SsoSessions sso) {
    this.tokens = tokens;
    this.login = login;
    this.sso = sso;
    this.secureCookie = local.config().server().publicUrl().startsWith("https:");
    // __Host-: the browser keeps it only if Secure, Path=/ and no Domain, so no sibling host can plant one.
    this.ssoCookie = secureCookie ? "__Host-" + SSO_COOKIE : SSO_COOKIE;
    this.keys = local.keys();
    this.verifier = local.verifier();
    this.users = local.users();
    this.config = local.config();
  }

  @Override
  public String prefix() {
    return "/oidc";
  }

  @Override
  public ErrorShape errors() {
    return ErrorShape.OAUTH;
  }

  /**
   * CORS for browser clients (single-page apps refreshing, revoking, reading userinfo): the
   * applications' {@code allowedOrigins} and the gateway's own, preflight included. Other origins get no CORS headers.
   */
  static CorsHandler cors(ScanGateConfig config) {
    Set<String> origins = new LinkedHashSet<>();
    // The gateway's own origin too: its hosted login page posts to /oidc/auth/complete (browsers
    // send Origin on same-origin POSTs, and CorsHandler refuses origins it does not know).
    origins.add(io.scangate.login.LoginPipeline.originOf(config.server().publicUrl()));
    config.applications().forEach(a -> origins.addAll(a.allowedOrigins()));
    return CorsHandler.create()
        .addOrigins(List.copyOf(origins))
        .allowedMethods(Set.of(HttpMethod.GET, HttpMethod.POST))
        .allowedHeaders(Set.of("Authorization", "Content-Type", "X-Request-Id"))
        .maxAgeSeconds(600);
  }

  @Override
  public void mount(Router router) {
    router.route().handler(cors(config));
    router.get("/jwks").handler(this::jwks);
    router.get("/.well-known/jwks.json").handler(this::jwks);
    router.post("/token").handler(this::token);
    router.post("/token/introspection").handler(this::introspect);
    router.post("/token/revocation").handler(this::revoke);
    router.get("/me").handler(this::me);
    router.post("/me").handler(this::me);
    router.get("/auth").handler(ctx -> authorize(ctx, ctx.request().params()));
    router.post("/auth").handler(ctx -> authorize(ctx, ctx.request().formAttributes()));
    router.post("/auth/complete").handler(this::completeAuthorization);
    router.get("/logout").handler(ctx -> logout(ctx, ctx.request().params()));
    router.post("/logout").handler(ctx -> logout(ctx, ctx.request().formAttributes()));
  }

  // ---- RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) ----

  /**
   * Redirects only to a {@code post_logout_redirect_uri} registered (exactly) in the
   * {@code postLogoutRedirectUris} of the client named by a valid {@code id_token_hint} (expired
   * ones are accepted, as the specification allows) or by {@code client_id}; anything doubtful
   * gets a page, never a redirect. A request that passes ends the browser's single sign-on
   * session (in Redis, so on every instance) and clears its cookie; one that is refused changes
   * nothing.
   */
  private void logout(RoutingContext ctx, io.vertx.core.MultiMap params) {
    for (String name : List.of("id_token_hint", "client_id", "post_logout_redirect_uri", "state")) {
      if (params.getAll(name).size() > 1) {
        logoutPage(ctx, 400, "invalid_request", "parameter " + name + " is repeated");
        return;
      }
    }
    String hint = blankToNull(params.get("id_token_hint"));
    String clientId = blankToNull(params.get("client_id"));
    String redirect = blankToNull(params.get("post_logout_redirect_uri"));
    String state = blankToNull(params.get("state"));
    io.vertx.core.Future<String> client = hint == null ? io.vertx.core.Future.succeededFuture(clientId)
        : verifier.verifySignature(hint).map(t -> {
          if (t.kind() != VerifiedToken.Kind.ID) throw new IllegalArgumentException("id_token_hint is not an id token");
          if (clientId != null && !clientId.equals(t.audience())) {
            throw new IllegalArgumentException("client_id does not match the id token's audience");
          }
          return t.audience();
        });
    client.onSuccess(appId -> {
      if (redirect == null) {
        endSingleSignOn(ctx).onSuccess(v -> logoutPage(ctx, 200, null, null)).onFailure(ctx::fail);
        return;
      }
      Application app = appId == null ? null : config.application(appId).orElse(null);
      if (app == null || !app.postLogoutRedirectUris().contains(redirect)) {
        logoutPage(ctx, 400, "invalid_request",
            "post_logout_redirect_uri is not registered for this application (or no valid id_token_hint or client_id names it)");
        return;
      }
      String location = state == null ? redirect
          : redirect + (redirect.contains("?") ? "&" : "?") + "state="
              + java.net.URLEncoder.encode(state, java.nio.charset.StandardCharsets.UTF_8);
      endSingleSignOn(ctx).onSuccess(v -> ctx.response().setStatusCode(302).putHeader("Location", location)
          .putHeader("Cache-Control", "no-store").end()).onFailure(ctx::fail);
    }).onFailure(e -> {
      if (e instanceof InvalidTokenException || e instanceof IllegalArgumentException) {
        logoutPage(ctx, 400, "invalid_request", e instanceof IllegalArgumentException ? e.getMessage()
            : "id_token_hint is not a valid id token of this gateway");
      } else {
        ctx.fail(e);
      }
    });
  }

  private static String blankToNull(String s) {
    return s == null || s.isEmpty() ? null : s;
  }

  private static void logoutPage(RoutingContext ctx, int status, String error, String description) {
    ctx.response().setStatusCode(status);
    io.scangate.http.Pages.send(ctx, io.vertx.core.buffer.Buffer.buffer(error == null ? AuthorizePage.loggedOut()
        : AuthorizePage.error(error, description)), io.scangate.http.Pages.STATIC_CSP);
  }

  // ---- the authorization endpoint (OIDC Core 3.1.2) ----

  private void authorize(RoutingContext ctx, MultiMap params) {
    authorize(ctx, AuthorizationRequests.check(config, params));
  }

  /**
   * One path for {@code /oidc/auth} and {@code /login?app_id=}: the checked request is kept in
   * Redis, then answered from the browser's single sign-on session when the login pipeline allows
   * it ({@link io.scangate.login.LoginService#authorizeFromSession}), else with the login page
   * ({@code prompt=none}: with {@code login_required}).
   */
  private void authorize(RoutingContext ctx, AuthorizationRequests.Checked checked) {
    if (checked instanceof AuthorizationRequests.ErrorPage page) {
      ctx.response().setStatusCode(400);
      io.scangate.http.Pages.send(ctx, io.vertx.core.buffer.Buffer.buffer(AuthorizePage.error(page.error(), page.description())),
          io.scangate.http.Pages.STATIC_CSP);
      return;
    }
    if (checked instanceof AuthorizationRequests.ErrorRedirect error) {
      redirect(ctx, io.scangate.login.LoginPipeline.withQuery(error.redirectUri(),
          java.util.Map.of("error", error.error(), "error_description", error.description()), error.state(), config.tokens().issuer()));
      return;
    }
    AuthorizationRequests.Valid valid = (AuthorizationRequests.Valid) checked;
    JsonObject request = valid.request();
    boolean none = valid.prompt() != null && valid.prompt().trim().equals("none");
    String session = ssoSession(ctx);
    // prompt=login asks for a scan: not even worth asking the pipeline (which refuses it too).
    boolean fromSession = session != null && (valid.prompt() == null || !valid.prompt().contains("login"));
    if (none && !fromSession) {
      loginRequired(ctx, request, "there is no single sign-on session; the user must scan to log in");
      return;
    }
    String connection = request.getString("connection");
    if (connection == null) {
      connection = valid.app().connections().stream()
          .filter(id -> config.connection(id).filter(ScanGateConfig.QrConnection.class::isInstance).isPresent())
          .findFirst().orElse(null);
    }
    if (connection == null) {
      redirect(ctx, io.scangate.login.LoginPipeline.withQuery(request.getString("redirectUri"),
          java.util.Map.of("error", "server_error", "error_description", "this application enables no QR code connection"),
          request.getString("state"), config.tokens().issuer()));
      return;
    }
    String chosen = connection;
    tokens.saveAuthorizationRequest(request).compose(id -> {
      if (!fromSession) return Future.succeededFuture(id);
      return login.authorizeFromSession(id, session, clientIp(ctx)).<String>map(answer -> {
        redirect(ctx, answer.getString("redirect"));
        return null;
      }).recover(e -> {
        io.scangate.error.ApiException refused = io.scangate.error.ApiException.from(e);
        // The session cannot answer (gone, another connection, max_age, a loopback client, the user): a scan can.
        if (refused == null || refused.status() >= 500) return Future.failedFuture(e);
        if (none) {
          loginRequired(ctx, request, refused.getMessage());
          return Future.succeededFuture(null);
        }
        return Future.succeededFuture(id);
      });
    }).onSuccess(id -> {
      if (id != null) {
        AuthorizePage.show(ctx, config, valid.app(), request.getString("connection"), chosen, id);
      }
    }).onFailure(ctx::fail);
  }

  /** OIDC Core 3.1.2.6: {@code prompt=none} and no session may answer. */
  private void loginRequired(RoutingContext ctx, JsonObject request, String why) {
    redirect(ctx, io.scangate.login.LoginPipeline.withQuery(request.getString("redirectUri"),
        java.util.Map.of("error", "login_required", "error_description", why), request.getString("state"), config.tokens().issuer()));
  }

  // ---- /login?app_id= (CONTRACT section 7) ----

  /**
   * {@code GET /login?app_id=}, the hosted login page opened directly by a site: for an
   * application with an {@code appSecret} and a {@code callbackUrl}, the {@code /oidc/auth} request
   * a confidential client would make for {@code redirect_uri} = {@code callbackUrl}, with
   * {@code prompt=login}: it always asks for a scan (never answers from the single sign-on
   * session; the scan starts a new one, as on {@code /oidc/auth}). Optional {@code state} comes
   * back with the code; {@code connection} and {@code nonce} as on {@code /oidc/auth}.
   */
  public Routes directLogin() {
    return router -> router.get("/login").handler(this::directLogin);
  }

  private void directLogin(RoutingContext ctx) {
    MultiMap query = ctx.request().params();
    for (String name : List.of("app_id", "state", "nonce", "connection")) {
      if (query.getAll(name).size() > 1) {
        authorize(ctx, new AuthorizationRequests.ErrorPage("invalid_request", "parameter " + name + " is repeated"));
        return;
      }
    }
    String appId = blankToNull(query.get("app_id"));
    Application app = appId == null ? null : config.application(appId).orElse(null);
    if (app == null) {
      authorize(ctx, new AuthorizationRequests.ErrorPage("invalid_request", "app_id must name a registered application"));
      return;
    }
    if (app.appSecret() == null || app.callbackUrl() == null) {
      authorize(ctx, new AuthorizationRequests.ErrorPage("unauthorized_client",
          "this page opened directly is for applications with an appSecret and a callbackUrl (their backend redeems the code); "
              + "use /oidc/auth"));
      return;
    }
    MultiMap params = MultiMap.caseInsensitiveMultiMap()
        .add("client_id", app.appId()).add("redirect_uri", app.callbackUrl()).add("response_type", "code")
        .add("scope", TokenManager.DEFAULT_SCOPE).add("prompt", "login");
    for (String name : List.of("state", "nonce", "connection")) {
      String value = blankToNull(query.get(name));
      if (value != null) params.add(name, value);
    }
    authorize(ctx, AuthorizationRequests.check(config, params));
  }

  // ---- the single sign-on cookie ----

  /** The browser's single sign-on session id, or null. */
  private String ssoSession(RoutingContext ctx) {
    Cookie cookie = ctx.request().getCookie(ssoCookie);
    return cookie == null || !SsoSessions.looksLikeId(cookie.getValue()) ? null : cookie.getValue();
  }

  private Cookie cookie(String value, long maxAgeSeconds) {
    return Cookie.cookie(ssoCookie, value).setPath("/").setHttpOnly(true).setSecure(secureCookie)
        .setSameSite(CookieSameSite.LAX).setMaxAge(maxAgeSeconds);
  }

  /** Ends the browser's session, if it has one, and clears its cookie. */
  private Future<Void> endSingleSignOn(RoutingContext ctx) {
    String session = ssoSession(ctx);
    if (ctx.request().getCookie(ssoCookie) != null) ctx.response().addCookie(cookie("", 0));
    return session == null ? Future.succeededFuture() : sso.end(session);
  }

  private static void redirect(RoutingContext ctx, String location) {
    // 303: after a POST the browser follows with a GET (RFC 9110 15.4.4).
    ctx.response().setStatusCode(ctx.request().method() == HttpMethod.POST ? 303 : 302)
        .putHeader("Location", location).putHeader("Cache-Control", "no-store").end();
  }

  /** The login page's last call: {@code {"authRequest", "ticket"}} → {@code {"redirect"}}. */
  private void completeAuthorization(RoutingContext ctx) {
    JsonObject body = io.scangate.http.JsonInput.body(ctx);
    String requestId = body.getValue("authRequest") instanceof String s ? s : null;
    String ticket = body.getValue("ticket") instanceof String s ? s : null;
    if (requestId == null || ticket == null) {
      throw new io.scangate.error.ApiException(400, "invalid_request", "authRequest and ticket are required");
    }
    String previous = ssoSession(ctx);
    login.authorizeWithTicket(requestId, ticket, clientIp(ctx), ctx.request().getHeader("Origin"))
        .compose(answer -> {
          // The new scan's session replaces the browser's previous one (another user, or a fresher scan).
          String started = (String) answer.remove("ssoSession");
          if (started != null) ctx.response().addCookie(cookie(started, sso.ttl().toSeconds()));
          return (previous == null ? Future.<Void>succeededFuture() : sso.end(previous)).map(answer);
        })
        .onSuccess(answer -> sendJson(ctx, answer.encode()))
        .onFailure(ctx::fail);
  }

  private void jwks(RoutingContext ctx) {
    ctx.response().putHeader("Content-Type", "application/jwk-set+json; charset=utf-8")
        .putHeader("Cache-Control", "public, max-age=" + JWKS_MAX_AGE_SECONDS)
        .end(keys.jwks().encode());
  }

  private void token(RoutingContext ctx) {
    String grantType = OAuthRequests.required(ctx, "grant_type");
    switch (grantType) {
      case "refresh_token" -> {
        Application app = OAuthRequests.authenticateClient(ctx, config, false);
        String refreshToken = OAuthRequests.required(ctx, "refresh_token");
        tokens.refresh(refreshToken, app.appId(), clientIp(ctx))
            .onSuccess(body -> sendJson(ctx, body.encode()))
            .onFailure(ctx::fail);
      }
      case "authorization_code" -> {
        // Client authentication first: a failed attempt does not use the code up.
        Application app = OAuthRequests.authenticateClient(ctx, config, false);
        String code = OAuthRequests.required(ctx, "code");
        tokens.redeemAuthorizationCode(code, app.appId(), OAuthRequests.param(ctx, "redirect_uri"),
                OAuthRequests.param(ctx, "code_verifier"), clientIp(ctx))
            .onSuccess(body -> sendJson(ctx, body.encode()))
            .onFailure(ctx::fail);
      }
      default -> throw new io.scangate.error.ApiException(400, "unsupported_grant_type",
          "grant_type " + TokenVerifier.shown(grantType) + " is not supported");
    }
  }

  private void introspect(RoutingContext ctx) {
    Application app = OAuthRequests.authenticateClient(ctx, config, true);
    String token = OAuthRequests.required(ctx, "token");
    tokens.introspect(token, app.appId()).onSuccess(body -> sendJson(ctx, body.encode())).onFailure(ctx::fail);
  }

  private void revoke(RoutingContext ctx) {
    // RFC 7009 2.1: a public client revokes with its client_id.
    Application app = OAuthRequests.authenticateClient(ctx, config, false);
    String token = OAuthRequests.required(ctx, "token");
    tokens.revoke(token, app.appId(), clientIp(ctx))
        .onSuccess(v -> ctx.response().setStatusCode(200).putHeader("Cache-Control", "no-store").end())
        .onFailure(ctx::fail);
  }

  /** OIDC userinfo (GET or POST): the CONTRACT user JSON plus the standard claims ({@link io.scangate.identity.User#standardClaims}). */
  private void me(RoutingContext ctx) {
    String token = OAuthRequests.bearer(ctx);
    if (token == null) throw ErrorHandlers.invalidToken("no bearer token in the Authorization header");
    verifier.verifyAccess(token, null)
        .recover(e -> io.vertx.core.Future.failedFuture(e instanceof InvalidTokenException invalid
            ? ErrorHandlers.invalidToken(invalid.getMessage()) : e))
        .compose(t -> users.find(t.subject()).recover(UserRoutes::userGone))
        .onSuccess(user -> ctx.response().putHeader("Content-Type", "application/json; charset=utf-8")
            .putHeader("Cache-Control", "no-store").end(user.toJson().mergeIn(user.standardClaims()).encode()))
        .onFailure(ctx::fail);
  }

  private String clientIp(RoutingContext ctx) {
    return ClientIp.of(ctx, config.server().trustedProxies());
  }

  private static void sendJson(RoutingContext ctx, String body) {
    ctx.response().putHeader("Content-Type", "application/json; charset=utf-8")
        .putHeader("Cache-Control", "no-store").putHeader("Pragma", "no-cache").end(body);
  }

  /**
   * OIDC discovery, at the root ({@code /.well-known/openid-configuration}) and, when
   * {@code tokens.issuer} has a path, also under it (Discovery 4: {@code {issuer}/.well-known/...}).
   */
  public static Routes discovery(ScanGateConfig config) {
    String issuerPath = issuerPath(config);
    URI issuer = URI.create(config.tokens().issuer());
    URI publicUrl = URI.create(config.server().publicUrl());
    if (issuer.getHost() != null && !issuer.getHost().equalsIgnoreCase(publicUrl.getHost())) {
      // Allowed (instances behind one load balancer share one issuer), but worth a look.
      log.atWarn().addKeyValue("issuer", config.tokens().issuer()).addKeyValue("publicUrl", config.server().publicUrl())
          .log("tokens.issuer names another host than server.publicUrl; relying parties fetch discovery from the issuer");
    }
    return router -> {
      router.route("/.well-known/openid-configuration").handler(cors(config));
      router.get("/.well-known/openid-configuration").handler(ctx -> discoveryDocument(ctx, config));
      if (issuerPath != null) {
        router.route(issuerPath + "/.well-known/openid-configuration").handler(cors(config));
        router.get(issuerPath + "/.well-known/openid-configuration").handler(ctx -> discoveryDocument(ctx, config));
      }
    };
  }

  /** The issuer's path without a trailing slash, or null when it has none. */
  static String issuerPath(ScanGateConfig config) {
    String path = URI.create(config.tokens().issuer()).getPath();
    if (path == null) return null;
    while (path.endsWith("/")) path = path.substring(0, path.length() - 1);
    return path.isEmpty() ? null : path;
  }

  private static void discoveryDocument(RoutingContext ctx, ScanGateConfig config) {
    {
      String base = config.server().publicUrl();
      io.vertx.core.json.JsonArray algorithms = new io.vertx.core.json.JsonArray();
      SigningKeyStore.required(config).forEach(a -> algorithms.add(a.jose));
      io.vertx.core.json.JsonArray claims = new io.vertx.core.json.JsonArray();
      for (String c : new String[] {"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "nickname", "picture",
          "phone_number", "phone_number_verified", "updated_at", "unionid"}) {
        claims.add(c);
      }
      JsonObject body = new JsonObject()
          .put("issuer", config.tokens().issuer())
          .put("authorization_endpoint", base + "/oidc/auth")
          .put("token_endpoint", base + "/oidc/token")
          .put("userinfo_endpoint", base + "/oidc/me")
          .put("jwks_uri", base + "/oidc/jwks")
          .put("introspection_endpoint", base + "/oidc/token/introspection")
          .put("revocation_endpoint", base + "/oidc/token/revocation")
          .put("response_types_supported", new io.vertx.core.json.JsonArray().add("code"))
          .put("grant_types_supported", new io.vertx.core.json.JsonArray().add("authorization_code").add("refresh_token"))
          .put("subject_types_supported", new io.vertx.core.json.JsonArray().add("public"))
          .put("id_token_signing_alg_values_supported", algorithms)
          .put("token_endpoint_auth_methods_supported",
              new io.vertx.core.json.JsonArray().add("client_secret_basic").add("client_secret_post").add("none"))
          .put("introspection_endpoint_auth_methods_supported",
              new io.vertx.core.json.JsonArray().add("client_secret_basic").add("client_secret_post"))
          .put("revocation_endpoint_auth_methods_supported",
              new io.vertx.core.json.JsonArray().add("client_secret_basic").add("client_secret_post"))
          .put("code_challenge_methods_supported", new io.vertx.core.json.JsonArray().add("S256"))
          .put("scopes_supported", new io.vertx.core.json.JsonArray().add("openid").add("profile").add("phone"))
          .put("claims_supported", claims)
          .put("request_uri_parameter_supported", false)
          .put("request_parameter_supported", false)
          .put("response_modes_supported", new io.vertx.core.json.JsonArray().add("query"))
          .put("authorization_response_iss_parameter_supported", true)
          .put("end_session_endpoint", base + "/oidc/logout");
      ctx.response().putHeader("Content-Type", "application/json; charset=utf-8")
          .putHeader("Cache-Control", "public, max-age=" + JWKS_MAX_AGE_SECONDS)
          .end(body.encode());
    }
  }
}
