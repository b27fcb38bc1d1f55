package io.scangate.token;

import io.scangate.config.ScanGateConfig;
import io.scangate.http.ApiException;
import io.scangate.http.Responses;
import io.scangate.http.ClientIp;
import io.scangate.http.Routes;
import io.scangate.identity.LoginContext;
import io.scangate.identity.UserStore;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.net.URI;
import java.util.Set;

/**
 * The user behind a bearer access token: {@code GET /oidc/me} (OIDC userinfo; the CONTRACT user
 * JSON plus {@code sub}) and {@code PATCH /api/v1/users/me}.
 */
public final class UserRoutes implements Routes {

  private static final int MAX_NICKNAME = 64;
  private static final int MAX_AVATAR_URL = 2048;
  private static final Set<String> PROFILE_FIELDS = Set.of("nickname", "avatarUrl");

  private final TokenVerifier verifier;
  private final UserStore users;
  private final ScanGateConfig config;

  public UserRoutes(TokenService tokens) {
    this.verifier = tokens.verifier();
    this.users = tokens.users();
    this.config = tokens.config();
  }

  @Override
  public void mount(Router router) {
    router.get("/oidc/me").handler(this::me);
    router.post("/oidc/me").handler(this::me);
    router.patch("/api/v1/users/me").handler(this::updateMe);
  }

  private void me(RoutingContext ctx) {
    authenticated(ctx).onSuccess(t -> users.find(t.subject())
        .onSuccess(user -> Responses.json(ctx, 200, user.toJson().put("sub", user.id())))
        .onFailure(e -> userGone(ctx, e)));
  }

  private void updateMe(RoutingContext ctx) {
    authenticated(ctx).onSuccess(t -> {
      String nickname;
      String avatarUrl;
      try {
        JsonObject body = profileBody(ctx);
        nickname = nickname(body);
        avatarUrl = avatarUrl(body);
      } catch (ApiException e) {
        ctx.fail(e);
        return;
      }
      LoginContext context = new LoginContext(t.audience(), ClientIp.of(ctx, config.server().trustedProxies()));
      users.updateProfile(t.subject(), nickname, avatarUrl, context)
          .onSuccess(user -> Responses.json(ctx, 200, user.toJson()))
          .onFailure(e -> userGone(ctx, e));
    });
  }

  /** The verified access token; on failure the 401 is already sent. */
  private Future<VerifiedToken> authenticated(RoutingContext ctx) {
    String token = OAuthRequests.bearer(ctx);
    if (token == null) {
      OAuthRequests.sendInvalidToken(ctx, "no bearer token in the Authorization header");
      return Future.failedFuture("unauthenticated");
    }
    return verifier.verifyAccess(token, null).onFailure(e -> {
      if (e instanceof InvalidTokenException invalid) OAuthRequests.sendInvalidToken(ctx, invalid.getMessage());
      else ctx.fail(e);
    });
  }

  private static void userGone(RoutingContext ctx, Throwable e) {
    if (e instanceof ApiException api && "user_not_found".equals(api.code())) {
      OAuthRequests.sendInvalidToken(ctx, "the token's user no longer exists");
    } else {
      ctx.fail(e);
    }
  }

  private static JsonObject profileBody(RoutingContext ctx) {
    JsonObject body;
    try {
      body = ctx.body().asJsonObject();
    } catch (RuntimeException e) {
      throw new ApiException(400, "invalid_json", "The request body is not a JSON object");
    }
    if (body == null) throw new ApiException(400, "invalid_json", "The request body must be a JSON object");
    for (String name : body.fieldNames()) {
      if (!PROFILE_FIELDS.contains(name)) {
        throw new ApiException(400, "invalid_profile", "Unknown field " + TokenVerifier.shown(name) + "; only nickname and avatarUrl can be changed");
      }
    }
    if (body.getValue("nickname") == null && body.getValue("avatarUrl") == null) {
      throw new ApiException(400, "invalid_profile", "Give nickname and/or avatarUrl");
    }
    return body;
  }

  private static String nickname(JsonObject body) {
    Object value = body.getValue("nickname");
    if (value == null) return null;
    if (!(value instanceof String s) || s.isBlank() || s.length() > MAX_NICKNAME || s.chars().anyMatch(Character::isISOControl)) {
      throw new ApiException(400, "invalid_profile", "nickname must be a non-empty string of at most " + MAX_NICKNAME
          + " characters without control characters");
    }
    return s.strip();
  }

  private static String avatarUrl(JsonObject body) {
    Object value = body.getValue("avatarUrl");
    if (value == null) return null;
    if (value instanceof String s && s.length() <= MAX_AVATAR_URL) {
      try {
        URI uri = URI.create(s);
        if (("https".equals(uri.getScheme()) || "http".equals(uri.getScheme())) && uri.getHost() != null) return s;
      } catch (IllegalArgumentException ignored) {
        // answered below
      }
    }
    throw new ApiException(400, "invalid_profile", "avatarUrl must be an http(s) URL of at most " + MAX_AVATAR_URL + " characters");
  }
}
