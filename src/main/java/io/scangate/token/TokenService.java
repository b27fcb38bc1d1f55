package io.scangate.token;

import io.vertx.codegen.annotations.Nullable;
import io.vertx.codegen.annotations.ProxyGen;
import io.vertx.codegen.annotations.VertxGen;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.serviceproxy.ServiceProxyBuilder;

/**
 * The token verticle's capability on the event bus ({@value #ADDRESS}): issuing, refreshing,
 * revoking and introspecting tokens. Callers have authenticated the client ({@code appId}) first.
 * Verifying an access token is not here: it is answered from each instance's memory
 * ({@link TokenVerifier}), the hot path of forward-auth. Refusals are
 * {@link io.scangate.error.ApiException}s with RFC 6749 codes where the OAuth endpoints show them.
 */
@ProxyGen
@VertxGen
public interface TokenService {

  String ADDRESS = "scangate.token";

  static TokenService proxy(Vertx vertx) {
    return new ServiceProxyBuilder(vertx).setAddress(ADDRESS).build(TokenService.class);
  }

  /**
   * New access, id and refresh tokens (a new refresh family) for a user of an application:
   * {@code {"access_token","id_token","refresh_token","token_type":"Bearer","expires_in"}}.
   */
  Future<JsonObject> issue(String userId, String appId, @Nullable String nonce, @Nullable String scope);

  /** The refresh_token grant: rotates the presented token; reuse revokes its family ({@code invalid_grant}). */
  Future<JsonObject> refresh(String refreshToken, String appId, @Nullable String clientIp);

  /** RFC 7009: revokes an access or refresh token of {@code appId}; unknown and foreign tokens are ignored. */
  Future<Void> revoke(String token, String appId, @Nullable String clientIp);

  /** RFC 7662: {@code {"active": false}} or the token's claims, for tokens of {@code appId}. */
  Future<JsonObject> introspect(String token, String appId);

  /**
   * Keeps a validated {@code /oidc/auth} request server-side while the user scans; answers its
   * random id (the page carries only the id).
   */
  Future<String> saveAuthorizationRequest(JsonObject request);

  /** A saved authorization request; {@code invalid_request} when it is unknown or has expired. */
  Future<JsonObject> authorizationRequest(String requestId);

  /**
   * An authorization code for a confirmed login of {@code userId} answering the saved request
   * (which is used up): {@code {"code", "redirectUri", "state"?}}.
   */
  Future<JsonObject> issueAuthorizationCode(String requestId, String userId, long authTime);

  /**
   * The authorization_code grant: the code works once, within a minute, for the client and
   * redirect URI it was issued to, with the PKCE verifier of its challenge; anything else is
   * {@code invalid_grant}, and a reused code revokes what its first use issued.
   */
  Future<JsonObject> redeemAuthorizationCode(String code, String appId, @Nullable String redirectUri,
                                             @Nullable String codeVerifier, @Nullable String clientIp);
}
