package io.scangate.token;

import io.scangate.config.ScanGateConfig;
import io.scangate.error.ApiException;
import io.scangate.http.ClientIp;
import io.scangate.http.ErrorHandlers;
import io.scangate.http.JsonInput;
import io.scangate.http.Responses;
import io.scangate.http.Routes;
import io.scangate.identity.LoginContext;
import io.scangate.identity.User;
import io.scangate.identity.UserStore;
import io.scangate.login.Profile;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.util.Set;

/** {@code PATCH /api/v1/users/me}: the user behind a bearer access token changes their nickname or avatar. */
public final class UserRoutes implements Routes {

  private static final Set<String> PROFILE_FIELDS = Set.of("nickname", "avatarUrl");

  private final TokenVerifier verifier;
  private final UserStore users;
  private final ScanGateConfig config;

  public UserRoutes(TokenManager tokens) {
    this.verifier = tokens.verifier();
    this.users = tokens.users();
    this.config = tokens.config();
  }

  @Override
  public void mount(Router router) {
    router.patch("/api/v1/users/me").handler(this::updateMe);
  }

  private void updateMe(RoutingContext ctx) {
    String token = OAuthRequests.bearer(ctx);
    if (token == null) throw ErrorHandlers.invalidToken("no bearer token in the Authorization header");
    verifier.verifyAccess(token, null)
        .recover(e -> Future.failedFuture(e instanceof InvalidTokenException invalid ? ErrorHandlers.invalidToken(invalid.getMessage()) : e))
        .compose(t -> {
          Profile profile = profile(JsonInput.body(ctx));
          LoginContext context = new LoginContext(t.audience(), ClientIp.of(ctx, config.server().trustedProxies()));
          return users.updateProfile(t.subject(), profile.nickname(), profile.avatarUrl(), context).recover(UserRoutes::userGone);
        })
        .onSuccess(user -> Responses.json(ctx, 200, user.toJson()))
        .onFailure(ctx::fail);
  }

  private static Profile profile(JsonObject body) {
    for (String name : body.fieldNames()) {
      if (!PROFILE_FIELDS.contains(name)) {
        throw new ApiException(400, "invalid_profile", "Unknown field " + TokenVerifier.shown(name) + "; only nickname and avatarUrl can be changed");
      }
    }
    if (body.getValue("nickname") == null && body.getValue("avatarUrl") == null) {
      throw new ApiException(400, "invalid_profile", "Give nickname and/or avatarUrl");
    }
    return Profile.of(body.getValue("nickname"), body.getValue("avatarUrl"));
  }

  /** A valid token whose user no longer exists is as good as an invalid one. */
  static Future<User> userGone(Throwable e) {
    ApiException api = ApiException.from(e);
    return Future.failedFuture(api != null && "user_not_found".equals(api.code())
        ? ErrorHandlers.invalidToken("the token's user no longer exists") : e);
  }
}
