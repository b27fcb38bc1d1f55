package io.scangate.token;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.Payload;
import io.scangate.Infrastructure;
import io.scangate.config.ScanGateConfig;
import io.scangate.error.ApiException;
import io.scangate.identity.LoginContext;
import io.scangate.identity.User;
import io.scangate.identity.UserStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Issues, refreshes and revokes this instance's tokens. One per gateway instance, shared by the
 * {@link TokenVerticle} and the HTTP routes; everything it keeps in memory is a view of
 * PostgreSQL (keys, refresh tokens) or Redis (revocations).
 */
public final class TokenManager implements TokenService {

  static final String DEFAULT_SCOPE = "openid profile phone";
  private static final Pattern SCOPE_TOKEN = Pattern.compile("[\\x21\\x23-\\x5B\\x5D-\\x7E]{1,64}");

  private final ScanGateConfig config;
  private final UserStore users;
  private final SigningKeyStore keyStore;
  private final KeyRing keys;
  private final Revocations revocations;
  private final RefreshTokenStore refreshTokens;
  private final TokenVerifier verifier;
  private final AuthorizationCodes codes;
  private final Vertx vertx;

  private TokenManager(Infrastructure infra, UserStore users) {
    this.vertx = infra.vertx();
    this.config = infra.config();
    this.users = users;
    ScanGateConfig.Tokens tokens = config.tokens();
    this.keyStore = new SigningKeyStore(infra.vertx(), infra.postgres(), tokens.keyEncryptionKey());
    Duration longest = tokens.accessTokenTtl().compareTo(tokens.idTokenTtl()) > 0 ? tokens.accessTokenTtl() : tokens.idTokenTtl();
    // Instances that have not reloaded yet may sign with a superseded key for one refresh interval.
    Duration retention = longest.plusMillis(2 * KeyRing.REFRESH_INTERVAL_MS).plusSeconds(TokenVerifier.LEEWAY_SECONDS + 60);
    this.keys = new KeyRing(keyStore, retention);
    this.revocations = new Revocations(infra.vertx(), infra.redis(), config.redis(), infra.keys(), longest);
    this.refreshTokens = new RefreshTokenStore(infra.postgres(), tokens.refreshReuseInterval());
    this.verifier = new TokenVerifier(infra.vertx(), config, keys, revocations);
    // The user has the QR code's lifetime to scan, plus time to confirm and for the page to answer.
    this.codes = new AuthorizationCodes(infra.redis(), infra.keys(), config.qr().sessionTtl().plus(config.qr().ticketTtl()));
  }

  public static TokenManager create(Infrastructure infra, UserStore users) {
    return new TokenManager(infra, users);
  }

  /** Creates the first signing key if there is none, loads the keys and subscribes to revocations. */
  Future<Void> start() {
    return keyStore.ensureKeys(SigningKeyStore.required(config)).compose(created -> keys.reload())
        .compose(v -> revocations.start());
  }

  Future<Void> close() {
    return revocations.close();
  }

  Future<Void> reloadKeys() {
    return keys.reload();
  }

  public TokenVerifier verifier() {
    return verifier;
  }

  public KeyRing keys() {
    return keys;
  }

  public UserStore users() {
    return users;
  }

  public ScanGateConfig config() {
    return config;
  }

  /**
   * Adds a signing key for every algorithm in use (the {@code keys rotate} command): RS256, the
   * configured ones and any already stored. Returns the new kids.
   */
  public static Future<List<String>> rotateKeys(Vertx vertx, io.vertx.sqlclient.Pool pool, ScanGateConfig config) {
    SigningKeyStore store = new SigningKeyStore(vertx, pool, config.tokens().keyEncryptionKey());
    // Unseal the newest existing key first: rotating under a wrong key-encryption key must fail.
    return store.loadAll()
        .compose(existing -> existing.isEmpty() ? Future.succeededFuture()
            : store.unseal(existing.get(existing.size() - 1)).mapEmpty())
        .compose(v -> store.rotate(SigningKeyStore.required(config)));
  }

  /**
   * New access, id and refresh tokens (a new refresh family) for a user of an application:
   * {@code {"access_token","id_token","refresh_token","token_type":"Bearer","expires_in"}}.
   */
  @Override
  public Future<JsonObject> issue(String userId, String appId, String nonce, String scope) {
    if (appId == null || config.application(appId).isEmpty()) {
      return Future.failedFuture(ApiException.badRequest("unknown_app", "No application with appId " + appId));
    }
    String grantedScope = normaliseScope(scope);
    return users.find(userId).compose(user -> {
      if (user.blocked()) return Future.failedFuture(UserStore.userBlocked());
      Instant now = Instant.now();
      String accessJti = newJti();
      RefreshTokenStore.NewRefresh refresh = new RefreshTokenStore.NewRefresh(RefreshTokenStore.newToken(),
          UUID.randomUUID(), user.id(), appId, grantedScope, now.plus(config.tokens().refreshTokenTtl()),
          accessJti, now.plus(config.tokens().accessTokenTtl()));
      return refreshTokens.insert(refresh).compose(v -> signed(() -> tokenResponse(user, appId, grantedScope, nonce, now,
          accessJti, refresh.token(), now.getEpochSecond())));
    });
  }

  // ---- the authorization code flow (OIDC Core 3.1, RFC 6749 4.1, RFC 7636) ----

  @Override
  public Future<String> saveAuthorizationRequest(JsonObject request) {
    return codes.saveRequest(request);
  }

  @Override
  public Future<JsonObject> authorizationRequest(String requestId) {
    if (requestId == null || requestId.length() > 64) return Future.failedFuture(requestExpired());
    return codes.loadRequest(requestId).compose(found -> found == null ? Future.failedFuture(requestExpired())
        : Future.succeededFuture(found));
  }

  private static ApiException requestExpired() {
    return new ApiException(400, "invalid_request", "the authorization request is unknown or has expired; start the login again");
  }

  @Override
  public Future<JsonObject> issueAuthorizationCode(String requestId, String userId, long authTime) {
    return authorizationRequest(requestId).compose(request -> {
      JsonObject grant = new JsonObject()
          .put("clientId", request.getString("clientId"))
          .put("redirectUri", request.getString("redirectUri"))
          .put("scope", request.getString("scope"))
          .put("nonce", request.getString("nonce"))
          .put("codeChallenge", request.getString("codeChallenge"))
          .put("userId", userId)
          .put("authTime", authTime);
      // Used up first: one request yields at most one code.
      return codes.dropRequest(requestId).compose(v -> codes.issue(grant)).map(code -> {
        JsonObject answer = new JsonObject().put("code", code).put("redirectUri", request.getString("redirectUri"));
        if (request.getString("state") != null) answer.put("state", request.getString("state"));
        return answer;
      });
    });
  }

  @Override
  public Future<JsonObject> redeemAuthorizationCode(String code, String appId, String redirectUri, String codeVerifier,
                                                    String clientIp) {
    LoginContext context = new LoginContext(appId, clientIp);
    if (!AuthorizationCodes.looksLikeCode(code)) return Future.failedFuture(invalidGrant("the authorization code is unknown or has expired"));
    return codes.redeem(code).compose(redemption -> {
      if (redemption == null) return Future.failedFuture(invalidGrant("the authorization code is unknown or has expired"));
      JsonObject grant = redemption.grant();
      if (!redemption.first()) {
        return revokeIssued(redemption.issued(), grant.getString("clientId"), context)
            .compose(v -> users.audit("authorization_code_reuse", "refused", grant.getString("userId"), null, context, null))
            .compose(v -> Future.failedFuture(invalidGrant(
                "the authorization code was already used; the tokens it gave are now revoked")));
      }
      if (!appId.equals(grant.getString("clientId"))) {
        return Future.failedFuture(invalidGrant("the authorization code was issued to another client"));
      }
      if (redirectUri == null || !redirectUri.equals(grant.getString("redirectUri"))) {
        return Future.failedFuture(invalidGrant("redirect_uri does not match the one of the authorization request"));
      }
      String refusal = Pkce.refusal(grant.getString("codeChallenge"), codeVerifier);
      if (refusal != null) return Future.failedFuture(invalidGrant(refusal));
      return users.find(grant.getString("userId"))
          .recover(e -> Future.failedFuture(ApiException.from(e) != null && "user_not_found".equals(ApiException.from(e).code())
              ? invalidGrant("the code's user no longer exists") : e))
          .compose(user -> {
            if (user.blocked()) return Future.failedFuture(invalidGrant("the code's user is blocked"));
            Instant now = Instant.now();
            String scope = normaliseScope(grant.getString("scope"));
            String accessJti = newJti();
            RefreshTokenStore.NewRefresh refresh = new RefreshTokenStore.NewRefresh(RefreshTokenStore.newToken(),
                UUID.randomUUID(), user.id(), appId, scope, now.plus(config.tokens().refreshTokenTtl()),
                accessJti, now.plus(config.tokens().accessTokenTtl()));
            JsonObject issued = new JsonObject().put("refreshToken", refresh.token()).put("accessJti", accessJti)
                .put("accessExp", now.plus(config.tokens().accessTokenTtl()).getEpochSecond());
            // Recorded before the answer leaves, so a reuse racing the answer still finds what to revoke.
            return refreshTokens.insert(refresh)
                .compose(v -> codes.recordIssued(code, issued))
                .compose(v -> signed(() -> tokenResponse(user, appId, scope, grant.getString("nonce"), now, accessJti,
                    refresh.token(), grant.getLong("authTime")).put("scope", scope)))
                .compose(body -> users.audit("authorization_code_exchange", "success", user.id(), null, context, null).map(body));
          });
    });
  }

  /** What a code's first use issued: its refresh family (with the access tokens issued with it) and its access token. */
  private Future<Void> revokeIssued(JsonObject issued, String appId, LoginContext context) {
    if (issued == null) return Future.succeededFuture();
    return revokeRefresh(issued.getString("refreshToken"), appId, context)
        .compose(v -> revocations.revoke(issued.getString("accessJti"), issued.getLong("accessExp")));
  }

  private static ApiException invalidGrant(String description) {
    return new ApiException(400, "invalid_grant", description);
  }

  @Override
  public Future<JsonObject> refresh(String presented, String appId, String clientIp) {
    LoginContext context = new LoginContext(appId, clientIp);
    Instant now = Instant.now();
    String accessJti = newJti();
    String nextToken = RefreshTokenStore.newToken();
    return refreshTokens.rotate(presented, appId, grant -> new RefreshTokenStore.NewRefresh(nextToken, grant.familyId(),
            grant.userId(), grant.appId(), grant.scope(), now.plus(config.tokens().refreshTokenTtl()), accessJti,
            now.plus(config.tokens().accessTokenTtl())))
        .compose(rotation -> {
          if (rotation instanceof RefreshTokenStore.Rotation.Rotated rotated) {
            RefreshTokenStore.Grant grant = rotated.grant();
            return users.find(grant.userId())
                .recover(e -> Future.failedFuture(ApiException.from(e) != null && "user_not_found".equals(ApiException.from(e).code())
                    ? new ApiException(400, "invalid_grant", "the token's user no longer exists") : e))
                .compose(user -> user.blocked()
                    // Blocking revokes every family; this closes the race with a refresh in flight.
                    ? refreshTokens.revokeFamily(grant.familyId()).compose(this::revokeAll)
                        .compose(v -> Future.<JsonObject>failedFuture(new ApiException(400, "invalid_grant", "the token's user is blocked")))
                    : signed(() -> tokenResponse(user, appId, grant.scope(), null,
                        now, accessJti, nextToken, null).put("scope", grant.scope()))
                        .compose(body -> users.audit("token_refresh", "success", user.id(), null, context,
                            new JsonObject().put("family", grant.familyId().toString())).map(body)));
          }
          if (rotation instanceof RefreshTokenStore.Rotation.Retried retried) {
            // The same access token claims as the first answer (same jti, so a family revocation covers it).
            RefreshTokenStore.Grant grant = retried.grant();
            Instant issuedAt = retried.accessExpiresAt().minus(config.tokens().accessTokenTtl());
            return users.find(grant.userId())
                .compose(user -> signed(() -> tokenResponse(user, appId, grant.scope(), null, issuedAt,
                    retried.accessJti(), retried.successor(), null).put("scope", grant.scope())));
          }
          if (rotation instanceof RefreshTokenStore.Rotation.Reused reused) {
            return revokeAll(reused.accessTokens())
                .compose(v -> users.audit("refresh_reuse", "refused", reused.grant().userId(), null, context,
                    new JsonObject().put("family", reused.grant().familyId().toString())
                        .put("revokedAccessTokens", reused.accessTokens().size())))
                .compose(v -> Future.failedFuture(new ApiException(400, "invalid_grant",
                    "refresh token was already used; every token of its family is now revoked")));
          }
          return Future.failedFuture(new ApiException(400, "invalid_grant",
              ((RefreshTokenStore.Rotation.Refused) rotation).description()));
        });
  }

  @Override
  public Future<Void> revoke(String token, String appId, String clientIp) {
    LoginContext context = new LoginContext(appId, clientIp);
    // RFC 7009: an invalid, unknown or foreign token is answered like a revoked one.
    if (!looksLikeJwt(token)) return revokeRefresh(token, appId, context);
    return verifier.verifySignature(token).<Void>compose(t ->
            t.kind() == VerifiedToken.Kind.ACCESS && t.audience().equals(appId) && !verifier.isRevoked(t)
                ? revokeAccess(t, context)
                : Future.succeededFuture())
        .recover(e -> e instanceof InvalidTokenException ? Future.succeededFuture() : Future.failedFuture(e));
  }

  @Override
  public Future<JsonObject> introspect(String token, String appId) {
    if (looksLikeJwt(token)) {
      return verifier.verifySignature(token).map(t -> introspectAccess(t, appId)).otherwise(inactive());
    }
    return refreshTokens.find(token).map(stored -> stored == null || !stored.active() || !stored.appId().equals(appId)
        ? inactive()
        : new JsonObject().put("active", true).put("scope", stored.scope()).put("client_id", stored.appId())
            .put("sub", stored.userId()).put("aud", stored.appId()).put("iss", config.tokens().issuer())
            .put("iat", stored.issuedAt().getEpochSecond()).put("exp", stored.expiresAt().getEpochSecond())
            .put("token_use", "refresh"));
  }

  private JsonObject introspectAccess(VerifiedToken t, String appId) {
    if (t.kind() != VerifiedToken.Kind.ACCESS || !t.audience().equals(appId) || verifier.isRevoked(t)) return inactive();
    try {
      TokenVerifier.checkCurrent(t);
    } catch (InvalidTokenException e) {
      return inactive();
    }
    return new JsonObject().put("active", true).put("scope", t.scope()).put("client_id", t.audience())
        .put("token_type", "Bearer").put("sub", t.subject()).put("aud", t.audience()).put("iss", config.tokens().issuer())
        .put("iat", t.issuedAt()).put("exp", t.expiresAt()).put("jti", t.jti()).put("token_use", "access");
  }

  private static boolean looksLikeJwt(String token) {
    int first = token.indexOf('.');
    return first > 0 && token.indexOf('.', first + 1) > first;
  }

  private static JsonObject inactive() {
    return new JsonObject().put("active", false);
  }

  /** Revokes an access token on every instance and audits it. */
  Future<Void> revokeAccess(VerifiedToken token, LoginContext context) {
    return revocations.revoke(token.jti(), token.expiresAt())
        .compose(v -> users.audit("token_revoked", "success", token.subject(), null, context,
            new JsonObject().put("tokenType", "access_token").put("jti", token.jti())));
  }

  /**
   * Revokes a refresh token issued to {@code appId}, its family and the access tokens issued with
   * it. Unknown tokens and other applications' tokens are ignored (RFC 7009 answers 200 anyway).
   */
  Future<Void> revokeRefresh(String token, String appId, LoginContext context) {
    return refreshTokens.find(token).compose(stored -> {
      if (stored == null || !stored.appId().equals(appId)) return Future.succeededFuture();
      return refreshTokens.revokeFamily(stored.familyId())
          .compose(this::revokeAll)
          .compose(v -> users.audit("token_revoked", "success", stored.userId(), null, context,
              new JsonObject().put("tokenType", "refresh_token").put("family", stored.familyId().toString())));
    });
  }

  /**
   * Log out everywhere: every refresh family of the user, of every application, is revoked in
   * PostgreSQL, and every access token issued to the user until now is refused by every
   * instance (a revocation by user and issue time in the shared revocation view). Answers how
   * many refresh tokens were revoked. The same code runs in the gateway and the command line.
   */
  public static Future<Integer> revokeEverything(io.vertx.sqlclient.Pool pool, io.vertx.redis.client.Redis redis,
                                                 io.scangate.redis.RedisKeys keys, ScanGateConfig config, String userId) {
    long upTo = System.currentTimeMillis() / 1000;
    ScanGateConfig.Tokens t = config.tokens();
    Duration longest = t.accessTokenTtl().compareTo(t.idTokenTtl()) > 0 ? t.accessTokenTtl() : t.idTokenTtl();
    return RefreshTokenStore.revokeAllOf(pool, UUID.fromString(userId))
        .compose(count -> Revocations.revokeUser(redis, keys, userId, upTo, longest).map(count));
  }

  Future<RefreshTokenStore.Stored> findRefresh(String token) {
    return refreshTokens.find(token);
  }

  private Future<Void> revokeAll(List<RefreshTokenStore.AccessJti> tokens) {
    List<Future<Void>> all = new ArrayList<>();
    for (RefreshTokenStore.AccessJti t : tokens) all.add(revocations.revoke(t.jti(), t.expiresAt().getEpochSecond()));
    return Future.all(all).mapEmpty();
  }

  /** Signing two RS256 tokens (two RSA private-key operations) takes milliseconds (bench/jmh): not on an event loop. */
  private Future<JsonObject> signed(java.util.concurrent.Callable<JsonObject> response) {
    return vertx.executeBlocking(response, false);
  }

  private JsonObject tokenResponse(User user, String appId, String scope, String nonce, Instant now, String accessJti,
                                   String refreshToken, Long authTime) {
    ScanGateConfig.Tokens settings = config.tokens();
    SigningKey key = keys.signer(config.application(appId).orElseThrow().signingAlgorithm());
    long iat = now.getEpochSecond();
    long accessExp = iat + settings.accessTokenTtl().toSeconds();
    JsonObject access = new JsonObject()
        .put("iss", settings.issuer()).put("sub", user.id()).put("aud", appId)
        .put("iat", iat).put("exp", accessExp).put("jti", accessJti)
        .put("client_id", appId).put("scope", scope).put("token_use", "access");
    JsonObject id = new JsonObject()
        .put("iss", settings.issuer()).put("sub", user.id()).put("aud", appId)
        .put("iat", iat).put("exp", iat + settings.idTokenTtl().toSeconds()).put("jti", newJti())
        .put("azp", appId).put("token_use", "id");
    // OIDC Core 2: the time of the scan that logged the user in; refreshed id tokens leave it out.
    if (authTime != null) id.put("auth_time", authTime);
    if (nonce != null && !nonce.isEmpty()) id.put("nonce", nonce);
    Set<String> scopes = Set.of(scope.split(" "));
    JsonObject standard = user.standardClaims();
    if (scopes.contains("profile")) {
      for (String claim : new String[] {"nickname", "picture", "updated_at"}) {
        if (standard.containsKey(claim)) id.put(claim, standard.getValue(claim));
      }
      if (user.unionid() != null) id.put("unionid", user.unionid());
    }
    if (scopes.contains("phone") && user.phone() != null) {
      id.put("phone_number", standard.getString("phone_number")).put("phone_number_verified", true);
    }
    return new JsonObject()
        .put("access_token", sign(key, TokenVerifier.ACCESS_TYP, access))
        .put("id_token", sign(key, TokenVerifier.ID_TYP, id))
        .put("refresh_token", refreshToken)
        .put("token_type", "Bearer")
        .put("expires_in", settings.accessTokenTtl().toSeconds());
  }

  static String sign(SigningKey key, String typ, JsonObject claims) {
    JWSHeader header = new JWSHeader.Builder(key.jwsAlgorithm()).type(new JOSEObjectType(typ)).keyID(key.kid()).build();
    JWSObject jws = new JWSObject(header, new Payload(claims.encode()));
    try {
      jws.sign(key.signer());
    } catch (JOSEException e) {
      throw new IllegalStateException(key.algorithm().jose + " signing failed", e);
    }
    return jws.serialize();
  }

  static String normaliseScope(String scope) {
    if (scope == null || scope.isBlank()) return DEFAULT_SCOPE;
    Set<String> parts = new LinkedHashSet<>();
    for (String part : scope.trim().split("\\s+")) {
      if (SCOPE_TOKEN.matcher(part).matches()) parts.add(part);
    }
    return parts.isEmpty() ? DEFAULT_SCOPE : String.join(" ", parts);
  }

  private static String newJti() {
    return UUID.randomUUID().toString();
  }
}
