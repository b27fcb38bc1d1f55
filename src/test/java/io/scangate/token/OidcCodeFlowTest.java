package io.scangate.token;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.oauth2.sdk.AuthorizationCode;
import com.nimbusds.oauth2.sdk.AuthorizationCodeGrant;
import com.nimbusds.oauth2.sdk.AuthorizationErrorResponse;
import com.nimbusds.oauth2.sdk.AuthorizationResponse;
import com.nimbusds.oauth2.sdk.ResponseType;
import com.nimbusds.oauth2.sdk.Scope;
import com.nimbusds.oauth2.sdk.TokenErrorResponse;
import com.nimbusds.oauth2.sdk.TokenRequest;
import com.nimbusds.oauth2.sdk.TokenResponse;
import com.nimbusds.oauth2.sdk.auth.ClientSecretBasic;
import com.nimbusds.oauth2.sdk.auth.Secret;
import com.nimbusds.oauth2.sdk.http.HTTPResponse;
import com.nimbusds.oauth2.sdk.id.ClientID;
import com.nimbusds.oauth2.sdk.id.Issuer;
import com.nimbusds.oauth2.sdk.id.State;
import com.nimbusds.oauth2.sdk.pkce.CodeChallengeMethod;
import com.nimbusds.oauth2.sdk.pkce.CodeVerifier;
import com.nimbusds.openid.connect.sdk.AuthenticationRequest;
import com.nimbusds.openid.connect.sdk.Nonce;
import com.nimbusds.openid.connect.sdk.OIDCTokenResponse;
import com.nimbusds.openid.connect.sdk.OIDCTokenResponseParser;
import com.nimbusds.openid.connect.sdk.UserInfoRequest;
import com.nimbusds.openid.connect.sdk.UserInfoResponse;
import com.nimbusds.openid.connect.sdk.claims.IDTokenClaimsSet;
import com.nimbusds.openid.connect.sdk.op.OIDCProviderMetadata;
import com.nimbusds.openid.connect.sdk.validators.IDTokenValidator;
import io.scangate.ScanGate;
import io.scangate.testing.Gateways;
import io.scangate.testing.TestConfigs;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URI;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.scangate.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The authorization code flow as a standard client runs it: the Nimbus OAuth 2.0 / OIDC SDK
 * discovers the gateway, builds the authorization request (PKCE S256), parses the redirect,
 * redeems the code and validates the id token against the published JWK set. The user's scan
 * and confirmation go through the WeChat sandbox.
 */
@ExtendWith(VertxExtension.class)
class OidcCodeFlowTest {

  /** The standard test applications plus a public client (no appSecret: PKCE required). */
  static final String YAML = TestConfigs.STANDARD_YAML.replace("\napplications:\n", """

      applications:
        - appId: "spa"
          name: "Single-page app"
          redirectUris: ["https://spa.example.com/cb", "http://127.0.0.1/cb"]
          postLogoutRedirectUris: ["https://spa.example.com/bye"]
          connections: ["wechat-mini-qr"]
      """);

  static final ClientID SPA = new ClientID("spa");
  static final URI SPA_REDIRECT = URI.create("http://127.0.0.1:43123/cb"); // loopback: any port (RFC 8252)
  static final ClientID DEMO = new ClientID("demo");
  static final URI DEMO_CALLBACK = URI.create("http://127.0.0.1:9/callback");
  static final Secret DEMO_SECRET = new Secret("demo-app-secret-for-tests");

  private final Gateways gateways = new Gateways();
  private final AtomicInteger users = new AtomicInteger();
  private ScanGate gateway;
  private WebClient browser;
  private String base;
  private OIDCProviderMetadata provider;

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    io.scangate.config.ScanGateConfig config = TestConfigs.parse(YAML);
    gateway = gateways.start(vertx, config);
    base = "http://127.0.0.1:" + gateway.port();
    browser = WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(gateway.port())
        .setFollowRedirects(false));
    // Discovery as a client does it: from the issuer (dev: the public URL on this port).
    provider = OIDCProviderMetadata.resolve(new Issuer(config.tokens().issuer()));
  }

  @AfterEach
  void stop() {
    gateways.closeAll();
  }

  @Test
  void thePublicClientIsConfigured() {
    assertThat(YAML).contains("appId: \"spa\"").isNotEqualTo(TestConfigs.STANDARD_YAML);
  }

  @Test
  void discoveryAdvertisesTheCodeFlowWithPkceAndIssInTheResponse() throws Exception {
    assertThat(provider.getAuthorizationEndpointURI()).isEqualTo(URI.create(base + "/oidc/auth"));
    assertThat(provider.getResponseTypes()).containsExactly(ResponseType.CODE);
    assertThat(provider.getCodeChallengeMethods()).containsExactly(CodeChallengeMethod.S256);
    assertThat(provider.supportsAuthorizationResponseIssuerParam()).isTrue();
    assertThat(provider.getEndSessionEndpointURI()).isEqualTo(URI.create(base + "/oidc/logout"));
  }

  @Test
  void logoutRedirectsOnlyToARegisteredUriOfTheIdTokensClient() throws Exception {
    CodeVerifier verifier = new CodeVerifier();
    State state = new State();
    AuthorizationCode code = login(spaRequest(state, new Nonce(), verifier), state);
    OIDCTokenResponse tokens = (OIDCTokenResponse) redeem(new TokenRequest(provider.getTokenEndpointURI(), SPA,
        new AuthorizationCodeGrant(code, SPA_REDIRECT, verifier))).toSuccessResponse();
    com.nimbusds.jwt.JWT idToken = tokens.getOIDCTokens().getIDToken();

    // The SDK's RP-initiated logout request.
    URI logout = new com.nimbusds.openid.connect.sdk.LogoutRequest(provider.getEndSessionEndpointURI(), idToken,
        URI.create("https://spa.example.com/bye"), new State("bye-1")).toURI();
    HttpResponse<Buffer> ok = get(logout);
    assertThat(ok.statusCode()).isEqualTo(302);
    assertThat(ok.getHeader("Location")).isEqualTo("https://spa.example.com/bye?state=bye-1");

    String hint = idToken.serialize();
    for (String query : new String[] {
        "id_token_hint=" + hint + "&post_logout_redirect_uri=https%3A%2F%2Fevil.example.com%2F",
        "post_logout_redirect_uri=https%3A%2F%2Fspa.example.com%2Fbye",
        "client_id=demo&post_logout_redirect_uri=https%3A%2F%2Fspa.example.com%2Fbye",
        "id_token_hint=" + hint + "&client_id=demo&post_logout_redirect_uri=https%3A%2F%2Fspa.example.com%2Fbye",
        "id_token_hint=" + tokens.getOIDCTokens().getAccessToken().getValue() + "&post_logout_redirect_uri=https%3A%2F%2Fspa.example.com%2Fbye",
        "id_token_hint=not.a.token&post_logout_redirect_uri=https%3A%2F%2Fspa.example.com%2Fbye",
    }) {
      HttpResponse<Buffer> r = await(browser.get("/oidc/logout?" + query).send());
      assertThat(r.statusCode()).as(query).isEqualTo(400);
      assertThat(r.getHeader("Location")).as(query).isNull();
    }
    HttpResponse<Buffer> byClientId = await(browser.get("/oidc/logout?client_id=spa&post_logout_redirect_uri="
        + "https%3A%2F%2Fspa.example.com%2Fbye").send());
    assertThat(byClientId.getHeader("Location")).isEqualTo("https://spa.example.com/bye");
    HttpResponse<Buffer> page = await(browser.get("/oidc/logout").send());
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.bodyAsString()).contains("logged out");
  }

  @Test
  void aPublicClientLogsInWithPkceAndTheIdTokenValidates() throws Exception {
    CodeVerifier verifier = new CodeVerifier();
    Nonce nonce = new Nonce();
    State state = new State();
    long before = System.currentTimeMillis() / 1000;
    AuthorizationCode code = login(spaRequest(state, nonce, verifier), state);

    OIDCTokenResponse tokens = redeem(new TokenRequest(provider.getTokenEndpointURI(), SPA,
        new AuthorizationCodeGrant(code, SPA_REDIRECT, verifier))).toSuccessResponse() instanceof OIDCTokenResponse t ? t : null;
    assertThat(tokens).isNotNull();
    IDTokenValidator validator = new IDTokenValidator(provider.getIssuer(), SPA, JWSAlgorithm.RS256,
        JWKSet.load(provider.getJWKSetURI().toURL()));
    IDTokenClaimsSet claims = validator.validate(tokens.getOIDCTokens().getIDToken(), nonce);
    assertThat(claims.getNonce()).isEqualTo(nonce);
    assertThat(claims.getAuthorizedParty().getValue()).isEqualTo("spa");
    assertThat(claims.getAuthenticationTime()).isNotNull();
    assertThat(claims.getAuthenticationTime().getTime() / 1000).isBetween(before - 1, System.currentTimeMillis() / 1000 + 1);
    assertThat(tokens.getOIDCTokens().getRefreshToken()).isNotNull();

    UserInfoResponse info = UserInfoResponse.parse(new UserInfoRequest(provider.getUserInfoEndpointURI(),
        tokens.getOIDCTokens().getBearerAccessToken()).toHTTPRequest().send());
    assertThat(info.indicatesSuccess()).isTrue();
    assertThat(info.toSuccessResponse().getUserInfo().getSubject()).isEqualTo(claims.getSubject());
  }

  @Test
  void aReusedCodeIsInvalidGrantAndRevokesWhatItsFirstUseIssued() throws Exception {
    CodeVerifier verifier = new CodeVerifier();
    State state = new State();
    AuthorizationCode code = login(spaRequest(state, new Nonce(), verifier), state);
    TokenRequest request = new TokenRequest(provider.getTokenEndpointURI(), SPA, new AuthorizationCodeGrant(code, SPA_REDIRECT, verifier));
    OIDCTokenResponse first = (OIDCTokenResponse) redeem(request).toSuccessResponse();
    String access = first.getOIDCTokens().getAccessToken().getValue();
    assertThat(verify(access)).isEqualTo(200);

    assertError(redeem(request), "invalid_grant");
    assertThat(io.scangate.testing.Await.until(() -> verifyQuietly(access) == 401, System.currentTimeMillis() + 5000)).isTrue();
    // The refresh token of the first answer is revoked too.
    JsonObject refreshed = tokenCall(new JsonObject().put("grant_type", "refresh_token").put("client_id", "spa")
        .put("refresh_token", first.getOIDCTokens().getRefreshToken().getValue()), null);
    assertThat(refreshed.getString("error")).isEqualTo("invalid_grant");
  }

  @Test
  void pkceMismatchAndMissingVerifierAreInvalidGrant() throws Exception {
    State state = new State();
    AuthorizationCode code = login(spaRequest(state, new Nonce(), new CodeVerifier()), state);
    assertError(redeem(new TokenRequest(provider.getTokenEndpointURI(), SPA,
        new AuthorizationCodeGrant(code, SPA_REDIRECT, new CodeVerifier()))), "invalid_grant");

    State again = new State();
    AuthorizationCode second = login(spaRequest(again, new Nonce(), new CodeVerifier()), again);
    assertError(redeem(new TokenRequest(provider.getTokenEndpointURI(), SPA,
        new AuthorizationCodeGrant(second, SPA_REDIRECT))), "invalid_grant");
  }

  @Test
  void aPublicClientWithoutPkceIsSentBackWithInvalidRequest() throws Exception {
    State state = new State();
    AuthenticationRequest request = new AuthenticationRequest.Builder(ResponseType.CODE, new Scope("openid"), SPA, SPA_REDIRECT)
        .endpointURI(provider.getAuthorizationEndpointURI()).state(state).nonce(new Nonce()).build();
    HttpResponse<Buffer> r = get(request.toURI());
    assertThat(r.statusCode()).isEqualTo(302);
    AuthorizationResponse response = AuthorizationResponse.parse(URI.create(r.getHeader("Location")));
    assertThat(response.indicatesSuccess()).isFalse();
    AuthorizationErrorResponse error = response.toErrorResponse();
    assertThat(error.getErrorObject().getCode()).isEqualTo("invalid_request");
    assertThat(error.getState()).isEqualTo(state);
    assertThat(error.getIssuer()).isEqualTo(provider.getIssuer());
    assertThat(r.getHeader("Location")).startsWith(SPA_REDIRECT + "?");
  }

  @Test
  void aConfidentialClientAuthenticatesAndCodesAreBoundToClientAndRedirectUri() throws Exception {
    // The demo application has a secret: no PKCE needed, client authentication required.
    State state = new State();
    Nonce nonce = new Nonce();
    AuthenticationRequest demo = new AuthenticationRequest.Builder(ResponseType.CODE, new Scope("openid", "profile"), DEMO, DEMO_CALLBACK)
        .endpointURI(provider.getAuthorizationEndpointURI()).state(state).nonce(nonce).build();
    AuthorizationCode code = login(demo, state);
    assertError(redeem(new TokenRequest(provider.getTokenEndpointURI(), new ClientSecretBasic(DEMO, new Secret("wrong-secret")),
        new AuthorizationCodeGrant(code, DEMO_CALLBACK))), "invalid_client");
    assertError(redeem(new TokenRequest(provider.getTokenEndpointURI(), DEMO,
        new AuthorizationCodeGrant(code, DEMO_CALLBACK))), "invalid_client");
    // Failed client authentication does not use the code up.
    OIDCTokenResponse ok = (OIDCTokenResponse) redeem(new TokenRequest(provider.getTokenEndpointURI(),
        new ClientSecretBasic(DEMO, DEMO_SECRET), new AuthorizationCodeGrant(code, DEMO_CALLBACK))).toSuccessResponse();
    IDTokenClaimsSet claims = new IDTokenValidator(provider.getIssuer(), DEMO, JWSAlgorithm.RS256,
        JWKSet.load(provider.getJWKSetURI().toURL())).validate(ok.getOIDCTokens().getIDToken(), nonce);
    assertThat(claims.getAuthorizedParty().getValue()).isEqualTo("demo");

    // A code of the demo application, redeemed with another redirect URI.
    State other = new State();
    AuthenticationRequest withRedirect = new AuthenticationRequest.Builder(ResponseType.CODE, new Scope("openid"), DEMO,
        URI.create("http://127.0.0.1:8765/callback")).endpointURI(provider.getAuthorizationEndpointURI()).state(other).build();
    AuthorizationCode second = login(withRedirect, other);
    assertError(redeem(new TokenRequest(provider.getTokenEndpointURI(), new ClientSecretBasic(DEMO, DEMO_SECRET),
        new AuthorizationCodeGrant(second, DEMO_CALLBACK))), "invalid_grant");

    // A code of the public client, redeemed by the demo application.
    State spaState = new State();
    CodeVerifier verifier = new CodeVerifier();
    AuthorizationCode spaCode = login(spaRequest(spaState, new Nonce(), verifier), spaState);
    assertError(redeem(new TokenRequest(provider.getTokenEndpointURI(), new ClientSecretBasic(DEMO, DEMO_SECRET),
        new AuthorizationCodeGrant(spaCode, SPA_REDIRECT, verifier))), "invalid_grant");
  }

  @Test
  void untrustedRedirectsAreNeverFollowed() throws Exception {
    String challenge = "&code_challenge=" + com.nimbusds.oauth2.sdk.pkce.CodeChallenge.compute(CodeChallengeMethod.S256,
        new CodeVerifier()).getValue() + "&code_challenge_method=S256&scope=openid&state=s1";
    for (String query : new String[] {
        "client_id=spa&response_type=code&redirect_uri=https%3A%2F%2Fevil.example.com%2Fcb",
        "client_id=spa&response_type=code&redirect_uri=https%3A%2F%2Fspa.example.com%2Fcb%2F..%2Fevil",
        "client_id=spa&response_type=code&redirect_uri=https%3A%2F%2Fspa.example.com%2Fcb.evil.com",
        "client_id=spa&response_type=code&redirect_uri=http%3A%2F%2F127.0.0.1%3A1234%2Fother",
        "client_id=spa&response_type=code&redirect_uri=http%3A%2F%2F127.0.0.1%3A1234%2Fcb%23frag",
        "client_id=spa&response_type=code&redirect_uri=http%3A%2F%2Fuser%40127.0.0.1%3A1234%2Fcb",
        "client_id=spa&response_type=code",
        "client_id=nobody&response_type=code&redirect_uri=https%3A%2F%2Fspa.example.com%2Fcb",
        "response_type=code&redirect_uri=https%3A%2F%2Fspa.example.com%2Fcb",
        "client_id=spa&redirect_uri=https%3A%2F%2Fevil.example.com%2Fcb",
        "client_id=spa&client_id=demo&response_type=code&redirect_uri=https%3A%2F%2Fspa.example.com%2Fcb",
    }) {
      HttpResponse<Buffer> r = await(browser.get("/oidc/auth?" + query + challenge).send());
      assertThat(r.statusCode()).as(query).isEqualTo(400);
      assertThat(r.getHeader("Location")).as(query).isNull();
      assertThat(r.getHeader("Content-Type")).startsWith("text/html");
      assertThat(r.getHeader("Content-Security-Policy")).contains("default-src 'none'");
      assertThat(r.bodyAsString()).doesNotContain("evil.example.com");
    }
  }

  @Test
  void errorsAfterTheRedirectIsTrustedGoBackWithStateAndIss() throws Exception {
    String redirect = "https%3A%2F%2Fspa.example.com%2Fcb";
    String pkce = "&code_challenge=" + com.nimbusds.oauth2.sdk.pkce.CodeChallenge.compute(CodeChallengeMethod.S256,
        new CodeVerifier()).getValue() + "&code_challenge_method=S256";
    String[][] cases = {
        {"client_id=spa&redirect_uri=" + redirect + "&scope=openid&state=s1" + pkce, "invalid_request"},
        {"client_id=spa&response_type=token&redirect_uri=" + redirect + "&scope=openid&state=s1" + pkce, "unsupported_response_type"},
        {"client_id=spa&response_type=code&redirect_uri=" + redirect + "&scope=profile&state=s1" + pkce, "invalid_scope"},
        {"client_id=spa&response_type=code&redirect_uri=" + redirect + "&scope=openid&state=s1&code_challenge=abc", "invalid_request"},
        {"client_id=spa&response_type=code&redirect_uri=" + redirect + "&scope=openid&state=s1&prompt=none" + pkce, "login_required"},
        {"client_id=spa&response_type=code&redirect_uri=" + redirect + "&scope=openid&state=s1&connection=wechat-mp" + pkce,
            "invalid_request"},
    };
    for (String[] c : cases) {
      HttpResponse<Buffer> r = await(browser.get("/oidc/auth?" + c[0]).send());
      assertThat(r.statusCode()).as(c[0]).isEqualTo(302);
      AuthorizationErrorResponse error = AuthorizationResponse.parse(URI.create(r.getHeader("Location"))).toErrorResponse();
      assertThat(error.getErrorObject().getCode()).as(c[0]).isEqualTo(c[1]);
      assertThat(error.getState()).isEqualTo(new State("s1"));
      assertThat(error.getIssuer()).isEqualTo(provider.getIssuer());
      assertThat(error.getRedirectionURI()).isEqualTo(URI.create("https://spa.example.com/cb"));
    }
  }

  @Test
  void theFormPostVariantOfTheAuthorizationRequestShowsTheLoginPage() throws Exception {
    CodeVerifier verifier = new CodeVerifier();
    HttpResponse<Buffer> r = await(browser.post("/oidc/auth").sendForm(io.vertx.core.MultiMap.caseInsensitiveMultiMap()
        .add("client_id", "spa").add("response_type", "code").add("redirect_uri", SPA_REDIRECT.toString())
        .add("scope", "openid").add("state", "s2")
        .add("code_challenge", com.nimbusds.oauth2.sdk.pkce.CodeChallenge.compute(CodeChallengeMethod.S256, verifier).getValue())
        .add("code_challenge_method", "S256")));
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(authRequestId(r.bodyAsString())).isNotBlank();
    assertThat(r.getHeader("Content-Security-Policy")).contains("frame-ancestors 'none'");
  }

  // ---- the browser, the phone and the site ----

  private AuthenticationRequest spaRequest(State state, Nonce nonce, CodeVerifier verifier) {
    return new AuthenticationRequest.Builder(ResponseType.CODE, new Scope("openid", "profile"), SPA, SPA_REDIRECT)
        .endpointURI(provider.getAuthorizationEndpointURI()).state(state).nonce(nonce)
        .codeChallenge(verifier, CodeChallengeMethod.S256).build();
  }

  /** Opens the authorization request, scans and confirms in the sandbox, and returns the code the redirect carries. */
  private AuthorizationCode login(AuthenticationRequest request, State state) throws Exception {
    HttpResponse<Buffer> page = get(request.toURI());
    assertThat(page.statusCode()).as(page.bodyAsString()).isEqualTo(200);
    String authRequest = authRequestId(page.bodyAsString());
    String appId = request.getClientID().getValue();

    JsonObject session = post("/api/v1/qr/sessions", new JsonObject().put("appId", appId).put("connection", "wechat-mini-qr"));
    String scene = session.getString("scene");
    int n = users.incrementAndGet();
    JsonObject codes = post("/sandbox/control/miniprogram/code", new JsonObject().put("appId", "wxtestmini000001")
        .put("openid", "o-oidc-" + n));
    JsonObject scanned = post("/api/v1/miniprogram/qr/" + scene + "/scan",
        new JsonObject().put("connection", "wechat-mini-qr").put("code", codes.getString("code")));
    post("/api/v1/miniprogram/qr/" + scene + "/confirm", new JsonObject().put("scanToken", scanned.getString("scanToken")));
    HttpResponse<Buffer> state1 = await(browser.get("/api/v1/qr/sessions/" + session.getString("sessionId")).send());
    String ticket = state1.bodyAsJsonObject().getString("ticket");
    assertThat(ticket).as(state1.bodyAsString()).isNotNull();

    JsonObject done = post("/oidc/auth/complete", new JsonObject().put("authRequest", authRequest).put("ticket", ticket));
    AuthorizationResponse response = AuthorizationResponse.parse(URI.create(done.getString("redirect")));
    assertThat(response.indicatesSuccess()).as(done.encode()).isTrue();
    assertThat(response.getState()).isEqualTo(state);
    assertThat(response.getIssuer()).isEqualTo(provider.getIssuer());
    assertThat(response.getRedirectionURI()).isEqualTo(request.getRedirectionURI());
    // The request is used up: the same page cannot mint a second code.
    JsonObject replay = postRaw("/oidc/auth/complete", new JsonObject().put("authRequest", authRequest).put("ticket", ticket))
        .bodyAsJsonObject();
    assertThat(replay.getString("error")).isIn("invalid_ticket", "invalid_request");
    return response.toSuccessResponse().getAuthorizationCode();
  }

  static String authRequestId(String html) {
    Matcher m = Pattern.compile("<meta name=\"scangate-auth-request\" content=\"([A-Za-z0-9_-]+)\">").matcher(html);
    assertThat(m.find()).as(html).isTrue();
    return m.group(1);
  }

  private HttpResponse<Buffer> get(URI uri) {
    return await(browser.get(uri.getRawPath() + "?" + uri.getRawQuery()).send());
  }

  private JsonObject post(String path, JsonObject body) {
    HttpResponse<Buffer> r = postRaw(path, body);
    assertThat(r.statusCode()).as(path + " " + r.bodyAsString()).isBetween(200, 201);
    return r.bodyAsJsonObject();
  }

  private HttpResponse<Buffer> postRaw(String path, JsonObject body) {
    return await(browser.post(path).putHeader("User-Agent", "TestBrowser/1.0").sendJsonObject(body));
  }

  /** The SDK's own HTTP call, on this (test) thread. */
  private static TokenResponse redeem(TokenRequest request) throws Exception {
    HTTPResponse response = request.toHTTPRequest().send();
    return OIDCTokenResponseParser.parse(response);
  }

  private static void assertError(TokenResponse response, String code) {
    assertThat(response.indicatesSuccess()).isFalse();
    TokenErrorResponse error = response.toErrorResponse();
    assertThat(error.getErrorObject().getCode()).as(error.getErrorObject().getDescription()).isEqualTo(code);
  }

  private JsonObject tokenCall(JsonObject form, String basic) {
    io.vertx.core.MultiMap map = io.vertx.core.MultiMap.caseInsensitiveMultiMap();
    form.forEach(e -> map.add(e.getKey(), e.getValue().toString()));
    var request = browser.post("/oidc/token");
    if (basic != null) request.putHeader("Authorization", basic);
    return await(request.sendForm(map)).bodyAsJsonObject();
  }

  private int verify(String access) {
    return await(browser.get("/auth/verify").putHeader("Authorization", "Bearer " + access).send()).statusCode();
  }

  private int verifyQuietly(String access) {
    try {
      return verify(access);
    } catch (RuntimeException e) {
      return -1;
    }
  }
}
