package io.scangate.token;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.oauth2.sdk.AuthorizationCode;
import com.nimbusds.oauth2.sdk.AuthorizationCodeGrant;
import com.nimbusds.oauth2.sdk.AuthorizationResponse;
import com.nimbusds.oauth2.sdk.ResponseType;
import com.nimbusds.oauth2.sdk.Scope;
import com.nimbusds.oauth2.sdk.TokenRequest;
import com.nimbusds.oauth2.sdk.TokenResponse;
import com.nimbusds.oauth2.sdk.auth.ClientSecretBasic;
import com.nimbusds.oauth2.sdk.auth.Secret;
import com.nimbusds.oauth2.sdk.id.ClientID;
import com.nimbusds.oauth2.sdk.id.Issuer;
import com.nimbusds.oauth2.sdk.id.State;
import com.nimbusds.oauth2.sdk.pkce.CodeChallengeMethod;
import com.nimbusds.oauth2.sdk.pkce.CodeVerifier;
import com.nimbusds.openid.connect.sdk.AuthenticationRequest;
import com.nimbusds.openid.connect.sdk.Nonce;
import com.nimbusds.openid.connect.sdk.OIDCTokenResponse;
import com.nimbusds.openid.connect.sdk.OIDCTokenResponseParser;
import com.nimbusds.openid.connect.sdk.Prompt;
import com.nimbusds.openid.connect.sdk.claims.IDTokenClaimsSet;
import com.nimbusds.openid.connect.sdk.op.OIDCProviderMetadata;
import com.nimbusds.openid.connect.sdk.validators.IDTokenValidator;
import io.scangate.ScanGate;
import io.scangate.config.ScanGateConfig;
import io.scangate.login.SsoSessions;
import io.scangate.testing.Gateways;
import io.scangate.testing.TestConfigs;
import io.scangate.testing.TestHttp;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URI;
import java.util.Map;

import static io.scangate.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Single sign-on across applications (issue 15, CONTRACT sections 6 and 7), as a browser lives
 * it: a scan at one application's {@code /oidc/auth} leaves a first-party session cookie, and
 * another application's {@code /oidc/auth} then answers at once, unless the application, its
 * redirect URI, {@code prompt} or {@code max_age} say a scan is needed. Logins are scanned and
 * confirmed in the WeChat sandbox; the sites are the Nimbus OIDC SDK.
 */
@ExtendWith(VertxExtension.class)
class SingleSignOnTest {

  /** Two sites on the mini program QR connection, one on the Official Account only, plus the standard demo and backend. */
  static final String YAML = TestConfigs.STANDARD_YAML.replace("\napplications:\n", """

      applications:
        - appId: "shop"
          appSecret: "shop-app-secret-for-tests"
          name: "Shop"
          redirectUris: ["https://shop.example.com/cb"]
          connections: ["wechat-mini-qr"]
        - appId: "spa"
          name: "Single-page app"
          redirectUris: ["https://spa.example.com/cb", "http://127.0.0.1/cb"]
          postLogoutRedirectUris: ["https://spa.example.com/bye"]
          connections: ["wechat-mini-qr"]
        - appId: "mp-site"
          appSecret: "mp-site-app-secret-for-tests"
          name: "Official Account site"
          redirectUris: ["https://mp.example.com/cb"]
          connections: ["wechat-mp"]
      """) + """
      admin:
        apiKeys: ["%s"]
      """.formatted(SingleSignOnTest.ADMIN_KEY);
  static final String ADMIN_KEY = "sso-test-admin-key-0123456789abcdef";

  static final ClientID SHOP = new ClientID("shop");
  static final URI SHOP_REDIRECT = URI.create("https://shop.example.com/cb");
  static final Secret SHOP_SECRET = new Secret("shop-app-secret-for-tests");
  static final ClientID SPA = new ClientID("spa");
  static final URI SPA_REDIRECT = URI.create("https://spa.example.com/cb");
  static final URI SPA_LOOPBACK = URI.create("http://127.0.0.1:43123/cb");
  static final ClientID DEMO = new ClientID("demo");
  static final String DEMO_CALLBACK = "http://127.0.0.1:9/callback";

  private final Gateways gateways = new Gateways();
  private ScanGate gateway;
  private WebClient http;
  private OIDCProviderMetadata provider;

  private void startOne(Vertx vertx) throws Exception {
    ScanGateConfig config = TestConfigs.parse(YAML);
    gateway = gateways.start(vertx, config);
    http = TestHttp.client(vertx, gateway.port());
    provider = OIDCProviderMetadata.resolve(new Issuer(config.tokens().issuer()));
  }

  @AfterEach
  void stop() {
    gateways.closeAll();
  }

  @Test
  void aSecondApplicationLogsInWithoutAScanAsTheSameUserAndAuthTimeIsTheFirstScans(Vertx vertx) throws Exception {
    startOne(vertx);
    Browser browser = new Browser(http);
    State state = new State();
    Nonce nonce = new Nonce();
    AuthorizationCode shopCode = scanToLogIn(browser, shopRequest(state, nonce, null, null), state, "o-sso-first");

    String setCookie = browser.lastSetCookie;
    assertThat(setCookie).startsWith("scangate_sso=").containsIgnoringCase("HttpOnly").containsIgnoringCase("SameSite=Lax")
        .contains("Path=/").contains("Max-Age=28800").doesNotContainIgnoringCase("Secure");
    assertThat(browser.cookie).hasSize(43);
    IDTokenClaimsSet shop = validate(redeem(new TokenRequest(provider.getTokenEndpointURI(), new ClientSecretBasic(SHOP, SHOP_SECRET),
        new AuthorizationCodeGrant(shopCode, SHOP_REDIRECT))), SHOP, nonce);

    // Time passes (auth_time has seconds): the next applications must still see the first scan's time.
    Thread.sleep(2100);

    // The single-page app: no page, straight back with a code.
    CodeVerifier verifier = new CodeVerifier();
    State spaState = new State();
    Nonce spaNonce = new Nonce();
    AuthorizationResponse answered = answeredAtOnce(browser, spaRequest(SPA_REDIRECT, spaState, spaNonce, verifier, null, null));
    assertThat(answered.getState()).isEqualTo(spaState);
    assertThat(answered.getIssuer()).isEqualTo(provider.getIssuer());
    IDTokenClaimsSet spa = validate(redeem(new TokenRequest(provider.getTokenEndpointURI(), SPA,
        new AuthorizationCodeGrant(answered.toSuccessResponse().getAuthorizationCode(), SPA_REDIRECT, verifier))), SPA, spaNonce);
    assertThat(spa.getSubject()).isEqualTo(shop.getSubject());
    assertThat(spa.getAuthenticationTime()).isEqualTo(shop.getAuthenticationTime());
    assertThat(spa.getAuthorizedParty().getValue()).isEqualTo("spa");

    // prompt=none answers at once too, and a max_age the scan still meets.
    assertThat(answeredAtOnce(browser, spaRequest(SPA_REDIRECT, new State(), new Nonce(), new CodeVerifier(), Prompt.Type.NONE, null))
        .indicatesSuccess()).isTrue();
    assertThat(answeredAtOnce(browser, spaRequest(SPA_REDIRECT, new State(), new Nonce(), new CodeVerifier(), null, 3600))
        .indicatesSuccess()).isTrue();
    // A max_age the scan no longer meets (it is 2 s old) asks for a new one; with prompt=none that is login_required.
    assertNeedsAScan(browser, spaRequest(SPA_REDIRECT, new State(), new Nonce(), new CodeVerifier(), null, 1));
    assertLoginRequired(browser, spaRequest(SPA_REDIRECT, new State(), new Nonce(), new CodeVerifier(), Prompt.Type.NONE, 1));
  }

  @Test
  void notForAnApplicationWithoutTheConnectionTheSessionWasMadeWith(Vertx vertx) throws Exception {
    startOne(vertx);
    Browser browser = new Browser(http);
    State state = new State();
    scanToLogIn(browser, shopRequest(state, new Nonce(), null, null), state, "o-sso-conn");

    AuthenticationRequest mpSite = new AuthenticationRequest.Builder(ResponseType.CODE, new Scope("openid"), new ClientID("mp-site"),
        URI.create("https://mp.example.com/cb")).endpointURI(provider.getAuthorizationEndpointURI()).state(new State()).build();
    assertNeedsAScan(browser, mpSite);
    assertLoginRequired(browser, new AuthenticationRequest.Builder(mpSite).prompt(new Prompt(Prompt.Type.NONE)).build());
    // An application that enables the connection, but whose request names another one.
    AuthenticationRequest demoOnMp = new AuthenticationRequest.Builder(ResponseType.CODE, new Scope("openid"), DEMO,
        URI.create(DEMO_CALLBACK)).endpointURI(provider.getAuthorizationEndpointURI()).state(new State())
        .customParameter("connection", "wechat-mp").prompt(new Prompt(Prompt.Type.NONE)).build();
    assertLoginRequired(browser, demoOnMp);
    // The session itself is fine: an application on its connection is answered.
    assertThat(answeredAtOnce(browser, spaRequest(SPA_REDIRECT, new State(), new Nonce(), new CodeVerifier(), null, null))
        .indicatesSuccess()).isTrue();
  }

  @Test
  void notForALoopbackRedirectUri(Vertx vertx) throws Exception {
    startOne(vertx);
    Browser browser = new Browser(http);
    State state = new State();
    scanToLogIn(browser, shopRequest(state, new Nonce(), null, null), state, "o-sso-loopback");

    // RFC 8252 8.6: any program on the machine can listen on a loopback port and claim to be the client.
    assertNeedsAScan(browser, spaRequest(SPA_LOOPBACK, new State(), new Nonce(), new CodeVerifier(), null, null));
    assertLoginRequired(browser, spaRequest(SPA_LOOPBACK, new State(), new Nonce(), new CodeVerifier(), Prompt.Type.NONE, null));
  }

  @Test
  void promptNoneWithoutASessionIsLoginRequired(Vertx vertx) throws Exception {
    startOne(vertx);
    Browser browser = new Browser(http);
    assertLoginRequired(browser, spaRequest(SPA_REDIRECT, new State(), new Nonce(), new CodeVerifier(), Prompt.Type.NONE, null));
    // A cookie naming no session (expired, ended, forged) is no session.
    browser.cookie = "A".repeat(43);
    assertLoginRequired(browser, spaRequest(SPA_REDIRECT, new State(), new Nonce(), new CodeVerifier(), Prompt.Type.NONE, null));
    assertNeedsAScan(browser, spaRequest(SPA_REDIRECT, new State(), new Nonce(), new CodeVerifier(), null, null));
  }

  @Test
  void maxAgeZeroAndPromptLoginForceAScanWhoseSessionReplacesTheOldOne(Vertx vertx) throws Exception {
    startOne(vertx);
    Browser browser = new Browser(http);
    State state = new State();
    scanToLogIn(browser, shopRequest(state, new Nonce(), null, null), state, "o-sso-before");
    String before = browser.cookie;
    String firstUser = await(sessions().find(before)).userId();

    assertNeedsAScan(browser, shopRequest(new State(), new Nonce(), null, 0));
    assertNeedsAScan(browser, spaRequest(SPA_REDIRECT, new State(), new Nonce(), new CodeVerifier(), null, 0));
    assertNeedsAScan(browser, spaRequest(SPA_REDIRECT, new State(), new Nonce(), new CodeVerifier(), Prompt.Type.LOGIN, null));
    assertLoginRequired(browser, spaRequest(SPA_REDIRECT, new State(), new Nonce(), new CodeVerifier(), Prompt.Type.NONE, 0));

    // Someone else scans at the forced login: the browser's session is now theirs, the old one is over.
    State again = new State();
    CodeVerifier verifier = new CodeVerifier();
    Nonce nonce = new Nonce();
    AuthorizationCode code = scanToLogIn(browser, shopRequest(again, nonce, Prompt.Type.LOGIN, null), again, "o-sso-after");
    IDTokenClaimsSet after = validate(redeem(new TokenRequest(provider.getTokenEndpointURI(), new ClientSecretBasic(SHOP, SHOP_SECRET),
        new AuthorizationCodeGrant(code, SHOP_REDIRECT))), SHOP, nonce);
    assertThat(after.getSubject().getValue()).isNotEqualTo(firstUser);
    assertThat(browser.cookie).isNotEqualTo(before);
    AuthorizationResponse answered = answeredAtOnce(browser, spaRequest(SPA_REDIRECT, new State(), new Nonce(), verifier,
        Prompt.Type.NONE, null));
    IDTokenClaimsSet spa = validate(redeem(new TokenRequest(provider.getTokenEndpointURI(), SPA,
        new AuthorizationCodeGrant(answered.toSuccessResponse().getAuthorizationCode(), SPA_REDIRECT, verifier))), SPA, null);
    assertThat(spa.getSubject()).isEqualTo(after.getSubject());

    Browser oldTab = new Browser(http);
    oldTab.cookie = before;
    assertLoginRequired(oldTab, spaRequest(SPA_REDIRECT, new State(), new Nonce(), new CodeVerifier(), Prompt.Type.NONE, null));
  }

  @Test
  void logoutEndsTheSessionOnEveryInstance(Vertx vertx) throws Exception {
    Map<String, String> env = TestConfigs.testEnv();
    ScanGateConfig first = TestConfigs.parse(YAML, env);
    // One public URL (and issuer) for both instances, as behind one load balancer.
    ScanGateConfig second = TestConfigs.parse(YAML.replace("server:\n", "server:\n  publicUrl: \"" + first.server().publicUrl() + "\"\n"),
        env);
    gateway = gateways.start(vertx, first);
    ScanGate other = gateways.start(vertx, second);
    http = TestHttp.client(vertx, gateway.port());
    WebClient otherHttp = TestHttp.client(vertx, other.port());
    provider = OIDCProviderMetadata.resolve(new Issuer(first.tokens().issuer()));

    Browser onA = new Browser(http);
    State state = new State();
    scanToLogIn(onA, shopRequest(state, new Nonce(), null, null), state, "o-sso-logout");
    String session = onA.cookie;
    // Cookies know hosts, not ports: the same browser on the other instance.
    Browser onB = new Browser(otherHttp);
    onB.cookie = session;
    assertThat(answeredAtOnce(onB, spaRequest(SPA_REDIRECT, new State(), new Nonce(), new CodeVerifier(), Prompt.Type.NONE, null))
        .indicatesSuccess()).isTrue();

    HttpResponse<Buffer> logout = onB.get("/oidc/logout?client_id=spa&state=bye-2&post_logout_redirect_uri="
        + "https%3A%2F%2Fspa.example.com%2Fbye");
    assertThat(logout.statusCode()).isEqualTo(302);
    assertThat(logout.getHeader("Location")).isEqualTo("https://spa.example.com/bye?state=bye-2");
    assertThat(onB.lastSetCookie).startsWith("scangate_sso=;").contains("Max-Age=0");
    assertThat(onB.cookie).isNull();

    // A tab that still sends the old cookie, to either instance: the session is over.
    onA.cookie = session;
    assertLoginRequired(onA, spaRequest(SPA_REDIRECT, new State(), new Nonce(), new CodeVerifier(), Prompt.Type.NONE, null));
    onB.cookie = session;
    assertLoginRequired(onB, spaRequest(SPA_REDIRECT, new State(), new Nonce(), new CodeVerifier(), Prompt.Type.NONE, null));

    // The "logged out" page (no redirect) ends a session too.
    State again = new State();
    scanToLogIn(onA, shopRequest(again, new Nonce(), null, null), again, "o-sso-logout");
    String second2 = onA.cookie;
    onB.cookie = second2;
    HttpResponse<Buffer> page = onB.get("/oidc/logout");
    assertThat(page.statusCode()).isEqualTo(200);
    onA.cookie = second2;
    assertLoginRequired(onA, spaRequest(SPA_REDIRECT, new State(), new Nonce(), new CodeVerifier(), Prompt.Type.NONE, null));
    // A refused logout (unregistered redirect) changes nothing.
    State third = new State();
    scanToLogIn(onA, shopRequest(third, new Nonce(), null, null), third, "o-sso-logout");
    HttpResponse<Buffer> refused = onA.get("/oidc/logout?client_id=spa&post_logout_redirect_uri=https%3A%2F%2Fevil.example.com%2F");
    assertThat(refused.statusCode()).isEqualTo(400);
    assertThat(answeredAtOnce(onA, spaRequest(SPA_REDIRECT, new State(), new Nonce(), new CodeVerifier(), Prompt.Type.NONE, null))
        .indicatesSuccess()).isTrue();
  }

  @Test
  void endAllOfEndsEverySessionOfOneUserAndNoOtherUsers(Vertx vertx) throws Exception {
    startOne(vertx);
    Browser phone = new Browser(http);
    Browser laptop = new Browser(http);
    Browser someoneElse = new Browser(http);
    for (Object[] who : new Object[][] {{phone, "o-sso-blocked"}, {laptop, "o-sso-blocked"}, {someoneElse, "o-sso-kept"}}) {
      State state = new State();
      scanToLogIn((Browser) who[0], shopRequest(state, new Nonce(), null, null), state, (String) who[1]);
    }
    SsoSessions store = sessions();
    String userId = await(store.find(phone.cookie)).userId();
    assertThat(await(store.find(laptop.cookie)).userId()).isEqualTo(userId);
    String index = gateway.infrastructure().keys().inSlot("sso-user:" + userId, "sso", "sessions");
    long ttl = await(gateway.infrastructure().redis().send(Request.cmd(Command.TTL).arg(index))).toLong();
    assertThat(ttl).as("the user's index expires with the newest session").isBetween(28000L, 28800L);

    assertThat(await(store.endAllOf(userId))).isEqualTo(2);

    for (Browser ended : new Browser[] {phone, laptop}) {
      assertThat(await(store.find(ended.cookie))).isNull();
      assertLoginRequired(ended, spaRequest(SPA_REDIRECT, new State(), new Nonce(), new CodeVerifier(), Prompt.Type.NONE, null));
    }
    assertThat(answeredAtOnce(someoneElse, spaRequest(SPA_REDIRECT, new State(), new Nonce(), new CodeVerifier(), Prompt.Type.NONE,
        null)).indicatesSuccess()).isTrue();
    assertThat(await(gateway.infrastructure().redis().send(Request.cmd(Command.EXISTS).arg(index))).toInteger()).isZero();
    assertThat(await(store.endAllOf(userId))).isZero();

    // The user scans again later: a new session, as usual.
    State state = new State();
    scanToLogIn(phone, shopRequest(state, new Nonce(), null, null), state, "o-sso-blocked");
    assertThat(await(store.find(phone.cookie)).userId()).isEqualTo(userId);
  }

  @Test
  void blockingAndLoggingOutEverywhereEndTheSessionsAndABlockedUserIsNeverAnsweredFromOne(Vertx vertx) throws Exception {
    startOne(vertx);
    Browser browser = new Browser(http);
    State state = new State();
    scanToLogIn(browser, shopRequest(state, new Nonce(), null, null), state, "o-sso-admin");
    String userId = await(sessions().find(browser.cookie)).userId();
    assertThat(answeredAtOnce(browser, spaRequest(SPA_REDIRECT, new State(), new Nonce(), new CodeVerifier(), Prompt.Type.NONE, null))
        .indicatesSuccess()).isTrue();

    // Blocked by an administrator: the session is over, the browser has to scan (and would be refused).
    assertThat(admin("/users/" + userId + "/block").statusCode()).isEqualTo(200);
    assertThat(await(sessions().find(browser.cookie))).isNull();
    assertLoginRequired(browser, spaRequest(SPA_REDIRECT, new State(), new Nonce(), new CodeVerifier(), Prompt.Type.NONE, null));
    assertNeedsAScan(browser, spaRequest(SPA_REDIRECT, new State(), new Nonce(), new CodeVerifier(), null, null));
    assertThat(admin("/users/" + userId + "/unblock").statusCode()).isEqualTo(200);

    // A session that outlived a block (blocked by hand in the database, sessions left alone): never answered from.
    state = new State();
    scanToLogIn(browser, shopRequest(state, new Nonce(), null, null), state, "o-sso-admin");
    await(new io.scangate.identity.UserStore(gateway.infrastructure()).setBlocked(userId, true));
    assertThat(await(sessions().find(browser.cookie))).isNotNull();
    assertLoginRequired(browser, spaRequest(SPA_REDIRECT, new State(), new Nonce(), new CodeVerifier(), Prompt.Type.NONE, null));
    await(new io.scangate.identity.UserStore(gateway.infrastructure()).setBlocked(userId, false));
    assertThat(answeredAtOnce(browser, spaRequest(SPA_REDIRECT, new State(), new Nonce(), new CodeVerifier(), Prompt.Type.NONE, null))
        .indicatesSuccess()).isTrue();

    // Log out everywhere ends the session too.
    assertThat(admin("/users/" + userId + "/logout").statusCode()).isEqualTo(200);
    assertThat(await(sessions().find(browser.cookie))).isNull();
    assertLoginRequired(browser, spaRequest(SPA_REDIRECT, new State(), new Nonce(), new CodeVerifier(), Prompt.Type.NONE, null));
  }

  private HttpResponse<Buffer> admin(String path) {
    return await(http.post("/admin/api" + path).putHeader("Authorization", "Bearer " + ADMIN_KEY).send());
  }

  @Test
  void loginOpenedDirectlyNeedsAConfidentialApplicationAndAlwaysAsksForAScan(Vertx vertx) throws Exception {
    startOne(vertx);
    Browser browser = new Browser(http);
    for (String query : new String[] {"", "?app_id=", "?app_id=nobody", "?app_id=spa", "?app_id=backend", "?app_id=demo&app_id=shop"}) {
      HttpResponse<Buffer> r = browser.get("/login" + query);
      assertThat(r.statusCode()).as(query).isEqualTo(400);
      assertThat(r.getHeader("Location")).as(query).isNull();
      assertThat(r.getHeader("Content-Type")).as(query).startsWith("text/html");
    }

    // A single sign-on session exists, yet /login asks for a scan.
    State state = new State();
    scanToLogIn(browser, shopRequest(state, new Nonce(), null, null), state, "o-direct-first");
    String before = browser.cookie;
    HttpResponse<Buffer> page = browser.get("/login?app_id=demo&state=site-state-1");
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.getHeader("Location")).isNull();

    // The scan redirects to the application's callbackUrl, and only there.
    String redirect = scanAndComplete(browser, OidcCodeFlowTest.authRequestId(page.bodyAsString()), "demo", "o-direct-second");
    assertThat(redirect).startsWith(DEMO_CALLBACK + "?code=");
    AuthorizationResponse response = AuthorizationResponse.parse(URI.create(redirect));
    assertThat(response.getState()).isEqualTo(new State("site-state-1"));
    assertThat(response.getIssuer()).isEqualTo(provider.getIssuer());
    // The site's backend redeems it with its secret, for redirect_uri = callbackUrl, without PKCE.
    TokenResponse tokens = redeem(new TokenRequest(provider.getTokenEndpointURI(),
        new ClientSecretBasic(DEMO, new Secret("demo-app-secret-for-tests")),
        new AuthorizationCodeGrant(response.toSuccessResponse().getAuthorizationCode(), URI.create(DEMO_CALLBACK))));
    IDTokenClaimsSet demo = validate(tokens, DEMO, null);

    // The scan at /login started the browser's new single sign-on session (replacing the old one).
    assertThat(browser.cookie).isNotEqualTo(before);
    CodeVerifier verifier = new CodeVerifier();
    AuthorizationResponse answered = answeredAtOnce(browser, spaRequest(SPA_REDIRECT, new State(), new Nonce(), verifier,
        Prompt.Type.NONE, null));
    IDTokenClaimsSet spa = validate(redeem(new TokenRequest(provider.getTokenEndpointURI(), SPA,
        new AuthorizationCodeGrant(answered.toSuccessResponse().getAuthorizationCode(), SPA_REDIRECT, verifier))), SPA, null);
    assertThat(spa.getSubject()).isEqualTo(demo.getSubject());
    // ... and /login still asks for a scan.
    assertThat(browser.get("/login?app_id=demo").statusCode()).isEqualTo(200);
  }

  @Test
  void overHttpsTheCookieIsSecureAndHostPrefixed(Vertx vertx) throws Exception {
    ScanGateConfig config = TestConfigs.parse(YAML.replace("server:\n", "server:\n  publicUrl: \"https://login.example.com\"\n"));
    gateway = gateways.start(vertx, config);
    http = TestHttp.client(vertx, gateway.port());
    Browser browser = new Browser(http);
    browser.cookieName = "__Host-scangate_sso";
    AuthenticationRequest request = new AuthenticationRequest.Builder(ResponseType.CODE, new Scope("openid"), SHOP, SHOP_REDIRECT)
        .endpointURI(URI.create("https://login.example.com/oidc/auth")).state(new State()).build();
    HttpResponse<Buffer> page = browser.get(pathAndQuery(request.toURI()));
    assertThat(page.statusCode()).isEqualTo(200);
    String redirect = scanAndComplete(browser, OidcCodeFlowTest.authRequestId(page.bodyAsString()), "shop", "o-sso-https");
    assertThat(redirect).startsWith(SHOP_REDIRECT + "?code=");
    assertThat(browser.lastSetCookie).startsWith("__Host-scangate_sso=").containsIgnoringCase("; Secure")
        .containsIgnoringCase("HttpOnly").containsIgnoringCase("SameSite=Lax").contains("Path=/").doesNotContainIgnoringCase("Domain");
    HttpResponse<Buffer> answered = browser.get(pathAndQuery(new AuthenticationRequest.Builder(request).state(new State()).build().toURI()));
    assertThat(answered.statusCode()).isEqualTo(302);
    assertThat(answered.getHeader("Location")).startsWith(SHOP_REDIRECT + "?code=");
  }

  // ---- the sites' requests ----

  private AuthenticationRequest shopRequest(State state, Nonce nonce, Prompt.Type prompt, Integer maxAge) {
    AuthenticationRequest.Builder b = new AuthenticationRequest.Builder(ResponseType.CODE, new Scope("openid", "profile"), SHOP,
        SHOP_REDIRECT).endpointURI(provider.getAuthorizationEndpointURI()).state(state).nonce(nonce);
    if (prompt != null) b.prompt(new Prompt(prompt));
    if (maxAge != null) b.maxAge(maxAge);
    return b.build();
  }

  private AuthenticationRequest spaRequest(URI redirect, State state, Nonce nonce, CodeVerifier verifier, Prompt.Type prompt,
                                           Integer maxAge) {
    AuthenticationRequest.Builder b = new AuthenticationRequest.Builder(ResponseType.CODE, new Scope("openid", "profile"), SPA, redirect)
        .endpointURI(provider.getAuthorizationEndpointURI()).state(state).nonce(nonce).codeChallenge(verifier, CodeChallengeMethod.S256);
    if (prompt != null) b.prompt(new Prompt(prompt));
    if (maxAge != null) b.maxAge(maxAge);
    return b.build();
  }

  // ---- the browser, the phone ----

  /** A browser's view of the gateway's host: the single sign-on cookie it keeps, whatever the instance. */
  static final class Browser {
    final WebClient http;
    String cookieName = OidcRoutes.SSO_COOKIE;
    String cookie;
    String lastSetCookie;

    Browser(WebClient http) {
      this.http = http;
    }

    HttpResponse<Buffer> get(String pathAndQuery) {
      var request = http.get(pathAndQuery);
      if (cookie != null) request.putHeader("Cookie", cookieName + "=" + cookie);
      return keep(await(request.send()));
    }

    HttpResponse<Buffer> post(String path, JsonObject body) {
      var request = http.post(path).putHeader("User-Agent", "TestBrowser/1.0");
      if (cookie != null) request.putHeader("Cookie", cookieName + "=" + cookie);
      return keep(await(request.sendJsonObject(body)));
    }

    private HttpResponse<Buffer> keep(HttpResponse<Buffer> r) {
      for (String set : r.headers().getAll("Set-Cookie")) {
        if (!set.startsWith(cookieName + "=")) continue;
        lastSetCookie = set;
        String value = set.substring(cookieName.length() + 1).split(";", 2)[0];
        cookie = set.contains("Max-Age=0") || value.isEmpty() ? null : value;
      }
      return r;
    }
  }

  /** Opens the request (the login page), scans and confirms in the sandbox as {@code openid}; returns the code. */
  private AuthorizationCode scanToLogIn(Browser browser, AuthenticationRequest request, State state, String openid) throws Exception {
    HttpResponse<Buffer> page = browser.get(pathAndQuery(request.toURI()));
    assertThat(page.statusCode()).as(page.bodyAsString()).isEqualTo(200);
    String redirect = scanAndComplete(browser, OidcCodeFlowTest.authRequestId(page.bodyAsString()), request.getClientID().getValue(),
        openid);
    AuthorizationResponse response = AuthorizationResponse.parse(URI.create(redirect));
    assertThat(response.indicatesSuccess()).as(redirect).isTrue();
    assertThat(response.getState()).isEqualTo(state);
    assertThat(response.getRedirectionURI()).isEqualTo(request.getRedirectionURI());
    return response.toSuccessResponse().getAuthorizationCode();
  }

  /** What the login page does after the phone confirmed: trades the ticket for the redirect (and the cookie). */
  private String scanAndComplete(Browser browser, String authRequest, String appId, String openid) {
    JsonObject session = ok(browser.post("/api/v1/qr/sessions", new JsonObject().put("appId", appId).put("connection", "wechat-mini-qr")));
    String scene = session.getString("scene");
    JsonObject codes = ok(browser.post("/sandbox/control/miniprogram/code", new JsonObject().put("appId", "wxtestmini000001")
        .put("openid", openid)));
    JsonObject scanned = ok(browser.post("/api/v1/miniprogram/qr/" + scene + "/scan",
        new JsonObject().put("connection", "wechat-mini-qr").put("code", codes.getString("code"))));
    ok(browser.post("/api/v1/miniprogram/qr/" + scene + "/confirm", new JsonObject().put("scanToken", scanned.getString("scanToken"))));
    String ticket = ok(browser.get("/api/v1/qr/sessions/" + session.getString("sessionId"))).getString("ticket");
    assertThat(ticket).isNotNull();
    JsonObject done = ok(browser.post("/oidc/auth/complete", new JsonObject().put("authRequest", authRequest).put("ticket", ticket)));
    assertThat(done.fieldNames()).containsExactly("redirect");
    return done.getString("redirect");
  }

  /** The request is answered with a redirect (no page, no scan). */
  private AuthorizationResponse answeredAtOnce(Browser browser, AuthenticationRequest request) throws Exception {
    HttpResponse<Buffer> r = browser.get(pathAndQuery(request.toURI()));
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(302);
    AuthorizationResponse response = AuthorizationResponse.parse(URI.create(r.getHeader("Location")));
    assertThat(response.indicatesSuccess()).as(r.getHeader("Location")).isTrue();
    assertThat(response.getRedirectionURI()).isEqualTo(request.getRedirectionURI());
    return response;
  }

  /** The request shows the login page: the user has to scan. */
  private void assertNeedsAScan(Browser browser, AuthenticationRequest request) {
    HttpResponse<Buffer> r = browser.get(pathAndQuery(request.toURI()));
    assertThat(r.statusCode()).as(r.getHeader("Location")).isEqualTo(200);
    assertThat(OidcCodeFlowTest.authRequestId(r.bodyAsString())).isNotBlank();
  }

  /** prompt=none that cannot be answered: back to the site with login_required. */
  private void assertLoginRequired(Browser browser, AuthenticationRequest request) throws Exception {
    HttpResponse<Buffer> r = browser.get(pathAndQuery(request.toURI()));
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(302);
    AuthorizationResponse response = AuthorizationResponse.parse(URI.create(r.getHeader("Location")));
    assertThat(response.indicatesSuccess()).as(r.getHeader("Location")).isFalse();
    assertThat(response.toErrorResponse().getErrorObject().getCode()).isEqualTo("login_required");
    assertThat(response.getState()).isEqualTo(request.getState());
    assertThat(response.getRedirectionURI()).isEqualTo(request.getRedirectionURI());
  }

  private SsoSessions sessions() {
    return new SsoSessions(gateway.infrastructure().redis(), gateway.infrastructure().keys(),
        gateway.infrastructure().config().tokens().ssoSessionTtl());
  }

  private IDTokenClaimsSet validate(TokenResponse response, ClientID client, Nonce nonce) throws Exception {
    assertThat(response.indicatesSuccess()).as(() -> response.toErrorResponse().getErrorObject().toString()).isTrue();
    OIDCTokenResponse tokens = (OIDCTokenResponse) response.toSuccessResponse();
    return new IDTokenValidator(provider.getIssuer(), client, JWSAlgorithm.RS256, JWKSet.load(provider.getJWKSetURI().toURL()))
        .validate(tokens.getOIDCTokens().getIDToken(), nonce);
  }

  private static TokenResponse redeem(TokenRequest request) throws Exception {
    return OIDCTokenResponseParser.parse(request.toHTTPRequest().send());
  }

  private static JsonObject ok(HttpResponse<Buffer> r) {
    assertThat(r.statusCode()).as(r.bodyAsString()).isBetween(200, 201);
    return r.bodyAsJsonObject();
  }

  private static String pathAndQuery(URI uri) {
    return uri.getRawPath() + "?" + uri.getRawQuery();
  }
}
