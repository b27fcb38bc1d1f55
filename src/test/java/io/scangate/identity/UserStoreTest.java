package io.scangate.identity;

import io.scangate.ScanGate;
import io.scangate.config.ScanGateConfig;
import io.scangate.error.ApiException;
import io.scangate.testing.TestConfigs;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static io.scangate.testing.Await.await;
import static io.scangate.testing.Await.failure;
import static org.assertj.core.api.Assertions.assertThat;

@ExtendWith(VertxExtension.class)
class UserStoreTest {

  static final String YAML = TestConfigs.STANDARD_YAML + """
        - identifier: "wechat-mini-closed"
          type: wechat-miniprogram
          wechatAppId: "wxtestmini000002"
          appSecret: "test-mini-secret-000002"
          loginOnly: true
          accountLinking: { mode: match, fields: [unionid] }
      """;

  ScanGate gateway;
  ScanGateConfig config;
  UserStore users;
  final LoginContext ctx = new LoginContext("demo", "203.0.113.7");

  @BeforeEach
  void start(Vertx vertx) {
    config = TestConfigs.parse(YAML);
    gateway = await(ScanGate.start(vertx, config, ScanGate.Options.dev(null)));
    users = new UserStore(gateway.infrastructure());
  }

  @AfterEach
  void stop() {
    if (gateway != null) await(gateway.close());
  }

  ScanGateConfig.Connection connection(String id) {
    return config.connection(id).orElseThrow();
  }

  static WeChatIdentity mini(String openid, String unionid, String phone) {
    return new WeChatIdentity("wechat-mini", "wxtestmini000001", openid, unionid, phone, null, null);
  }

  long count(String sql) {
    return await(gateway.infrastructure().postgres().query(sql).execute()).iterator().next().getLong(0);
  }

  @Test
  void firstLoginCreatesUserAndLaterLoginsFindIt() {
    User first = await(users.resolve(new WeChatIdentity("wechat-mp", "wxtestmp00000001", "o-mp-1", null, null, "Ann",
        "https://img.example.com/a.png"), connection("wechat-mp"), ctx));
    // A first login is written logged in already: counted once, both times set.
    assertThat(first.toJson().getString("lastLoginAt")).isNotNull();
    assertThat(count("SELECT count(*) FROM users WHERE login_count = 1 AND last_login_at IS NOT NULL")).isEqualTo(1);
    assertThat(count("SELECT count(*) FROM identities WHERE openid = 'o-mp-1' AND last_login_at IS NOT NULL AND unionid IS NULL"))
        .isEqualTo(1);
    User again = await(users.resolve(new WeChatIdentity("wechat-mp", "wxtestmp00000001", "o-mp-1", "u-1", null, null, null),
        connection("wechat-mp"), ctx));

    assertThat(again.id()).isEqualTo(first.id());
    assertThat(again.unionid()).as("a newly learnt unionid is filled in").isEqualTo("u-1");
    assertThat(again.nickname()).isEqualTo("Ann");
    JsonObject json = again.toJson();
    assertThat(json.fieldNames()).containsExactlyInAnyOrder("id", "nickname", "avatarUrl", "unionid", "identities",
        "createdAt", "lastLoginAt");
    assertThat(json.getJsonArray("identities").getJsonObject(0).getMap())
        .containsExactlyInAnyOrderEntriesOf(java.util.Map.of("connection", "wechat-mp", "openid", "o-mp-1"));
    assertThat(json.getString("createdAt")).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ");
    Row row = await(gateway.infrastructure().postgres().preparedQuery("SELECT login_count FROM users WHERE id = $1")
        .execute(Tuple.of(java.util.UUID.fromString(first.id())))).iterator().next();
    assertThat(row.getInteger("login_count")).isEqualTo(2);
    assertThat(count("SELECT count(*) FROM identities WHERE openid = 'o-mp-1' AND unionid = 'u-1'"))
        .as("the identity learns the unionid too").isEqualTo(1);
    assertThat(count("SELECT count(*) FROM audit_log WHERE event = 'login' AND outcome = 'success' AND client_ip = '203.0.113.7' AND app_id = 'demo'"))
        .isEqualTo(2);
  }

  @Test
  void matchModeLinksByUnionid() {
    User viaQr = await(users.resolve(new WeChatIdentity("wechat-mini-qr", "wxtestmini000001", "o-qr", "u-shared", null,
        null, null), connection("wechat-mini-qr"), ctx));
    User viaMini = await(users.resolve(mini("o-mini", "u-shared", null), connection("wechat-mini"), ctx));

    assertThat(viaMini.id()).isEqualTo(viaQr.id());
    assertThat(viaMini.identities()).extracting(User.Identity::connection)
        .containsExactlyInAnyOrder("wechat-mini-qr", "wechat-mini");
    assertThat(count("SELECT count(*) FROM users")).isEqualTo(1);
    assertThat(count("SELECT count(*) FROM audit_log WHERE detail->>'linkedBy' = 'unionid'")).isEqualTo(1);
  }

  @Test
  void matchModeLinksByPhoneWhenUnionidDoesNotMatch() {
    User byQr = await(users.resolve(new WeChatIdentity("wechat-mini-qr", "wxtestmini000001", "o-qr", null, "+8613800000000",
        null, null), connection("wechat-mini-qr"), ctx));
    User byMini = await(users.resolve(mini("o-mini", "u-other", "+8613800000000"), connection("wechat-mini"), ctx));

    assertThat(byMini.id()).isEqualTo(byQr.id());
    assertThat(byMini.phone()).isEqualTo("+8613800000000");
    assertThat(count("SELECT count(*) FROM audit_log WHERE detail->>'linkedBy' = 'phone'")).isEqualTo(1);
  }

  @Test
  void noneModeKeepsSeparateAccounts() {
    User mini = await(users.resolve(mini("o-mini", "u-shared", null), connection("wechat-mini"), ctx));
    User mp = await(users.resolve(new WeChatIdentity("wechat-mp", "wxtestmp00000001", "o-mp", "u-shared", null, null, null),
        connection("wechat-mp"), ctx));

    assertThat(mp.id()).isNotEqualTo(mini.id());
  }

  @Test
  void loginOnlyRefusesUnknownPeopleAndCreatesNothing() {
    WeChatIdentity stranger = new WeChatIdentity("wechat-mini-closed", "wxtestmini000002", "o-stranger", "u-stranger",
        null, null, null);
    Throwable refused = failure(users.resolve(stranger, connection("wechat-mini-closed"), ctx));

    assertThat(refused).isInstanceOf(ApiException.class);
    assertThat(((ApiException) refused).status()).isEqualTo(403);
    assertThat(((ApiException) refused).code()).isEqualTo("login_only");
    assertThat(count("SELECT count(*) FROM users")).isZero();
    assertThat(count("SELECT count(*) FROM identities")).isZero();
    assertThat(count("SELECT count(*) FROM audit_log WHERE event = 'login_refused' AND outcome = 'refused' AND connection = 'wechat-mini-closed'"))
        .isEqualTo(1);
  }

  @Test
  void loginOnlyAdmitsAnExistingAccountFoundByLinking() {
    User existing = await(users.resolve(mini("o-mini", "u-known", null), connection("wechat-mini"), ctx));
    User viaClosed = await(users.resolve(new WeChatIdentity("wechat-mini-closed", "wxtestmini000002", "o-closed", "u-known",
        null, null, null), connection("wechat-mini-closed"), ctx));

    assertThat(viaClosed.id()).isEqualTo(existing.id());
  }

  @Test
  void twentyConcurrentFirstLoginsMakeOneUser() {
    List<Future<User>> logins = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      logins.add(users.resolve(new WeChatIdentity("wechat-mp", "wxtestmp00000001", "o-race", null, null, null, null),
          connection("wechat-mp"), ctx));
    }
    await(Future.all(logins));

    Set<String> ids = logins.stream().map(f -> f.result().id()).collect(Collectors.toSet());
    assertThat(ids).hasSize(1);
    assertThat(count("SELECT count(*) FROM users")).isEqualTo(1);
    assertThat(count("SELECT login_count FROM users")).isEqualTo(20);
  }

  @Test
  void concurrentFirstLoginsThroughTwoConnectionsWithOneUnionidMakeOneUser() {
    List<Future<User>> logins = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      logins.add(users.resolve(mini("o-mini-" + i, "u-race", null), connection("wechat-mini"), ctx));
    }
    await(Future.all(logins));

    assertThat(logins.stream().map(f -> f.result().id()).collect(Collectors.toSet())).hasSize(1);
    assertThat(count("SELECT count(*) FROM identities")).isEqualTo(10);
  }

  @Test
  void profileUpdatesAreStoredAndAudited() {
    User user = await(users.resolve(mini("o-1", null, null), connection("wechat-mini"), ctx));
    User updated = await(users.updateProfile(user.id(), "Bo", null, ctx));

    assertThat(updated.nickname()).isEqualTo("Bo");
    assertThat(await(users.find(user.id())).nickname()).isEqualTo("Bo");
    assertThat(count("SELECT count(*) FROM audit_log WHERE event = 'profile_updated'")).isEqualTo(1);
    Throwable missing = failure(users.find("00000000-0000-0000-0000-000000000000"));
    assertThat(((ApiException) missing).code()).isEqualTo("user_not_found");
    assertThat(((ApiException) failure(users.find("not-a-uuid"))).status()).isEqualTo(404);
  }
}
