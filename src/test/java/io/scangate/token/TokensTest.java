package io.scangate.token;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.Ed25519Verifier;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jose.proc.DefaultJOSEObjectTypeVerifier;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import io.scangate.config.ScanGateConfig.SigningAlgorithm;
import io.scangate.ScanGate;
import io.scangate.config.ScanGateConfig;
import io.scangate.identity.LoginContext;
import io.scangate.identity.User;
import io.scangate.identity.UserStore;
import io.scangate.identity.WeChatIdentity;
import io.scangate.testing.Gateways;
import io.scangate.testing.TestConfigs;
import io.scangate.testing.TestHttp;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.scangate.testing.Await.await;
import static io.scangate.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
class TokensTest {

  /** Instances behind one load balancer share one issuer (in dev, each would default to its own address). */
  static final String YAML = TestConfigs.STANDARD_YAML.replace("tokens:\n", "tokens:\n  issuer: \"https://login.test.example\"\n")
      // A public client (no appSecret), as a single-page app is.
      .replace("applications:\n", """
          applications:
            - appId: "spa"
              name: "Single-page app"
              redirectUris: ["https://spa.example.com/callback"]
              allowedOrigins: ["https://spa.example.com"]
          """);
  static final String DEMO_BASIC = basic("demo", "demo-app-secret-for-tests");
  static final String BACKEND_BASIC = basic("backend", "backend-app-secret-for-tests");

  Vertx vertx;
  Map<String, String> env;
  ScanGateConfig config;
  ScanGate gateway;
  WebClient http;
  final Gateways others = new Gateways();
  User user;
  JsonObject tokens;

  @BeforeEach
  void start(Vertx vertx) {
    this.vertx = vertx;
    env = TestConfigs.testEnv();
    config = TestConfigs.parse(YAML, env);
    gateway = await(ScanGate.start(vertx, config, ScanGate.Options.dev(null)));
    http = TestHttp.client(vertx, gateway.port());
    user = await(new UserStore(gateway.infrastructure()).resolve(
        new WeChatIdentity("wechat-mini", "wxtestmini000001", "o-alice", "u-alice", "+8613800000001", "Alice", null),
        config.connection("wechat-mini").orElseThrow(), new LoginContext("demo", "127.0.0.1")));
    tokens = await(TokenService.proxy(vertx).issue(user.id(), "demo", "nonce-1", null));
  }

  @AfterEach
  void stop() {
    others.closeAll();
    if (gateway != null) await(gateway.close());
  }

  /** Restarts the gateway (same database) signing with {@code algorithm}, and issues new tokens. */
  void signWith(SigningAlgorithm algorithm) {
    if (algorithm == SigningAlgorithm.RS256) return;
    signWithConfig(YAML.replace("tokens:\n", "tokens:\n  signingAlgorithm: " + algorithm.jose + "\n"));
  }

  /** Restarts the gateway (same database) with another configuration, and issues new tokens. */
  void signWithConfig(String yaml) {
    await(gateway.close());
    config = TestConfigs.parse(yaml, env);
    gateway = await(ScanGate.start(vertx, config, ScanGate.Options.dev(null)));
    http = TestHttp.client(vertx, gateway.port());
    tokens = await(TokenService.proxy(vertx).issue(user.id(), "demo", "nonce-1", null));
  }

  ScanGate another() {
    return others.start(vertx, TestConfigs.parse(YAML, env));
  }

  String access() {
    return tokens.getString("access_token");
  }

  HttpResponse<Buffer> verify(WebClient client, String uri, String token) {
    var request = client.request(HttpMethod.GET, uri);
    if (token != null) request.putHeader("Authorization", "Bearer " + token);
    return await(request.send());
  }

  HttpResponse<Buffer> form(WebClient client, String uri, String authorization, Map<String, String> fields) {
    MultiMap form = MultiMap.caseInsensitiveMultiMap();
    fields.forEach(form::add);
    var request = client.post(uri);
    if (authorization != null) request.putHeader("Authorization", authorization);
    return await(request.sendForm(form));
  }

  static String basic(String id, String secret) {
    return "Basic " + Base64.getEncoder().encodeToString((id + ":" + secret).getBytes(StandardCharsets.UTF_8));
  }

  long count(String sql) {
    return await(gateway.infrastructure().postgres().query(sql).execute()).iterator().next().getLong(0);
  }

  JsonObject validClaims() {
    long now = System.currentTimeMillis() / 1000;
    return new JsonObject().put("iss", config.tokens().issuer()).put("sub", user.id()).put("aud", "demo")
        .put("iat", now).put("exp", now + 600).put("jti", "forged-" + now).put("scope", "openid");
  }

  @Test
  void issuedTokensCarryTheDocumentedHeadersAndClaims() {
    assertThat(tokens.fieldNames()).containsExactlyInAnyOrder("access_token", "id_token", "refresh_token", "token_type",
        "expires_in");
    assertThat(tokens.getString("token_type")).isEqualTo("Bearer");
    assertThat(tokens.getLong("expires_in")).isEqualTo(7200L);

    JsonObject header = Forge.decodePart(access(), 0);
    JsonObject claims = Forge.decodePart(access(), 1);
    assertThat(header.getString("alg")).as("RS256 by default").isEqualTo("RS256");
    assertThat(header.getString("typ")).isEqualTo("at+jwt");
    assertThat(header.getString("kid")).isNotBlank();
    assertThat(claims.getString("iss")).isEqualTo(config.tokens().issuer());
    assertThat(claims.getString("aud")).isEqualTo("demo");
    assertThat(claims.getString("sub")).isEqualTo(user.id());
    assertThat(claims.getLong("exp") - claims.getLong("iat")).isEqualTo(7200L);
    assertThat(claims.getString("jti")).isNotBlank();

    String idToken = tokens.getString("id_token");
    assertThat(Forge.decodePart(idToken, 0).getString("typ")).isEqualTo("JWT");
    JsonObject id = Forge.decodePart(idToken, 1);
    assertThat(id.getString("nonce")).isEqualTo("nonce-1");
    assertThat(id.getString("token_use")).isEqualTo("id");
    assertThat(id.getString("nickname")).isEqualTo("Alice");
    assertThat(id.getString("phone_number")).isEqualTo("+8613800000001");
    assertThat(id.getString("jti")).isNotEqualTo(claims.getString("jti"));
    assertThat(tokens.getString("refresh_token")).doesNotContain(".").hasSizeGreaterThanOrEqualTo(43);
    assertThat(count("SELECT count(*) FROM refresh_tokens WHERE token_hash = '"
        + RefreshTokenStore.hash(tokens.getString("refresh_token")) + "'")).isEqualTo(1);
  }

  @Test
  void issuingForAnUnknownApplicationOrUserFailsWithACode() {
    Throwable app = io.scangate.testing.Await.failure(TokenService.proxy(vertx).issue(user.id(), "nope", null, null));
    assertThat(((io.scangate.error.ApiException) app).code()).isEqualTo("unknown_app");
    Throwable missing = io.scangate.testing.Await.failure(
        TokenService.proxy(vertx).issue("00000000-0000-0000-0000-000000000000", "demo", null, null));
    assertThat(((io.scangate.error.ApiException) missing).status()).isEqualTo(404);
    assertThat(((io.scangate.error.ApiException) missing).code()).isEqualTo("user_not_found");
  }

  @Test
  void verifyAcceptsAValidAccessTokenOnAnyPathAndMethod() {
    HttpResponse<Buffer> ok = verify(http, "/auth/verify", access());
    assertThat(ok.statusCode()).isEqualTo(200);
    assertThat(ok.getHeader("X-Auth-User-Id")).isEqualTo(user.id());
    assertThat(ok.getHeader("X-Auth-App-Id")).isEqualTo("demo");

    var post = await(http.request(HttpMethod.POST, "/auth/verify/api/orders/42?aud=demo")
        .putHeader("Authorization", "Bearer " + access()).send());
    assertThat(post.statusCode()).isEqualTo(200);
    assertThat(post.getHeader("X-Auth-User-Id")).isEqualTo(user.id());

    HttpResponse<Buffer> otherApp = verify(http, "/auth/verify?aud=backend", access());
    assertThat(otherApp.statusCode()).isEqualTo(401);
    assertThat(otherApp.getHeader("WWW-Authenticate")).contains("Bearer error=\"invalid_token\"");
    assertThat(otherApp.bodyAsJsonObject().getString("error_description")).isEqualTo("token audience is demo, not backend");
  }

  @ParameterizedTest
  @EnumSource(SigningAlgorithm.class)
  void badTokensAreRefusedWithPreciseDescriptionsAndNothingIsWritten(SigningAlgorithm algorithm) throws Exception {
    signWith(algorithm);
    SigningKey real = Forge.realKey(vertx, gateway, algorithm);
    SigningKey rsa = Forge.realKey(vertx, gateway, SigningAlgorithm.RS256);
    JWSSigner realSigner = real.signer();
    String kid = real.kid();
    assertThat(Forge.decodePart(access(), 0).getString("kid")).isEqualTo(kid);
    long now = System.currentTimeMillis() / 1000;
    java.security.PublicKey publicKey = switch (algorithm) {
      case RS256 -> real.publicJwk().toRSAKey().toPublicKey();
      case ES256 -> real.publicJwk().toECKey().toPublicKey();
      case EDDSA -> null;
    };
    byte[] publicBytes = publicKey != null ? publicKey.getEncoded()
        : real.publicJwk().toOctetKeyPair().getDecodedX();
    String pem = "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder().encodeToString(publicBytes)
        + "\n-----END PUBLIC KEY-----\n";
    JsonObject hsHeader = new JsonObject().put("alg", "HS256").put("typ", "at+jwt").put("kid", kid);
    String[] parts = access().split("\\.");
    JsonObject tamperedClaims = Forge.decodePart(access(), 1).put("sub", "00000000-0000-0000-0000-000000000001");
    // A key made for another algorithm: an ES256 token naming the RS256 key, an RS256 one naming this key.
    SigningAlgorithm other = algorithm == SigningAlgorithm.ES256 ? SigningAlgorithm.EDDSA : SigningAlgorithm.ES256;
    String crossKid = algorithm == SigningAlgorithm.RS256 ? rsa.kid() : kid;
    SigningAlgorithm crossAlg = algorithm == SigningAlgorithm.RS256 ? other : SigningAlgorithm.RS256;

    Map<String, String> cases = new LinkedHashMap<>();
    cases.put("garbage", "token is malformed");
    cases.put("a.b.c", "token is malformed");
    cases.put(Forge.unsigned(new JsonObject().put("alg", "none").put("typ", "at+jwt").put("kid", kid), validClaims()),
        "token is unsigned (alg none is never accepted)");
    cases.put(Forge.unsigned(new JsonObject().put("alg", "None").put("typ", "at+jwt"), validClaims()),
        "token is unsigned (alg none is never accepted)");
    cases.put(Forge.hs256(hsHeader, validClaims(), pem.getBytes(StandardCharsets.US_ASCII)),
        "token algorithm HS256 is not accepted");
    cases.put(Forge.hs256(hsHeader, validClaims(), publicBytes), "token algorithm HS256 is not accepted");
    cases.put(Forge.hs256(hsHeader, validClaims(), real.jwk().encode().getBytes(StandardCharsets.UTF_8)),
        "token algorithm HS256 is not accepted");
    cases.put(parts[0] + "." + Forge.part(tamperedClaims) + "." + parts[2], "token signature is invalid");
    cases.put(Forge.sign(Forge.accessHeader(algorithm, kid), validClaims(), Forge.otherSigner(algorithm)), "token signature is invalid");
    cases.put(Forge.sign(Forge.accessHeader(algorithm, "unknown-kid"), validClaims(), Forge.otherSigner(algorithm)),
        "token key id (kid) is unknown");
    cases.put(Forge.sign(Forge.accessHeader(algorithm, null), validClaims(), realSigner), "token has no key id");
    cases.put(Forge.sign(Forge.accessHeader(crossAlg, crossKid), validClaims(), Forge.otherSigner(crossAlg)),
        "token algorithm " + crossAlg.jose + " is not the algorithm of its key");
    if (algorithm == SigningAlgorithm.RS256) {
      // Same key type, other RSA algorithms: PS256 and RS512 are not on the allow-list.
      cases.put(Forge.sign(new JsonObject().put("alg", "PS256").put("typ", "at+jwt").put("kid", kid), validClaims(), realSigner),
          "token algorithm PS256 is not accepted");
      cases.put(Forge.sign(new JsonObject().put("alg", "RS512").put("typ", "at+jwt").put("kid", kid), validClaims(), realSigner),
          "token algorithm RS512 is not accepted");
    }
    cases.put(Forge.sign(Forge.accessHeader(algorithm, kid), validClaims().put("iat", now - 7200).put("exp", now - 3600),
        realSigner), "token has expired");
    cases.put(Forge.sign(Forge.accessHeader(algorithm, kid), validClaims().put("iss", "https://evil.example.com"), realSigner),
        "token issuer https://evil.example.com is not " + config.tokens().issuer());
    cases.put(Forge.sign(Forge.accessHeader(algorithm, kid), validClaims().put("aud", "nobody"), realSigner),
        "token audience nobody is not an application of this gateway");
    cases.put(tokens.getString("id_token"), "token is an id token, not an access token");
    cases.put(tokens.getString("refresh_token"), "token is malformed");

    long auditBefore = count("SELECT count(*) FROM audit_log");
    long refreshBefore = count("SELECT count(*) FROM refresh_tokens");
    for (var c : cases.entrySet()) {
      HttpResponse<Buffer> response = verify(http, "/auth/verify", c.getKey());
      assertThat(response.statusCode()).as(c.getValue()).isEqualTo(401);
      assertThat(response.getHeader("WWW-Authenticate")).as(c.getValue()).startsWith("Bearer error=\"invalid_token\"");
      assertThat(response.bodyAsJsonObject().getString("error_description")).as(c.getValue()).startsWith(c.getValue());
      assertThat(response.getHeader("X-Auth-User-Id")).isNull();

      HttpResponse<Buffer> me = verify(http, "/oidc/me", c.getKey());
      assertThat(me.statusCode()).as("/oidc/me: " + c.getValue()).isEqualTo(401);
    }
    HttpResponse<Buffer> none = verify(http, "/auth/verify", null);
    assertThat(none.statusCode()).isEqualTo(401);
    assertThat(none.getHeader("WWW-Authenticate")).startsWith("Bearer error=\"invalid_token\"");

    assertThat(count("SELECT count(*) FROM audit_log")).isEqualTo(auditBefore);
    assertThat(count("SELECT count(*) FROM refresh_tokens")).isEqualTo(refreshBefore);
    assertThat(verify(http, "/auth/verify", access()).statusCode()).as("the real token still passes").isEqualTo(200);
  }

  @Test
  void aTokenRevokedOnOneInstanceIsRefusedByAnother() {
    ScanGate second = another();
    WebClient secondHttp = TestHttp.client(vertx, second.port());
    assertThat(verify(secondHttp, "/auth/verify", access()).statusCode()).isEqualTo(200);

    HttpResponse<Buffer> revoked = form(http, "/oidc/token/revocation", DEMO_BASIC, Map.of("token", access()));
    assertThat(revoked.statusCode()).isEqualTo(200);

    boolean refused = until(() -> verify(secondHttp, "/auth/verify", access()).statusCode() == 401, 15_000);
    assertThat(refused).as("second instance refuses the revoked token").isTrue();
    assertThat(verify(secondHttp, "/auth/verify", access()).bodyAsJsonObject().getString("error_description"))
        .isEqualTo("token has been revoked");
    assertThat(verify(http, "/auth/verify", access()).statusCode()).isEqualTo(401);

    // An instance that (re)subscribes after the announcement reloads the whole set.
    ScanGate third = another();
    assertThat(verify(TestHttp.client(vertx, third.port()), "/auth/verify", access()).statusCode()).isEqualTo(401);

    HttpResponse<Buffer> introspected = form(secondHttp, "/oidc/token/introspection", DEMO_BASIC, Map.of("token", access()));
    assertThat(introspected.bodyAsJsonObject()).isEqualTo(new JsonObject().put("active", false));
    assertThat(count("SELECT count(*) FROM audit_log WHERE event = 'token_revoked' AND app_id = 'demo'")).isEqualTo(1);
  }

  HttpResponse<Buffer> refresh(String authorization, Map<String, String> extra, String token) {
    Map<String, String> fields = new LinkedHashMap<>(extra);
    fields.put("grant_type", "refresh_token");
    fields.put("refresh_token", token);
    return form(http, "/oidc/token", authorization, fields);
  }

  @Test
  void refreshTokensRotateAndReuseAfterTheRetryIntervalRevokesTheFamily() {
    // tokens.refreshReuseInterval: PT0S turns the retry window off: any reuse is theft.
    signWithConfig(YAML.replace("tokens:\n", "tokens:\n  refreshReuseInterval: PT0S\n"));
    String first = tokens.getString("refresh_token");
    HttpResponse<Buffer> rotated = refresh(DEMO_BASIC, Map.of(), first);
    assertThat(rotated.statusCode()).isEqualTo(200);
    JsonObject next = rotated.bodyAsJsonObject();
    String second = next.getString("refresh_token");
    assertThat(second).isNotEqualTo(first);
    assertThat(next.getString("token_type")).isEqualTo("Bearer");
    assertThat(verify(http, "/auth/verify", next.getString("access_token")).statusCode()).isEqualTo(200);

    HttpResponse<Buffer> reuse = refresh(DEMO_BASIC, Map.of(), first);
    assertThat(reuse.statusCode()).isEqualTo(400);
    assertThat(reuse.bodyAsJsonObject().getString("error")).isEqualTo("invalid_grant");
    assertThat(reuse.bodyAsJsonObject().getString("error_description")).contains("already used");

    HttpResponse<Buffer> afterTheft = refresh(DEMO_BASIC, Map.of(), second);
    assertThat(afterTheft.statusCode()).isEqualTo(400);
    assertThat(afterTheft.bodyAsJsonObject().getString("error_description")).isEqualTo("refresh token has been revoked");
    assertThat(verify(http, "/auth/verify", next.getString("access_token")).statusCode())
        .as("the access token issued with the stolen family is revoked too").isEqualTo(401);
    assertThat(count("SELECT count(*) FROM audit_log WHERE event = 'refresh_reuse'")).isEqualTo(1);
  }

  @Test
  void aRetryWithinTheIntervalGetsTheSameSuccessorUntilItIsUsed() {
    String first = tokens.getString("refresh_token");
    JsonObject answer = refresh(DEMO_BASIC, Map.of(), first).bodyAsJsonObject();
    String successor = answer.getString("refresh_token");

    // A lost response: the same client retries within tokens.refreshReuseInterval (default 10 s).
    HttpResponse<Buffer> retried = refresh(DEMO_BASIC, Map.of(), first);
    assertThat(retried.statusCode()).isEqualTo(200);
    assertThat(retried.bodyAsJsonObject().getString("refresh_token")).isEqualTo(successor);
    assertThat(Forge.decodePart(retried.bodyAsJsonObject().getString("access_token"), 1).getString("jti"))
        .isEqualTo(Forge.decodePart(answer.getString("access_token"), 1).getString("jti"));
    assertThat(count("SELECT count(*) FROM refresh_tokens")).as("no third token").isEqualTo(2);
    assertThat(count("SELECT count(*) FROM refresh_tokens WHERE successor_enc IS NOT NULL AND position('"
        + successor + "' in encode(successor_enc, 'escape')) > 0")).as("the successor is stored encrypted").isZero();

    // Another client presenting it is refused, and does not spend anything.
    assertThat(refresh(BACKEND_BASIC, Map.of(), first).statusCode()).isEqualTo(400);

    // Once the successor is used, the old token is a reuse again: the family is revoked.
    String third = refresh(DEMO_BASIC, Map.of(), successor).bodyAsJsonObject().getString("refresh_token");
    HttpResponse<Buffer> late = refresh(DEMO_BASIC, Map.of(), first);
    assertThat(late.statusCode()).isEqualTo(400);
    assertThat(late.bodyAsJsonObject().getString("error_description")).contains("already used");
    assertThat(refresh(DEMO_BASIC, Map.of(), third).bodyAsJsonObject().getString("error_description"))
        .isEqualTo("refresh token has been revoked");
  }

  @Test
  void aRetryAfterTheIntervalRevokesTheFamily() {
    signWithConfig(YAML.replace("tokens:\n", "tokens:\n  refreshReuseInterval: PT1S\n"));
    String first = tokens.getString("refresh_token");
    String successor = refresh(DEMO_BASIC, Map.of(), first).bodyAsJsonObject().getString("refresh_token");
    assertThat(until(() -> refresh(DEMO_BASIC, Map.of(), first).statusCode() == 400, 10_000)).isTrue();
    assertThat(refresh(DEMO_BASIC, Map.of(), successor).bodyAsJsonObject().getString("error_description"))
        .isEqualTo("refresh token has been revoked");
  }

  @Test
  void confidentialClientsAuthenticateAndPublicClientsNameThemselves() {
    HttpResponse<Buffer> idAlone = refresh(null, Map.of("client_id", "demo"), tokens.getString("refresh_token"));
    assertThat(idAlone.statusCode()).as("demo has an appSecret: confidential").isEqualTo(401);
    assertThat(idAlone.bodyAsJsonObject().getString("error")).isEqualTo("invalid_client");
    HttpResponse<Buffer> formSecret = refresh(null, Map.of("client_id", "demo", "client_secret", "demo-app-secret-for-tests"),
        tokens.getString("refresh_token"));
    assertThat(formSecret.statusCode()).as("client_secret_post").isEqualTo(200);

    JsonObject spa = await(TokenService.proxy(vertx).issue(user.id(), "spa", null, null));
    HttpResponse<Buffer> publicRefresh = refresh(null, Map.of("client_id", "spa"), spa.getString("refresh_token"));
    assertThat(publicRefresh.statusCode()).as("a public client refreshes with client_id alone").isEqualTo(200);
    HttpResponse<Buffer> revoked = form(http, "/oidc/token/revocation", null,
        Map.of("token", publicRefresh.bodyAsJsonObject().getString("refresh_token"), "client_id", "spa"));
    assertThat(revoked.statusCode()).isEqualTo(200);
    assertThat(verify(http, "/auth/verify", publicRefresh.bodyAsJsonObject().getString("access_token")).statusCode())
        .as("revoking the refresh token revoked its family's access token").isEqualTo(401);
    assertThat(form(http, "/oidc/token/revocation", null, Map.of("token", access(), "client_id", "demo")).statusCode())
        .as("a confidential client cannot revoke by client_id alone").isEqualTo(401);
    assertThat(form(http, "/oidc/token/introspection", null, Map.of("token", access(), "client_id", "spa")).statusCode())
        .as("introspection needs a client secret").isEqualTo(401);
  }

  @Test
  void tokenEndpointErrorsFollowRfc6749() {
    String refresh = tokens.getString("refresh_token");
    HttpResponse<Buffer> wrongApp = form(http, "/oidc/token", BACKEND_BASIC,
        Map.of("grant_type", "refresh_token", "refresh_token", refresh));
    assertThat(wrongApp.statusCode()).isEqualTo(400);
    assertThat(wrongApp.bodyAsJsonObject().getString("error")).isEqualTo("invalid_grant");

    HttpResponse<Buffer> badSecret = form(http, "/oidc/token", basic("demo", "wrong"),
        Map.of("grant_type", "refresh_token", "refresh_token", refresh));
    assertThat(badSecret.statusCode()).isEqualTo(401);
    assertThat(badSecret.bodyAsJsonObject().getString("error")).isEqualTo("invalid_client");

    HttpResponse<Buffer> publicBackend = form(http, "/oidc/token", null,
        Map.of("grant_type", "refresh_token", "refresh_token", refresh, "client_id", "backend"));
    assertThat(publicBackend.statusCode()).as("an exchangeAuth: secret application must authenticate").isEqualTo(401);

    HttpResponse<Buffer> code = form(http, "/oidc/token", DEMO_BASIC, Map.of("grant_type", "password"));
    assertThat(code.bodyAsJsonObject().getString("error")).isEqualTo("unsupported_grant_type");
    HttpResponse<Buffer> missing = form(http, "/oidc/token", DEMO_BASIC, Map.of());
    assertThat(missing.bodyAsJsonObject().getString("error")).isEqualTo("invalid_request");

    // The original refresh token was not spent by the refused attempts.
    HttpResponse<Buffer> ok = form(http, "/oidc/token", DEMO_BASIC,
        Map.of("grant_type", "refresh_token", "refresh_token", refresh));
    assertThat(ok.statusCode()).isEqualTo(200);
  }

  @Test
  void introspectionNeedsClientCredentialsAndTellsOnlyTheOwner() {
    HttpResponse<Buffer> noAuth = form(http, "/oidc/token/introspection", null, Map.of("token", access()));
    assertThat(noAuth.statusCode()).isEqualTo(401);
    assertThat(noAuth.bodyAsJsonObject().getString("error")).isEqualTo("invalid_client");
    assertThat(noAuth.getHeader("WWW-Authenticate")).startsWith("Basic");
    HttpResponse<Buffer> wrong = form(http, "/oidc/token/introspection", basic("demo", "nope"), Map.of("token", access()));
    assertThat(wrong.statusCode()).isEqualTo(401);
    HttpResponse<Buffer> formAuth = form(http, "/oidc/token/introspection", null,
        Map.of("token", access(), "client_id", "demo", "client_secret", "demo-app-secret-for-tests"));
    assertThat(formAuth.bodyAsJsonObject().getBoolean("active")).isTrue();

    JsonObject active = form(http, "/oidc/token/introspection", DEMO_BASIC, Map.of("token", access())).bodyAsJsonObject();
    assertThat(active.getBoolean("active")).isTrue();
    assertThat(active.getString("sub")).isEqualTo(user.id());
    assertThat(active.getString("client_id")).isEqualTo("demo");
    assertThat(active.getString("iss")).isEqualTo(config.tokens().issuer());
    assertThat(active.getLong("exp")).isPositive();

    JsonObject refresh = form(http, "/oidc/token/introspection", DEMO_BASIC,
        Map.of("token", tokens.getString("refresh_token"))).bodyAsJsonObject();
    assertThat(refresh.getBoolean("active")).isTrue();
    assertThat(refresh.getString("sub")).isEqualTo(user.id());

    JsonObject inactive = new JsonObject().put("active", false);
    assertThat(form(http, "/oidc/token/introspection", BACKEND_BASIC, Map.of("token", access())).bodyAsJsonObject())
        .isEqualTo(inactive);
    assertThat(form(http, "/oidc/token/introspection", DEMO_BASIC, Map.of("token", "garbage")).bodyAsJsonObject())
        .isEqualTo(inactive);
    assertThat(form(http, "/oidc/token/introspection", DEMO_BASIC, Map.of("token", tokens.getString("id_token")))
        .bodyAsJsonObject()).isEqualTo(inactive);
  }

  @Test
  void revokingARefreshTokenRevokesItsFamily() {
    HttpResponse<Buffer> revoked = form(http, "/oidc/token/revocation", DEMO_BASIC,
        Map.of("token", tokens.getString("refresh_token"), "token_type_hint", "refresh_token"));
    assertThat(revoked.statusCode()).isEqualTo(200);
    HttpResponse<Buffer> refresh = form(http, "/oidc/token", DEMO_BASIC,
        Map.of("grant_type", "refresh_token", "refresh_token", tokens.getString("refresh_token")));
    assertThat(refresh.bodyAsJsonObject().getString("error")).isEqualTo("invalid_grant");
    assertThat(verify(http, "/auth/verify", access()).statusCode()).isEqualTo(401);

    HttpResponse<Buffer> unknown = form(http, "/oidc/token/revocation", DEMO_BASIC, Map.of("token", "never-issued"));
    assertThat(unknown.statusCode()).as("RFC 7009: unknown tokens are answered 200").isEqualTo(200);
    HttpResponse<Buffer> noAuth = form(http, "/oidc/token/revocation", null, Map.of("token", access()));
    assertThat(noAuth.statusCode()).isEqualTo(401);
  }

  @Test
  void anotherAppCannotRevokeATokenItDoesNotOwn() {
    HttpResponse<Buffer> foreign = form(http, "/oidc/token/revocation", BACKEND_BASIC, Map.of("token", access()));
    assertThat(foreign.statusCode()).isEqualTo(200);
    assertThat(verify(http, "/auth/verify", access()).statusCode()).isEqualTo(200);
  }

  @ParameterizedTest
  @EnumSource(SigningAlgorithm.class)
  void aStandardJwtLibraryVerifiesOurTokensFromThePublishedJwks(SigningAlgorithm algorithm) throws Exception {
    signWith(algorithm);
    HttpResponse<Buffer> jwks = verify(http, "/oidc/jwks", null);
    assertThat(jwks.statusCode()).isEqualTo(200);
    assertThat(jwks.getHeader("Cache-Control")).contains("max-age=");
    HttpResponse<Buffer> alias = verify(http, "/oidc/.well-known/jwks.json", null);
    assertThat(alias.bodyAsString()).isEqualTo(jwks.bodyAsString());

    JWKSet set = JWKSet.parse(jwks.bodyAsString());
    assertThat(set.getKeys()).allSatisfy(k -> assertThat(k.isPrivate()).isFalse());
    assertThat(set.getKeys()).anySatisfy(k -> assertThat(k.getAlgorithm()).isEqualTo(JWSAlgorithm.RS256));
    // Nimbus's standard JWT processor, as a resource server configures it: keys from the JWK set,
    // the algorithm from discovery, the issuer and audience required.
    JsonObject discovery = verify(http, "/.well-known/openid-configuration", null).bodyAsJsonObject();
    assertThat(discovery.getJsonArray("id_token_signing_alg_values_supported").getList()).contains("RS256", algorithm.jose);
    for (String token : List.of(access(), tokens.getString("id_token"))) {
      DefaultJWTProcessor<SecurityContext> processor = new DefaultJWTProcessor<>();
      processor.setJWSTypeVerifier(new DefaultJOSEObjectTypeVerifier<>(
          new JOSEObjectType("at+jwt"), JOSEObjectType.JWT));
      processor.setJWSKeySelector(new JWSVerificationKeySelector<>(JWSAlgorithm.parse(algorithm.jose),
          new ImmutableJWKSet<>(set)));
      processor.setJWTClaimsSetVerifier(new DefaultJWTClaimsVerifier<>("demo",
          new JWTClaimsSet.Builder().issuer(config.tokens().issuer()).build(), java.util.Set.of("sub", "exp", "iat")));
      JWTClaimsSet claims;
      if (algorithm == SigningAlgorithm.EDDSA) {
        // Nimbus's key selectors convert JWKs to java.security keys, which it does not do for OKP
        // (Ed25519) keys: EdDSA tokens are checked with its Ed25519Verifier directly.
        SignedJWT jwt = SignedJWT.parse(token);
        assertThat(jwt.verify(new Ed25519Verifier(set.getKeyByKeyId(jwt.getHeader().getKeyID()).toOctetKeyPair()))).isTrue();
        claims = jwt.getJWTClaimsSet();
        new DefaultJWTClaimsVerifier<>("demo", new JWTClaimsSet.Builder().issuer(config.tokens().issuer()).build(),
            java.util.Set.of("sub", "exp", "iat")).verify(claims, null);
      } else {
        claims = processor.process(token, null);
      }
      assertThat(claims.getSubject()).isEqualTo(user.id());
      assertThat(claims.getAudience()).containsExactly("demo");
      assertThat(SignedJWT.parse(token).getHeader().getAlgorithm().getName()).isEqualTo(algorithm.jose);
    }
    assertThat(SignedJWT.parse(tokens.getString("id_token")).getJWTClaimsSet().getStringClaim("nonce")).isEqualTo("nonce-1");
    assertThat(SignedJWT.parse(access()).getHeader().getType().toString()).isEqualTo("at+jwt");
  }

  @Test
  void discoveryDescribesTheEndpoints() {
    JsonObject discovery = verify(http, "/.well-known/openid-configuration", null).bodyAsJsonObject();
    assertThat(discovery.getString("issuer")).isEqualTo("https://login.test.example");
    assertThat(discovery.getString("jwks_uri")).endsWith("/oidc/jwks");
    assertThat(discovery.getString("introspection_endpoint")).endsWith("/oidc/token/introspection");
    assertThat(discovery.getString("revocation_endpoint")).endsWith("/oidc/token/revocation");
    assertThat(discovery.getString("userinfo_endpoint")).endsWith("/oidc/me");
    assertThat(discovery.getJsonArray("id_token_signing_alg_values_supported").getList()).containsExactly("RS256");
    assertThat(discovery.getBoolean("request_uri_parameter_supported")).isFalse();
  }

  @Test
  void oidcEndpointsAnswerCorsPreflightsForAllowedOriginsOnly() {
    for (String path : List.of("/.well-known/openid-configuration", "/oidc/jwks", "/oidc/token", "/oidc/me",
        "/oidc/token/introspection", "/oidc/token/revocation")) {
      var preflight = await(http.request(HttpMethod.OPTIONS, path).putHeader("Origin", "https://spa.example.com")
          .putHeader("Access-Control-Request-Method", "POST")
          .putHeader("Access-Control-Request-Headers", "authorization").send());
      assertThat(preflight.statusCode()).as(path).isIn(200, 204);
      assertThat(preflight.getHeader("Access-Control-Allow-Origin")).as(path).isEqualTo("https://spa.example.com");
      assertThat(preflight.getHeader("Access-Control-Allow-Methods")).as(path).contains("POST");
      var foreign = await(http.request(HttpMethod.OPTIONS, path).putHeader("Origin", "https://evil.example.com")
          .putHeader("Access-Control-Request-Method", "POST").send());
      assertThat(foreign.getHeader("Access-Control-Allow-Origin")).as(path).isNull();
    }
    var me = await(http.request(HttpMethod.GET, "/oidc/me").putHeader("Origin", "https://spa.example.com")
        .putHeader("Authorization", "Bearer " + access()).send());
    assertThat(me.statusCode()).isEqualTo(200);
    assertThat(me.getHeader("Access-Control-Allow-Origin")).isEqualTo("https://spa.example.com");
  }

  @Test
  void userinfoAndTheIdTokenUseTheStandardClaimNames() {
    for (HttpMethod method : List.of(HttpMethod.GET, HttpMethod.POST)) {
      var me = await(http.request(method, "/oidc/me").putHeader("Authorization", "Bearer " + access()).send());
      assertThat(me.statusCode()).as(method.name()).isEqualTo(200);
      JsonObject body = me.bodyAsJsonObject();
      assertThat(body.getString("sub")).isEqualTo(user.id());
      assertThat(body.getString("nickname")).isEqualTo("Alice");
      assertThat(body.getString("phone_number")).as(body.encode()).isEqualTo("+8613800000001");
      assertThat(body.getBoolean("phone_number_verified")).isTrue();
      assertThat(body.getLong("updated_at")).isPositive();
      assertThat(body.getString("id")).as("our own fields stay").isEqualTo(user.id());
    }
    JsonObject id = Forge.decodePart(tokens.getString("id_token"), 1);
    assertThat(id.getString("phone_number")).isEqualTo("+8613800000001");
    assertThat(id.getBoolean("phone_number_verified")).isTrue();
    assertThat(id.getLong("updated_at")).isPositive();
  }

  @Test
  void discoveryIsAlsoServedUnderAnIssuerPath() {
    signWithConfig(YAML.replace("issuer: \"https://login.test.example\"", "issuer: \"https://login.test.example/tenant-a\""));
    JsonObject root = verify(http, "/.well-known/openid-configuration", null).bodyAsJsonObject();
    HttpResponse<Buffer> underIssuer = verify(http, "/tenant-a/.well-known/openid-configuration", null);
    assertThat(underIssuer.statusCode()).isEqualTo(200);
    assertThat(underIssuer.bodyAsJsonObject()).isEqualTo(root);
    assertThat(root.getString("issuer")).isEqualTo("https://login.test.example/tenant-a");
    assertThat(Forge.decodePart(access(), 1).getString("iss")).isEqualTo("https://login.test.example/tenant-a");
  }

  @Test
  void meAndProfileUpdates() {
    HttpResponse<Buffer> me = verify(http, "/oidc/me", access());
    assertThat(me.statusCode()).isEqualTo(200);
    JsonObject body = me.bodyAsJsonObject();
    assertThat(body.getString("id")).isEqualTo(user.id());
    assertThat(body.getString("sub")).isEqualTo(user.id());
    assertThat(body.getString("nickname")).isEqualTo("Alice");
    assertThat(body.getJsonArray("identities").getJsonObject(0).getString("openid")).isEqualTo("o-alice");

    var patched = await(http.request(HttpMethod.PATCH, "/api/v1/users/me").putHeader("Authorization", "Bearer " + access())
        .sendJsonObject(new JsonObject().put("nickname", "Alicia").put("avatarUrl", "https://img.example.com/a.png")));
    assertThat(patched.statusCode()).isEqualTo(200);
    assertThat(patched.bodyAsJsonObject().getString("nickname")).isEqualTo("Alicia");
    assertThat(verify(http, "/oidc/me", access()).bodyAsJsonObject().getString("avatarUrl"))
        .isEqualTo("https://img.example.com/a.png");
    assertThat(count("SELECT count(*) FROM audit_log WHERE event = 'profile_updated'")).isEqualTo(1);

    var bad = await(http.request(HttpMethod.PATCH, "/api/v1/users/me").putHeader("Authorization", "Bearer " + access())
        .sendJsonObject(new JsonObject().put("avatarUrl", "javascript:alert(1)")));
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(bad.bodyAsJsonObject().getString("error")).isEqualTo("invalid_profile");
    var unknownField = await(http.request(HttpMethod.PATCH, "/api/v1/users/me").putHeader("Authorization", "Bearer " + access())
        .sendJsonObject(new JsonObject().put("phone", "+1")));
    assertThat(unknownField.statusCode()).isEqualTo(400);

    var withIdToken = await(http.request(HttpMethod.PATCH, "/api/v1/users/me")
        .putHeader("Authorization", "Bearer " + tokens.getString("id_token"))
        .sendJsonObject(new JsonObject().put("nickname", "Mallory")));
    assertThat(withIdToken.statusCode()).isEqualTo(401);
    assertThat(count("SELECT count(*) FROM audit_log WHERE event = 'profile_updated'")).isEqualTo(1);
  }

  @Test
  void rotatedKeysSignNewTokensWhileOldKeysStayPublished() {
    String oldKid = Forge.decodePart(access(), 0).getString("kid");
    List<String> newKids = await(TokenManager.rotateKeys(vertx, gateway.infrastructure().postgres(), config));
    assertThat(newKids).hasSize(1);
    String newKid = newKids.get(0);
    assertThat(newKid).isNotEqualTo(oldKid);

    ScanGate second = another(); // loads the keys after the rotation
    WebClient secondHttp = TestHttp.client(vertx, second.port());
    JWKSetKids kids = new JWKSetKids(verify(secondHttp, "/oidc/jwks", null).bodyAsJsonObject());
    assertThat(kids.kids()).containsExactly(newKid, oldKid);

    // Both instances answer the issue address; the second one signs with the new key.
    String newToken = null;
    for (int i = 0; i < 10 && newToken == null; i++) {
      String t = await(TokenService.proxy(vertx).issue(user.id(), "demo", null, null)).getString("access_token");
      if (newKid.equals(Forge.decodePart(t, 0).getString("kid"))) newToken = t;
    }
    assertThat(newToken).as("a token signed with the new key").isNotNull();
    String signedWithNewKey = newToken;
    assertThat(verify(secondHttp, "/auth/verify", access()).statusCode()).as("old tokens still verify").isEqualTo(200);
    // The first instance learns the new kid when it meets it (reload on unknown kid, rate-limited).
    assertThat(until(() -> verify(http, "/auth/verify", signedWithNewKey).statusCode() == 200, 20_000)).isTrue();
    assertThat(new JWKSetKids(verify(http, "/oidc/jwks", null).bodyAsJsonObject()).kids()).contains(newKid, oldKid);
  }

  @Test
  void rotationAcrossAlgorithmsKeepsEveryAlgorithmsOldKeysPublished() throws Exception {
    // backend signs with EdDSA, demo with ES256, RS256 exists regardless.
    signWithConfig(YAML.replace("tokens:\n", "tokens:\n  signingAlgorithm: ES256\n")
        .replace("exchangeAuth: secret\n", "exchangeAuth: secret\n    signingAlgorithm: EdDSA\n"));
    assertThat(count("SELECT count(DISTINCT alg) FROM signing_keys")).isEqualTo(3);
    String oldDemo = access();
    String oldBackend = await(TokenService.proxy(vertx).issue(user.id(), "backend", null, null)).getString("access_token");
    assertThat(Forge.decodePart(oldDemo, 0).getString("alg")).isEqualTo("ES256");
    assertThat(Forge.decodePart(oldBackend, 0).getString("alg")).isEqualTo("EdDSA");
    JsonObject discovery = verify(http, "/.well-known/openid-configuration", null).bodyAsJsonObject();
    assertThat(discovery.getJsonArray("id_token_signing_alg_values_supported").getList())
        .containsExactlyInAnyOrder("RS256", "ES256", "EdDSA");

    List<String> newKids = await(TokenManager.rotateKeys(vertx, gateway.infrastructure().postgres(), config));
    assertThat(newKids).hasSize(3);
    await(gateway.close());
    gateway = await(ScanGate.start(vertx, config, ScanGate.Options.dev(null)));
    http = TestHttp.client(vertx, gateway.port());

    JWKSet set = JWKSet.parse(verify(http, "/oidc/jwks", null).bodyAsString());
    assertThat(set.getKeys()).hasSize(6);
    assertThat(set.getKeys().stream().map(k -> k.getKeyID()).toList()).containsAll(newKids);
    for (String old : List.of(oldDemo, oldBackend)) {
      assertThat(set.getKeyByKeyId(Forge.decodePart(old, 0).getString("kid"))).as("old key still published").isNotNull();
      assertThat(verify(http, "/auth/verify", old).statusCode()).as("old token still verifies").isEqualTo(200);
    }
    String fresh = await(TokenService.proxy(vertx).issue(user.id(), "backend", null, null)).getString("access_token");
    assertThat(newKids).contains(Forge.decodePart(fresh, 0).getString("kid"));
    assertThat(verify(http, "/auth/verify", fresh).statusCode()).isEqualTo(200);
  }

  record JWKSetKids(JsonObject jwks) {
    List<String> kids() {
      List<String> kids = new ArrayList<>();
      jwks.getJsonArray("keys").forEach(k -> kids.add(((JsonObject) k).getString("kid")));
      return kids;
    }
  }
}
