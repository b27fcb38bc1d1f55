package io.scangate.token;

import io.scangate.config.ScanGateConfig;
import io.scangate.config.ScanGateConfig.Application;
import io.scangate.http.ClientIp;
import io.scangate.http.Routes;
import io.scangate.identity.LoginContext;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * The OIDC/OAuth surface of CONTRACT section 6: discovery, the JWK set, the token endpoint
 * (refresh_token grant), introspection (RFC 7662) and revocation (RFC 7009).
 */
public final class TokenRoutes implements Routes {

  /** How long verifiers may cache the JWK set; they refetch it when they meet an unknown kid. */
  static final int JWKS_MAX_AGE_SECONDS = 300;

  private final TokenService tokens;
  private final ScanGateConfig config;

  public TokenRoutes(TokenService tokens) {
    this.tokens = tokens;
    this.config = tokens.config();
  }

  @Override
  public void mount(Router router) {
    router.get("/.well-known/openid-configuration").handler(this::discovery);
    router.get("/oidc/jwks").handler(this::jwks);
    router.get("/oidc/.well-known/jwks.json").handler(this::jwks);
    router.post("/oidc/token").handler(this::token);
    router.post("/oidc/token/introspection").handler(this::introspect);
    router.post("/oidc/token/revocation").handler(this::revoke);
  }

  private void discovery(RoutingContext ctx) {
    String base = config.server().publicUrl();
    JsonObject body = new JsonObject()
        .put("issuer", config.tokens().issuer())
        .put("authorization_endpoint", base + "/oidc/auth")
        .put("token_endpoint", base + "/oidc/token")
        .put("userinfo_endpoint", base + "/oidc/me")
        .put("jwks_uri", base + "/oidc/jwks")
        .put("introspection_endpoint", base + "/oidc/token/introspection")
        .put("revocation_endpoint", base + "/oidc/token/revocation")
        .put("response_types_supported", new JsonArray().add("code"))
        .put("grant_types_supported", new JsonArray().add("authorization_code").add("refresh_token"))
        .put("subject_types_supported", new JsonArray().add("public"))
        .put("id_token_signing_alg_values_supported", new JsonArray().add(Jwt.ALG))
        .put("token_endpoint_auth_methods_supported",
            new JsonArray().add("client_secret_basic").add("client_secret_post").add("none"))
        .put("introspection_endpoint_auth_methods_supported",
            new JsonArray().add("client_secret_basic").add("client_secret_post"))
        .put("revocation_endpoint_auth_methods_supported",
            new JsonArray().add("client_secret_basic").add("client_secret_post"))
        .put("code_challenge_methods_supported", new JsonArray().add("S256"))
        .put("scopes_supported", new JsonArray().add("openid").add("profile").add("phone"))
        .put("claims_supported", new JsonArray().add("sub").add("iss").add("aud").add("exp").add("iat").add("auth_time")
            .add("nonce").add("nickname").add("picture").add("phone_number").add("phone_number_verified").add("unionid"));
    ctx.response().putHeader("Content-Type", "application/json; charset=utf-8")
        .putHeader("Cache-Control", "public, max-age=" + JWKS_MAX_AGE_SECONDS)
        .end(body.encode());
  }

  private void jwks(RoutingContext ctx) {
    ctx.response().putHeader("Content-Type", "application/jwk-set+json; charset=utf-8")
        .putHeader("Cache-Control", "public, max-age=" + JWKS_MAX_AGE_SECONDS)
        .end(tokens.keys().jwks().encode());
  }

  private void token(RoutingContext ctx) {
    try {
      String grantType = OAuthRequests.required(ctx, "grant_type");
      switch (grantType) {
        case "refresh_token" -> {
          Application app = OAuthRequests.authenticateClient(ctx, config, false);
          String refreshToken = OAuthRequests.required(ctx, "refresh_token");
          tokens.refresh(refreshToken, app.appId(), context(ctx, app.appId()))
              .onSuccess(body -> ctx.response().putHeader("Content-Type", "application/json; charset=utf-8")
                  .putHeader("Cache-Control", "no-store").putHeader("Pragma", "no-cache").end(body.encode()))
              .onFailure(e -> fail(ctx, e));
        }
        case "authorization_code" -> throw new OAuthException(400, "unsupported_grant_type",
            "grant_type authorization_code is not available yet on this gateway");
        default -> throw new OAuthException(400, "unsupported_grant_type",
            "grant_type " + TokenVerifier.shown(grantType) + " is not supported");
      }
    } catch (OAuthException e) {
      OAuthRequests.sendError(ctx, e);
    }
  }

  private void introspect(RoutingContext ctx) {
    Application app;
    String token;
    try {
      app = OAuthRequests.authenticateClient(ctx, config, true);
      token = OAuthRequests.required(ctx, "token");
    } catch (OAuthException e) {
      OAuthRequests.sendError(ctx, e);
      return;
    }
    Future<JsonObject> answer = looksLikeJwt(token)
        ? tokens.verifier().verifySignature(token).map(t -> introspectAccess(t, app)).otherwise(inactive())
        : tokens.findRefresh(token).map(stored -> stored == null || !stored.active() || !stored.appId().equals(app.appId())
            ? inactive()
            : new JsonObject().put("active", true).put("scope", stored.scope()).put("client_id", stored.appId())
                .put("sub", stored.userId()).put("aud", stored.appId()).put("iss", config.tokens().issuer())
                .put("iat", stored.issuedAt().getEpochSecond()).put("exp", stored.expiresAt().getEpochSecond())
                .put("token_use", "refresh"));
    answer.onSuccess(body -> ctx.response().putHeader("Content-Type", "application/json; charset=utf-8")
            .putHeader("Cache-Control", "no-store").end(body.encode()))
        .onFailure(e -> fail(ctx, e));
  }

  private JsonObject introspectAccess(VerifiedToken t, Application app) {
    if (t.kind() != VerifiedToken.Kind.ACCESS || !t.audience().equals(app.appId()) || tokens.verifier().isRevoked(t)) {
      return inactive();
    }
    try {
      TokenVerifier.checkCurrent(t);
    } catch (InvalidTokenException e) {
      return inactive();
    }
    return new JsonObject().put("active", true).put("scope", t.scope()).put("client_id", t.audience())
        .put("token_type", "Bearer").put("sub", t.subject()).put("aud", t.audience()).put("iss", config.tokens().issuer())
        .put("iat", t.issuedAt()).put("exp", t.expiresAt()).put("jti", t.jti()).put("token_use", "access");
  }

  private void revoke(RoutingContext ctx) {
    Application app;
    String token;
    try {
      app = OAuthRequests.authenticateClient(ctx, config, true);
      token = OAuthRequests.required(ctx, "token");
    } catch (OAuthException e) {
      OAuthRequests.sendError(ctx, e);
      return;
    }
    LoginContext context = context(ctx, app.appId());
    // RFC 7009: an invalid, unknown or foreign token is answered 200 like a revoked one.
    Future<Void> done = looksLikeJwt(token)
        ? tokens.verifier().verifySignature(token).<Void>compose(t ->
            t.kind() == VerifiedToken.Kind.ACCESS && t.audience().equals(app.appId()) && !tokens.verifier().isRevoked(t)
                ? tokens.revokeAccess(t, context)
                : Future.succeededFuture())
            .recover(e -> e instanceof InvalidTokenException ? Future.succeededFuture() : Future.failedFuture(e))
        : tokens.revokeRefresh(token, app.appId(), context);
    done.onSuccess(v -> ctx.response().setStatusCode(200).putHeader("Cache-Control", "no-store").end())
        .onFailure(e -> fail(ctx, e));
  }

  private LoginContext context(RoutingContext ctx, String appId) {
    return new LoginContext(appId, ClientIp.of(ctx, config.server().trustedProxies()));
  }

  private static boolean looksLikeJwt(String token) {
    int first = token.indexOf('.');
    return first > 0 && token.indexOf('.', first + 1) > first;
  }

  private static JsonObject inactive() {
    return new JsonObject().put("active", false);
  }

  private static void fail(RoutingContext ctx, Throwable e) {
    if (e instanceof OAuthException oauth) {
      OAuthRequests.sendError(ctx, oauth);
    } else if (e instanceof io.scangate.http.ApiException api && api.status() == 404) {
      // The token's user is gone.
      OAuthRequests.sendError(ctx, new OAuthException(400, "invalid_grant", "the token's user no longer exists"));
    } else {
      ctx.fail(e);
    }
  }
}
