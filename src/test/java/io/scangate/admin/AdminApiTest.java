package io.scangate.admin;

import io.scangate.ScanGate;
import io.scangate.config.ScanGateConfig;
import io.scangate.identity.LoginContext;
import io.scangate.identity.User;
import io.scangate.identity.UserStore;
import io.scangate.identity.WeChatIdentity;
import io.scangate.testing.Gateways;
import io.scangate.testing.TestConfigs;
import io.scangate.testing.TestHttp;
import io.scangate.token.TokenService;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.scangate.testing.Await.await;
import static io.scangate.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

/** CONTRACT section 11 over HTTP: who may call /admin/api, what each endpoint answers, and what blocking and log out do. */
@ExtendWith(VertxExtension.class)
class AdminApiTest {

  static final String API_KEY = "admin-api-key-for-tests-0123456789";
  static final String YAML = TestConfigs.STANDARD_YAML.replace("tokens:\n", "tokens:\n  issuer: \"https://login.test.example\"\n")
      + """
      admin:
        apiKeys: ["another-admin-key-0123456789", "%s"]
        users: ["openid:o-admin"]
      """.formatted(API_KEY);

  final Gateways gateways = new Gateways();
  Vertx vertx;
  Map<String, String> env;
  ScanGateConfig config;
  ScanGate gateway;
  WebClient http;
  UserStore users;

  @BeforeEach
  void start(Vertx vertx) {
    this.vertx = vertx;
    env = TestConfigs.testEnv();
    config = TestConfigs.parse(YAML, env);
    gateway = gateways.start(vertx, config);
    http = TestHttp.client(vertx, gateway.port());
    users = new UserStore(gateway.infrastructure());
  }

  @AfterEach
  void stop() {
    gateways.closeAll();
  }

  // ---- helpers: the phone (sandbox), the site, the administrator ----

  JsonObject phoneCode(String openid, String unionid) {
    JsonObject request = new JsonObject().put("appId", "wxtestmini000001").put("openid", openid);
    if (unionid != null) request.put("unionid", unionid);
    HttpResponse<Buffer> r = await(http.post("/sandbox/control/miniprogram/code").sendJsonObject(request));
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
    return r.bodyAsJsonObject();
  }

  /** WeChat tells the unionid (u- instead of o-): the mini program's QR and silent logins link to one user. */
  HttpResponse<Buffer> silentLogin(WebClient client, String openid) {
    return await(client.post("/api/v1/miniprogram/login").sendJsonObject(new JsonObject().put("appId", "demo")
        .put("connection", "wechat-mini").put("code", phoneCode(openid, unionidOf(openid)).getString("code"))));
  }

  static String unionidOf(String openid) {
    return "u-" + openid.substring(2);
  }

  /** A user who logged in by the mini program (silent login), with the tokens demo got. */
  JsonObject loggedIn(String openid) {
    HttpResponse<Buffer> r = silentLogin(http, openid);
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
    return r.bodyAsJsonObject();
  }

  User user(String openid, String unionid, String phone, String nickname) {
    return await(users.resolve(new WeChatIdentity("wechat-mini", "wxtestmini000001", openid, unionid, phone, nickname, null),
        config.connection("wechat-mini").orElseThrow(), new LoginContext("demo", "127.0.0.1")));
  }

  String adminToken() {
    User admin = user("o-admin", null, null, "Admin");
    return await(TokenService.proxy(vertx).issue(admin.id(), ScanGateConfig.Application.ADMIN_CLIENT_ID, null, null))
        .getString("access_token");
  }

  HttpResponse<Buffer> call(WebClient client, String method, String path, String bearer) {
    HttpRequest<Buffer> request = "POST".equals(method) ? client.post(path) : client.get(path);
    if (bearer != null) request.putHeader("Authorization", "Bearer " + bearer);
    return await(request.send());
  }

  HttpResponse<Buffer> get(String path) {
    return call(http, "GET", path, API_KEY);
  }

  HttpResponse<Buffer> post(String path) {
    return call(http, "POST", path, API_KEY);
  }

  static String q(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8);
  }

  HttpResponse<Buffer> form(WebClient client, String path, Map<String, String> fields) {
    MultiMap form = MultiMap.caseInsensitiveMultiMap();
    fields.forEach(form::add);
    return await(client.post(path).sendForm(form));
  }

  HttpResponse<Buffer> verify(WebClient client, String token) {
    return await(client.get("/auth/verify").putHeader("Authorization", "Bearer " + token).send());
  }

  HttpResponse<Buffer> refresh(String appId, String secret, String refreshToken) {
    return await(http.post("/oidc/token").basicAuthentication(appId, secret)
        .sendForm(MultiMap.caseInsensitiveMultiMap().add("grant_type", "refresh_token").add("refresh_token", refreshToken)));
  }

  List<JsonObject> events(String query) {
    HttpResponse<Buffer> r = get("/admin/api/audit?" + query);
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
    List<JsonObject> list = new ArrayList<>();
    r.bodyAsJsonObject().getJsonArray("events").forEach(e -> list.add((JsonObject) e));
    return list;
  }

  // ---- who may call ----

  @Test
  void onlyAnApiKeyOrAnAdministratorsAdminTokenGetsIn() {
    String adminId = user("o-admin", null, null, "Admin").id();
    String path = "/admin/api/users";
    HttpResponse<Buffer> none = call(http, "GET", path, null);
    assertThat(none.statusCode()).isEqualTo(401);
    assertThat(none.bodyAsJsonObject().getString("error")).isEqualTo("unauthorized");
    assertThat(none.getHeader("WWW-Authenticate")).startsWith("Bearer");
    assertThat(call(http, "GET", path, "not-an-admin-key-0123456789").statusCode()).isEqualTo(401);
    assertThat(call(http, "GET", path, API_KEY + "x").statusCode()).isEqualTo(401);
    assertThat(call(http, "GET", path, "eyJhbGciOiJSUzI1NiJ9.e30.c2ln").statusCode()).isEqualTo(401);
    assertThat(await(http.get(path).basicAuthentication("admin", API_KEY).send()).statusCode()).isEqualTo(401);

    // An ordinary application's token, even of an administrator: 403.
    String demoToken = await(TokenService.proxy(vertx).issue(adminId, "demo", null, null)).getString("access_token");
    HttpResponse<Buffer> otherClient = call(http, "GET", path, demoToken);
    assertThat(otherClient.statusCode()).isEqualTo(403);
    assertThat(otherClient.bodyAsJsonObject().getString("message")).contains("another application");

    // A scangate-admin token of someone who is not in admin.users: 403.
    String strangerId = user("o-stranger", null, null, "Stranger").id();
    String strangerToken = await(TokenService.proxy(vertx).issue(strangerId, ScanGateConfig.Application.ADMIN_CLIENT_ID, null, null))
        .getString("access_token");
    HttpResponse<Buffer> notAdmin = call(http, "GET", path, strangerToken);
    assertThat(notAdmin.statusCode()).isEqualTo(403);
    assertThat(notAdmin.bodyAsJsonObject().getString("message")).contains("not an administrator");

    assertThat(call(http, "GET", path, adminToken()).statusCode()).isEqualTo(200);
    assertThat(call(http, "GET", path, API_KEY).statusCode()).isEqualTo(200);
    assertThat(call(http, "GET", path, "another-admin-key-0123456789").statusCode()).isEqualTo(200);
    for (String p : List.of("/admin/api/users/" + adminId, "/admin/api/audit", "/admin/api/audit/export")) {
      assertThat(call(http, "GET", p, null).statusCode()).as(p).isEqualTo(401);
      assertThat(call(http, "GET", p, demoToken).statusCode()).as(p).isEqualTo(403);
    }
    for (String action : List.of("block", "unblock", "logout")) {
      String p = "/admin/api/users/" + strangerId + "/" + action;
      assertThat(call(http, "POST", p, null).statusCode()).as(p).isEqualTo(401);
      assertThat(call(http, "POST", p, "wrong-key-0123456789abcdef").statusCode()).as(p).isEqualTo(401);
      assertThat(call(http, "POST", p, demoToken).statusCode()).as(p).isEqualTo(403);
      assertThat(call(http, "POST", p, strangerToken).statusCode()).as(p).isEqualTo(403);
    }
    assertThat(config.toString() + config.admin()).doesNotContain(API_KEY);
  }

  @Test
  void theAdminPageLogsInThroughTheCodeFlowAsTheReservedPublicClient() throws Exception {
    user("o-admin", null, null, "Admin");
    String verifier = Base64.getUrlEncoder().withoutPadding().encodeToString(new byte[32]).replace('A', 'v');
    String challenge = Base64.getUrlEncoder().withoutPadding().encodeToString(
        MessageDigest.getInstance("SHA-256").digest(verifier.getBytes(StandardCharsets.US_ASCII)));
    String redirect = config.server().publicUrl() + "/admin/";
    HttpResponse<Buffer> page = await(http.get("/oidc/auth?client_id=scangate-admin&response_type=code&scope=openid"
        + "&redirect_uri=" + q(redirect) + "&code_challenge=" + challenge + "&code_challenge_method=S256&state=s1&max_age=300").send());
    assertThat(page.statusCode()).as(page.bodyAsString()).isEqualTo(200);
    Matcher m = Pattern.compile("<meta name=\"scangate-auth-request\" content=\"([A-Za-z0-9_-]+)\">").matcher(page.bodyAsString());
    assertThat(m.find()).isTrue();
    String ticket = scannedAndConfirmed("scangate-admin", "o-admin").getString("ticket");
    HttpResponse<Buffer> done = await(http.post("/oidc/auth/complete")
        .sendJsonObject(new JsonObject().put("authRequest", m.group(1)).put("ticket", ticket)));
    assertThat(done.statusCode()).as(done.bodyAsString()).isEqualTo(200);
    String location = done.bodyAsJsonObject().getString("redirect");
    assertThat(location).startsWith(redirect + "?code=");
    String code = java.net.URLDecoder.decode(location.replaceAll(".*[?&]code=([^&]+).*", "$1"), StandardCharsets.UTF_8);
    // The page exchanges the code itself: a same-origin POST, which browsers send with an Origin.
    MultiMap fields = MultiMap.caseInsensitiveMultiMap().add("grant_type", "authorization_code").add("code", code)
        .add("redirect_uri", redirect).add("client_id", "scangate-admin").add("code_verifier", verifier);
    HttpResponse<Buffer> tokens = await(http.post("/oidc/token").putHeader("Origin", config.server().publicUrl()).sendForm(fields));
    assertThat(tokens.statusCode()).as(tokens.bodyAsString()).isEqualTo(200);
    assertThat(call(http, "GET", "/admin/api/users", tokens.bodyAsJsonObject().getString("access_token")).statusCode()).isEqualTo(200);

    // Without PKCE the reserved client is refused (a public client).
    HttpResponse<Buffer> noPkce = await(http.get("/oidc/auth?client_id=scangate-admin&response_type=code&scope=openid"
        + "&redirect_uri=" + q(redirect)).send());
    assertThat(noPkce.statusCode()).isEqualTo(302);
    assertThat(noPkce.getHeader("Location")).contains("code_challenge");
    // And the page itself is served with a strict policy and an external script.
    HttpResponse<Buffer> admin = await(http.get("/admin/").send());
    assertThat(admin.statusCode()).isEqualTo(200);
    assertThat(admin.getHeader("Content-Security-Policy")).contains("script-src 'self';").doesNotContain("unsafe-inline");
    assertThat(admin.bodyAsString()).contains("<script src=\"/admin/admin.js\"");
    assertThat(await(http.get("/admin/admin.js").send()).bodyAsString()).contains("code_challenge_method: 'S256'")
        .contains("max_age: '300'");
  }

  /** A mini program QR session of {@code appId}, scanned and confirmed by {@code openid}: the session's state. */
  JsonObject scannedAndConfirmed(String appId, String openid) {
    JsonObject session = await(http.post("/api/v1/qr/sessions")
        .sendJsonObject(new JsonObject().put("appId", appId).put("connection", "wechat-mini-qr"))).bodyAsJsonObject();
    JsonObject scanned = scan(session, openid);
    HttpResponse<Buffer> confirmed = await(http.post("/api/v1/miniprogram/qr/" + session.getString("scene") + "/confirm")
        .sendJsonObject(new JsonObject().put("scanToken", scanned.getString("scanToken"))));
    assertThat(confirmed.statusCode()).as(confirmed.bodyAsString()).isEqualTo(200);
    return await(http.get("/api/v1/qr/sessions/" + session.getString("sessionId")).send()).bodyAsJsonObject();
  }

  JsonObject scan(JsonObject session, String openid) {
    HttpResponse<Buffer> r = await(http.post("/api/v1/miniprogram/qr/" + session.getString("scene") + "/scan")
        .sendJsonObject(new JsonObject().put("connection", "wechat-mini-qr").put("code", phoneCode(openid, unionidOf(openid)).getString("code"))));
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
    return r.bodyAsJsonObject();
  }

  // ---- users ----

  @Test
  void searchMatchesEachFieldExactlyOrANicknamePrefixAndPagesWithACursor() {
    User alice = user("o-alice", "u-alice", "+8613800000001", "Alice");
    User alan = user("o-alan", null, "+8613800000002", "alan");
    User bob = user("o-bob", "u-bob", null, "Bob");
    for (int i = 0; i < 4; i++) user("o-extra-" + i, null, null, "Extra " + i);

    assertThat(ids("query=" + alice.id())).containsExactly(alice.id());
    assertThat(ids("query=%2B8613800000002")).containsExactly(alan.id());
    assertThat(ids("query=o-bob")).containsExactly(bob.id());
    assertThat(ids("query=u-alice")).containsExactly(alice.id());
    assertThat(ids("query=AL")).containsExactlyInAnyOrder(alice.id(), alan.id());
    assertThat(ids("query=ali")).containsExactly(alice.id());
    assertThat(ids("query=lice")).as("a prefix, not a substring").isEmpty();
    assertThat(ids("query=50%25")).isEmpty();

    JsonObject shown = get("/admin/api/users?query=o-alice").bodyAsJsonObject().getJsonArray("users").getJsonObject(0);
    assertThat(shown.getString("nickname")).isEqualTo("Alice");
    assertThat(shown.getBoolean("blocked")).isFalse();

    // Pages of 3, newest first, every user exactly once.
    List<String> seen = new ArrayList<>();
    String cursor = null;
    int pages = 0;
    do {
      HttpResponse<Buffer> r = get("/admin/api/users?limit=3" + (cursor == null ? "" : "&cursor=" + q(cursor)));
      assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
      JsonObject page = r.bodyAsJsonObject();
      page.getJsonArray("users").forEach(u -> seen.add(((JsonObject) u).getString("id")));
      cursor = page.getString("nextCursor");
      pages++;
    } while (cursor != null);
    assertThat(pages).isEqualTo(3);
    assertThat(seen).hasSize(7).doesNotHaveDuplicates();
    assertThat(seen.get(0)).as("newest first").isNotEqualTo(alice.id());
    assertThat(seen.get(6)).isEqualTo(alice.id());
    // A search pages too.
    HttpResponse<Buffer> firstExtra = get("/admin/api/users?query=extra&limit=3");
    String next = firstExtra.bodyAsJsonObject().getString("nextCursor");
    assertThat(next).isNotNull();
    assertThat(get("/admin/api/users?query=extra&limit=3&cursor=" + q(next)).bodyAsJsonObject().getJsonArray("users")).hasSize(1);

    HttpResponse<Buffer> badCursor = get("/admin/api/users?cursor=nonsense");
    assertThat(badCursor.statusCode()).isEqualTo(400);
    assertThat(badCursor.bodyAsJsonObject().getString("error")).isEqualTo("invalid_cursor");
    assertThat(get("/admin/api/users?limit=0").statusCode()).isEqualTo(400);
    assertThat(get("/admin/api/users?limit=101").statusCode()).isEqualTo(400);
  }

  List<String> ids(String query) {
    HttpResponse<Buffer> r = get("/admin/api/users?" + query);
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
    List<String> list = new ArrayList<>();
    r.bodyAsJsonObject().getJsonArray("users").forEach(u -> list.add(((JsonObject) u).getString("id")));
    return list;
  }

  @Test
  void oneUserShowsBlockedAndTheLastLoginOfEachIdentity() {
    String id = loggedIn("o-carol").getJsonObject("user").getString("id");
    HttpResponse<Buffer> before = get("/admin/api/users/" + id);
    assertThat(before.bodyAsJsonObject().getJsonArray("identities")).hasSize(1);
    scannedAndConfirmed("demo", "o-carol"); // the same person by the mini program's QR code: a second identity
    HttpResponse<Buffer> r = get("/admin/api/users/" + id);
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
    JsonObject user = r.bodyAsJsonObject();
    assertThat(user.getString("id")).isEqualTo(id);
    assertThat(user.getBoolean("blocked")).isFalse();
    JsonArray identities = user.getJsonArray("identities");
    assertThat(identities).hasSize(2);
    assertThat(identities.getJsonObject(0).getString("connection")).isEqualTo("wechat-mini");
    assertThat(identities.getJsonObject(1).getString("connection")).isEqualTo("wechat-mini-qr");
    for (int i = 0; i < 2; i++) {
      assertThat(identities.getJsonObject(i).getString("lastLoginAt")).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ");
    }

    for (String unknown : List.of("/admin/api/users/00000000-0000-4000-8000-000000000000", "/admin/api/users/not-a-user-id")) {
      HttpResponse<Buffer> missing = get(unknown);
      assertThat(missing.statusCode()).isEqualTo(404);
      assertThat(missing.bodyAsJsonObject().getString("error")).isEqualTo("user_not_found");
    }
    for (String action : List.of("block", "unblock", "logout")) {
      assertThat(post("/admin/api/users/00000000-0000-4000-8000-000000000000/" + action).statusCode()).as(action).isEqualTo(404);
    }
  }

  // ---- blocking ----

  @Test
  void aBlockedUserCannotLogInByAnyDoorAndTheirTokensStopWorkingOnEveryInstanceWithinASecond() {
    JsonObject login = loggedIn("o-mallory");
    String userId = login.getJsonObject("user").getString("id");
    String access = login.getJsonObject("tokens").getString("access_token");
    String refresh = login.getJsonObject("tokens").getString("refresh_token");
    JsonObject backend = await(TokenService.proxy(vertx).issue(userId, "backend", null, null));
    ScanGate second = gateways.start(vertx, TestConfigs.parse(YAML, env));
    WebClient secondHttp = TestHttp.client(vertx, second.port());
    assertThat(verify(secondHttp, access).statusCode()).isEqualTo(200);
    // A login in progress: scanned before the block, confirmed after it.
    JsonObject session = await(http.post("/api/v1/qr/sessions")
        .sendJsonObject(new JsonObject().put("appId", "demo").put("connection", "wechat-mini-qr"))).bodyAsJsonObject();
    JsonObject scanned = scan(session, "o-mallory");
    // And a login confirmed before the block whose ticket the site has not exchanged yet.
    String ticket = scannedAndConfirmed("demo", "o-mallory").getString("ticket");

    HttpResponse<Buffer> blocked = post("/admin/api/users/" + userId + "/block");
    assertThat(blocked.statusCode()).as(blocked.bodyAsString()).isEqualTo(200);
    assertThat(blocked.bodyAsJsonObject()).isEqualTo(new JsonObject());

    assertThat(until(() -> verify(secondHttp, access).statusCode() == 401, 1000))
        .as("the other instance refuses the access token within one second").isTrue();
    assertThat(verify(http, access).statusCode()).isEqualTo(401);
    assertThat(verify(secondHttp, backend.getString("access_token")).bodyAsJsonObject().getString("error_description"))
        .isEqualTo("token has been revoked");
    assertThat(await(secondHttp.get("/oidc/me").putHeader("Authorization", "Bearer " + access).send()).statusCode()).isEqualTo(401);
    HttpResponse<Buffer> introspected = await(secondHttp.post("/oidc/token/introspection").basicAuthentication("demo", "demo-app-secret-for-tests")
        .sendForm(MultiMap.caseInsensitiveMultiMap().add("token", access)));
    assertThat(introspected.bodyAsJsonObject().getBoolean("active")).isFalse();
    assertThat(refresh("demo", "demo-app-secret-for-tests", refresh).statusCode()).isEqualTo(400);
    assertThat(refresh("backend", "backend-app-secret-for-tests", backend.getString("refresh_token")).statusCode()).isEqualTo(400);

    // The login in progress ends FAILED user_blocked.
    HttpResponse<Buffer> confirm = await(http.post("/api/v1/miniprogram/qr/" + session.getString("scene") + "/confirm")
        .sendJsonObject(new JsonObject().put("scanToken", scanned.getString("scanToken"))));
    assertThat(confirm.statusCode()).isEqualTo(200);
    assertThat(confirm.bodyAsJsonObject().getString("error")).isEqualTo("user_blocked");
    JsonObject state = await(http.get("/api/v1/qr/sessions/" + session.getString("sessionId")).send()).bodyAsJsonObject();
    assertThat(state.getString("status")).isEqualTo("FAILED");
    assertThat(state.getString("error")).isEqualTo("user_blocked");
    HttpResponse<Buffer> exchange = await(secondHttp.post("/api/v1/qr/exchange").sendJsonObject(new JsonObject().put("ticket", ticket)));
    assertThat(exchange.statusCode()).isEqualTo(403);
    assertThat(exchange.bodyAsJsonObject().getString("error")).isEqualTo("user_blocked");
    // Silent login: 403 user_blocked, on either instance.
    HttpResponse<Buffer> silent = silentLogin(secondHttp, "o-mallory");
    assertThat(silent.statusCode()).isEqualTo(403);
    assertThat(silent.bodyAsJsonObject().getString("error")).isEqualTo("user_blocked");
    // The Authing SDK's silent login: the same refusal in Authing's envelope.
    HttpResponse<Buffer> authing = await(http.post("/connections/social/wechat-miniprogram/auth").putHeader("x-authing-app-id", "demo")
        .sendJsonObject(new JsonObject().put("code", phoneCode("o-mallory", unionidOf("o-mallory")).getString("code"))));
    assertThat(authing.statusCode()).isEqualTo(403);
    assertThat(authing.bodyAsJsonObject().getString("error")).isEqualTo("user_blocked");
    assertThat(authing.bodyAsJsonObject().getInteger("code")).isEqualTo(403);
    assertThat(get("/admin/api/users/" + userId).bodyAsJsonObject().getBoolean("blocked")).isTrue();

    List<JsonObject> refusals = events("user=" + userId + "&type=login_refused");
    assertThat(refusals).hasSize(4).allSatisfy(e -> assertThat(e.getJsonObject("detail").getString("reason")).isEqualTo("user_blocked"));
    JsonObject blockEvent = events("user=" + userId + "&type=user_blocked").get(0);
    assertThat(blockEvent.getJsonObject("detail").getString("by")).isEqualTo("api-key:2");
    assertThat(blockEvent.getString("ip")).isEqualTo("127.0.0.1");

    // Unblocked: logins work again; what was issued before the block stays revoked.
    assertThat(post("/admin/api/users/" + userId + "/unblock").statusCode()).isEqualTo(200);
    assertThat(get("/admin/api/users/" + userId).bodyAsJsonObject().getBoolean("blocked")).isFalse();
    waitForTheNextSecond();
    JsonObject again = loggedIn("o-mallory");
    assertThat(verify(secondHttp, again.getJsonObject("tokens").getString("access_token")).statusCode()).isEqualTo(200);
    assertThat(verify(secondHttp, access).statusCode()).isEqualTo(401);
    assertThat(events("user=" + userId + "&type=user_unblocked")).hasSize(1);
  }

  /** Revocation by user is by issue time in whole seconds: a new token needs a later second. */
  static void waitForTheNextSecond() {
    long next = (System.currentTimeMillis() / 1000 + 1) * 1000;
    while (System.currentTimeMillis() <= next) Thread.onSpinWait();
  }

  @Test
  void loggingOutEverywhereRevokesTheTokensOfEveryApplication() {
    JsonObject login = loggedIn("o-dave");
    String userId = login.getJsonObject("user").getString("id");
    JsonObject backend = await(TokenService.proxy(vertx).issue(userId, "backend", null, null));
    JsonObject other = loggedIn("o-erin");

    HttpResponse<Buffer> out = post("/admin/api/users/" + userId + "/logout");
    assertThat(out.statusCode()).as(out.bodyAsString()).isEqualTo(200);
    assertThat(out.bodyAsJsonObject()).isEqualTo(new JsonObject());

    assertThat(until(() -> verify(http, login.getJsonObject("tokens").getString("access_token")).statusCode() == 401, 1000)).isTrue();
    assertThat(verify(http, backend.getString("access_token")).statusCode()).isEqualTo(401);
    assertThat(refresh("demo", "demo-app-secret-for-tests", login.getJsonObject("tokens").getString("refresh_token")).statusCode())
        .isEqualTo(400);
    assertThat(refresh("backend", "backend-app-secret-for-tests", backend.getString("refresh_token")).statusCode()).isEqualTo(400);
    var active = await(gateway.infrastructure().postgres()
        .preparedQuery("SELECT count(*) FROM refresh_tokens WHERE user_id = $1::uuid AND revoked_at IS NULL")
        .execute(io.vertx.sqlclient.Tuple.of(userId))).iterator().next().getLong(0);
    assertThat(active).isZero();
    // Someone else is not touched.
    assertThat(verify(http, other.getJsonObject("tokens").getString("access_token")).statusCode()).isEqualTo(200);
    assertThat(refresh("demo", "demo-app-secret-for-tests", other.getJsonObject("tokens").getString("refresh_token")).statusCode())
        .isEqualTo(200);
    // Logged out is not blocked: the user logs in again (in a later second).
    waitForTheNextSecond();
    JsonObject again = loggedIn("o-dave");
    assertThat(verify(http, again.getJsonObject("tokens").getString("access_token")).statusCode()).isEqualTo(200);
    JsonObject logoutEvent = events("user=" + userId + "&type=user_logout").get(0);
    assertThat(logoutEvent.getJsonObject("detail").getInteger("revokedRefreshTokens")).isEqualTo(2);
  }

  // ---- the audit log ----

  @Test
  void theAuditLogIsReadNewestFirstWithFiltersAndACursor() {
    JsonObject login = loggedIn("o-frank");
    String userId = login.getJsonObject("user").getString("id");
    HttpResponse<Buffer> refreshed = refresh("demo", "demo-app-secret-for-tests", login.getJsonObject("tokens").getString("refresh_token"));
    assertThat(refreshed.statusCode()).isEqualTo(200);
    String spent = login.getJsonObject("tokens").getString("refresh_token");
    // A reuse after the retry interval would be needed to be refused; a revocation is recorded instead.
    form(http, "/oidc/token/revocation", Map.of("token", spent, "client_id", "demo", "client_secret", "demo-app-secret-for-tests"));
    String ticket = scannedAndConfirmed("demo", "o-frank").getString("ticket");
    assertThat(await(http.post("/api/v1/qr/exchange").sendJsonObject(new JsonObject().put("ticket", ticket))).statusCode()).isEqualTo(200);
    assertThat(post("/admin/api/users/" + userId + "/block").statusCode()).isEqualTo(200);
    assertThat(post("/admin/api/users/" + userId + "/unblock").statusCode()).isEqualTo(200);

    List<JsonObject> all = events("user=" + userId + "&limit=1000");
    List<String> types = all.stream().map(e -> e.getString("type")).toList();
    assertThat(types).contains("login", "token_refresh", "qr_exchange", "user_blocked", "user_unblocked");
    assertThat(types.get(0)).as("newest first").isEqualTo("user_unblocked");
    JsonObject firstLogin = all.get(all.size() - 1);
    assertThat(firstLogin.getString("type")).isEqualTo("login");
    assertThat(firstLogin.getString("appId")).isEqualTo("demo");
    assertThat(firstLogin.getString("connection")).isEqualTo("wechat-mini");
    assertThat(firstLogin.getString("ip")).isEqualTo("127.0.0.1");
    assertThat(firstLogin.getJsonObject("detail").getString("outcome")).isEqualTo("success");
    assertThat(firstLogin.getString("id")).isNotBlank();
    assertThat(firstLogin.getString("at")).endsWith("Z");
    assertThat(events("type=qr_scan").get(0).getString("connection")).isEqualTo("wechat-mini-qr");

    // Page by page with the cursor: the same events, once each.
    Set<String> paged = new HashSet<>();
    List<String> order = new ArrayList<>();
    String cursor = null;
    do {
      HttpResponse<Buffer> r = get("/admin/api/audit?user=" + userId + "&limit=2" + (cursor == null ? "" : "&cursor=" + cursor));
      r.bodyAsJsonObject().getJsonArray("events").forEach(e -> {
        paged.add(((JsonObject) e).getString("id"));
        order.add(((JsonObject) e).getString("id"));
      });
      cursor = r.bodyAsJsonObject().getString("nextCursor");
    } while (cursor != null);
    assertThat(order).isEqualTo(all.stream().map(e -> e.getString("id")).toList());
    assertThat(paged).hasSize(all.size());

    assertThat(events("user=" + userId + "&since=2000-01-01T00:00:00Z&until=2000-01-02T00:00:00Z")).isEmpty();
    assertThat(events("user=" + userId + "&since=2000-01-01T00:00:00Z")).hasSize(all.size());
    for (String bad : List.of("since=yesterday", "user=not-a-uuid", "type=DROP%20TABLE", "limit=0", "cursor=x")) {
      HttpResponse<Buffer> r = get("/admin/api/audit?" + bad);
      assertThat(r.statusCode()).as(bad).isEqualTo(400);
    }

    // The export: every matching event as JSON lines, and the export itself is recorded.
    HttpResponse<Buffer> export = get("/admin/api/audit/export?user=" + userId);
    assertThat(export.statusCode()).isEqualTo(200);
    assertThat(export.getHeader("Content-Type")).startsWith("application/x-ndjson");
    String[] lines = export.bodyAsString().split("\n");
    assertThat(lines).hasSize(all.size());
    assertThat(new JsonObject(lines[0]).getString("type")).isEqualTo("user_unblocked");
    JsonObject exported = events("type=admin_action").get(0);
    assertThat(exported.getJsonObject("detail").getString("action")).isEqualTo("export_audit");
  }

  @Test
  void eventsOlderThanTheRetentionAreDeleted() {
    var pg = gateway.infrastructure().postgres();
    await(pg.query("INSERT INTO audit_log (at, event, outcome) VALUES (now() - interval '200 days', 'login', 'success'),"
        + " (now() - interval '10 days', 'login', 'success')").execute());
    long deleted = await(new AuditLog(pg).deleteOlderThan(config.admin().auditRetention()));
    assertThat(deleted).isEqualTo(1);
    long left = await(pg.query("SELECT count(*) FROM audit_log WHERE at < now() - interval '1 day'").execute()).iterator().next().getLong(0);
    assertThat(left).isEqualTo(1);
  }
}
