package io.scangate.config;

import io.scangate.config.ScanGateConfig.AdminUser;
import io.scangate.config.ScanGateConfig.AdminUserKind;
import io.scangate.config.ScanGateConfig.Application;
import io.scangate.config.ScanGateConfig.ConnectionType;
import io.scangate.config.ScanGateConfig.LinkingField;
import io.scangate.config.ScanGateConfig.MessageMode;
import io.scangate.config.ScanGateConfig.RedisMode;
import io.scangate.config.ScanGateConfig.SigningAlgorithm;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ConfigLoaderTest {

  static final String GOOD = """
      server:
        port: 8080
        publicUrl: "https://login.example.com/"
        trustedProxies: ["10.0.0.0/8", "::1"]
        metricsPort: 9090
        headerTimeout: PT5S
      redis: { url: "redis://127.0.0.1:6379", mode: standalone, nodes: [], masterName: "mymaster", keyPrefix: "scangate:" }
      postgres: { url: "postgresql://postgres@127.0.0.1:5432/scangate", poolSize: 8 }
      wechat: { apiBaseUrl: "https://api.weixin.qq.com" }
      userPoolId: "default"
      tokens:
        accessTokenTtl: PT2H
        idTokenTtl: PT2H
        refreshTokenTtl: P30D
        keyEncryptionKey: "${KEK}"
        signingAlgorithm: RS256
        ssoSessionTtl: PT8H
        refreshReuseInterval: PT10S
      qr: { sessionTtl: PT2M, ticketTtl: PT5M, retention: PT10M }
      webhook: { maxClockSkew: PT5M, maxBodyBytes: 65536 }
      rateLimits: { sessionsPerMinutePerIp: 30, sessionsPerMinutePerApp: 600, scansPerMinutePerUser: 30, waitersPerSession: 8, waitersPerIp: 200 }
      applications:
        - appId: "demo"
          appSecret: "${DEMO_APP_SECRET}"
          name: "Demo site"
          redirectUris: ["https://demo.example.com/callback"]
          callbackUrl: "https://demo.example.com/callback"
          allowedOrigins: ["https://demo.example.com"]
          postLogoutRedirectUris: ["https://demo.example.com/"]
          signingAlgorithm: ES256
          connections: ["wechat-mp", "wechat-mini-qr", "wechat-mini"]
          exchangeAuth: none
      admin: { apiKeys: ["${ADMIN_KEY}"], users: ["0B8F6C1E-3A0D-4C2B-9E3F-5A6B7C8D9E0F", "unionid:oUnion123"], auditRetention: P180D }
      connections:
        - identifier: "wechat-mp"
          type: wechat-mp-qrcode
          displayName: "Follow us to log in"
          wechatAppId: "wx1234567890abcdef"
          appSecret: "${WECHAT_MP_SECRET}"
          token: "abcToken123"
          encodingAesKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
          messageMode: safe
          confirmMode: direct
          forwardTo:
            - { url: "https://owner.example.com/wechat", token: "ownerToken", encodingAesKey: "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut", mode: async }
          welcomeMessage: "You are now logged in"
          loginOnly: false
          accountLinking: { mode: none, fields: [] }
        - identifier: "wechat-mini-qr"
          type: wechat-miniprogram-qrcode
          wechatAppId: "wxabcdef1234567890"
          appSecret: "${WECHAT_MINI_SECRET}"
          qrStyle: url
          page: "pages/login/index"
          envVersion: release
          verificationFile: { name: "abc123.txt", content: "0123456789abcdef" }
          loginOnly: false
          accountLinking: { mode: match, fields: [unionid, phone] }
        - identifier: "wechat-mini"
          type: wechat-miniprogram
          wechatAppId: "wxabcdef1234567890"
          appSecret: "${WECHAT_MINI_SECRET}"
      """;

  static final Map<String, String> ENV = Map.of(
      "KEK", "a-key-encryption-key-of-at-least-32-chars",
      "DEMO_APP_SECRET", "demo-secret-0123456789",
      "WECHAT_MP_SECRET", "mp-secret-value",
      "WECHAT_MINI_SECRET", "mini-secret-value",
      "ADMIN_KEY", "admin-api-key-0123456789abcdef");

  static ScanGateConfig parse(String yaml) throws ConfigException {
    return ConfigLoader.parse(yaml, null, ENV, ConfigLoader.Profile.production());
  }

  static List<String> problemsOf(String yaml) {
    return assertThrows(ConfigException.class, () -> parse(yaml)).problems();
  }

  @Test
  void aCompleteFileParsesIntoTypedRecords() throws Exception {
    ScanGateConfig c = parse(GOOD);
    assertThat(c.server().publicUrl()).isEqualTo("https://login.example.com");
    assertThat(c.server().host()).isEqualTo("0.0.0.0");
    assertThat(c.server().trustedProxies()).hasSize(2);
    assertThat(c.server().trustedProxies().get(0).contains("10.1.2.3")).isTrue();
    assertThat(c.server().trustedProxies().get(0).contains("11.1.2.3")).isFalse();
    assertThat(c.server().trustedProxies().get(1).contains("::1")).isTrue();
    assertThat(c.tokens().issuer()).isEqualTo("https://login.example.com");
    assertThat(c.tokens().refreshTokenTtl()).isEqualTo(Duration.ofDays(30));
    assertThat(c.tokens().keyEncryptionKey()).isEqualTo(ENV.get("KEK"));
    assertThat(c.connections()).extracting(ScanGateConfig.Connection::type).containsExactly(
        ConnectionType.WECHAT_MP_QRCODE, ConnectionType.WECHAT_MINIPROGRAM_QRCODE, ConnectionType.WECHAT_MINIPROGRAM);
    var mp = c.connection("wechat-mp", ScanGateConfig.OfficialAccountConnection.class).orElseThrow();
    assertThat(mp.messageMode()).isEqualTo(MessageMode.SAFE);
    assertThat(mp.appSecret()).isEqualTo("mp-secret-value");
    assertThat(mp.forwardTo()).singleElement().satisfies(t -> assertThat(t.token()).isEqualTo("ownerToken"));
    assertThat(c.connection("wechat-mini-qr").orElseThrow().accountLinking().fields())
        .containsExactly(LinkingField.UNIONID, LinkingField.PHONE);
    assertThat(c.application("demo").orElseThrow().enables("wechat-mini")).isTrue();
  }

  @Test
  void secretsDoNotShowInToString() throws Exception {
    ScanGateConfig c = parse(GOOD);
    assertThat(c.toString()).doesNotContain("mp-secret-value", "demo-secret-0123456789", ENV.get("KEK"),
        ENV.get("ADMIN_KEY"), "abcToken123", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG");
    // Server URLs may carry a password.
    assertThat(new ScanGateConfig.PostgresSettings("postgresql://scangate:pg-pass-123@db:5432/scangate", 8).toString())
        .doesNotContain("pg-pass-123").contains("poolSize=8");
  }

  @Test
  void defaultsFillWhatTheFileLeavesOut() throws Exception {
    ScanGateConfig c = parse("""
        server: { publicUrl: "https://login.example.com" }
        tokens: { keyEncryptionKey: "a-key-encryption-key-of-at-least-32-chars" }
        connections:
          - { identifier: "mini", type: wechat-miniprogram, wechatAppId: "wx1", appSecret: "s" }
        applications:
          - { appId: "a" }
        """);
    assertThat(c.server().port()).isEqualTo(8080);
    assertThat(c.redis().keyPrefix()).isEqualTo("scangate:");
    assertThat(c.wechat().apiBaseUrl()).isEqualTo("https://api.weixin.qq.com");
    assertThat(c.qr().sessionTtl()).isEqualTo(Duration.ofMinutes(2));
    assertThat(c.rateLimits().sessionsPerMinutePerIp()).isEqualTo(30);
    assertThat(c.application("a").orElseThrow().connections()).containsExactly("mini");
  }

  @Test
  void theNewerKeysHaveTheirDefaults() throws Exception {
    ScanGateConfig c = parse("""
        server: { publicUrl: "https://login.example.com" }
        tokens: { keyEncryptionKey: "a-key-encryption-key-of-at-least-32-chars" }
        applications:
          - { appId: "a" }
        """);
    assertThat(c.server().metricsPort()).isNull();
    assertThat(c.server().headerTimeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(c.redis().mode()).isEqualTo(RedisMode.STANDALONE);
    assertThat(c.redis().nodes()).isEmpty();
    assertThat(c.redis().masterName()).isNull();
    assertThat(c.tokens().signingAlgorithm()).isEqualTo(SigningAlgorithm.RS256);
    assertThat(c.tokens().ssoSessionTtl()).isEqualTo(Duration.ofHours(8));
    assertThat(c.tokens().refreshReuseInterval()).isEqualTo(Duration.ofSeconds(10));
    assertThat(c.rateLimits().waitersPerSession()).isEqualTo(8);
    assertThat(c.rateLimits().waitersPerIp()).isEqualTo(200);
    Application a = c.application("a").orElseThrow();
    assertThat(a.postLogoutRedirectUris()).isEmpty();
    assertThat(a.signingAlgorithm()).isEqualTo(SigningAlgorithm.RS256);
    assertThat(c.admin().apiKeys()).isEmpty();
    assertThat(c.admin().users()).isEmpty();
    assertThat(c.admin().auditRetention()).isEqualTo(Duration.ofDays(180));
  }

  @Test
  void theNewerKeysParseIntoTypedValues() throws Exception {
    ScanGateConfig c = parse(GOOD);
    assertThat(c.server().metricsPort()).isEqualTo(9090);
    assertThat(c.server().headerTimeout()).isEqualTo(Duration.ofSeconds(5));
    assertThat(c.redis().mode()).isEqualTo(RedisMode.STANDALONE);
    assertThat(c.redis().masterName()).as("accepted with standalone (the contract's example), and ignored")
        .isEqualTo("mymaster");
    assertThat(c.tokens().signingAlgorithm()).isEqualTo(SigningAlgorithm.RS256);
    Application demo = c.application("demo").orElseThrow();
    assertThat(demo.postLogoutRedirectUris()).containsExactly("https://demo.example.com/");
    assertThat(demo.signingAlgorithm()).isEqualTo(SigningAlgorithm.ES256);
    assertThat(c.admin().apiKeys()).containsExactly(ENV.get("ADMIN_KEY"));
    assertThat(c.admin().users()).containsExactly(
        new AdminUser(AdminUserKind.ID, "0b8f6c1e-3a0d-4c2b-9e3f-5a6b7c8d9e0f"),
        new AdminUser(AdminUserKind.UNIONID, "oUnion123"));

    ScanGateConfig other = parse(GOOD
        .replace("mode: standalone, nodes: []", "mode: sentinel, nodes: [\"redis://10.0.0.2:26379\", \"rediss://10.0.0.3:26379\"]")
        .replace("signingAlgorithm: RS256", "signingAlgorithm: eddsa")
        .replace("    signingAlgorithm: ES256\n", "")
        .replace("refreshReuseInterval: PT10S", "refreshReuseInterval: PT0S")
        .replace("\"unionid:oUnion123\"", "\"openid:o-Open_1\"")
        .replace("auditRetention: P180D", "auditRetention: P3650D"));
    assertThat(other.redis().mode()).isEqualTo(RedisMode.SENTINEL);
    assertThat(other.redis().nodes()).containsExactly("redis://10.0.0.2:26379", "rediss://10.0.0.3:26379");
    assertThat(other.tokens().signingAlgorithm()).isEqualTo(SigningAlgorithm.EDDSA);
    assertThat(other.application("demo").orElseThrow().signingAlgorithm()).as("follows tokens.signingAlgorithm")
        .isEqualTo(SigningAlgorithm.EDDSA);
    assertThat(other.tokens().refreshReuseInterval()).isZero();
    assertThat(other.admin().users()).contains(new AdminUser(AdminUserKind.OPENID, "o-Open_1"));
    assertThat(other.admin().auditRetention()).isEqualTo(Duration.ofDays(3650));
  }

  @Test
  void clusterModeTakesSeedNodes() throws Exception {
    ScanGateConfig c = parse(GOOD.replace("mode: standalone, nodes: [], masterName: \"mymaster\", ",
        "mode: cluster, nodes: [\"redis://10.0.0.2:6379\"], "));
    assertThat(c.redis().mode()).isEqualTo(RedisMode.CLUSTER);
    assertThat(c.redis().url()).isEqualTo("redis://127.0.0.1:6379");
    assertThat(c.redis().nodes()).containsExactly("redis://10.0.0.2:6379");
  }

  @Test
  void theNewerKeysReportEveryProblemAtOnce() {
    List<String> problems = problemsOf(GOOD
        .replace("metricsPort: 9090", "metricsPort: 8080")
        .replace("mode: standalone, nodes: [], masterName: \"mymaster\", ", "mode: sentinel, nodes: [\"http://x\"], ")
        .replace("signingAlgorithm: RS256", "signingAlgorithm: HS256")
        .replace("ssoSessionTtl: PT8H", "ssoSessionTtl: P31D")
        .replace("waitersPerIp: 200", "waitersPerIp: 0")
        .replace("appId: \"demo\"", "appId: \"scangate-admin\"")
        .replace("postLogoutRedirectUris: [\"https://demo.example.com/\"]", "postLogoutRedirectUris: [\"https://demo.example.com/\", \"bye\"]")
        .replace("apiKeys: [\"${ADMIN_KEY}\"]", "apiKeys: [\"tiny!secret\", \"${ADMIN_KEY}\"]")
        .replace("\"unionid:oUnion123\"", "\"alice\"")
        .replace("auditRetention: P180D", "auditRetention: PT1H"));
    assertThat(problems).containsExactlyInAnyOrder(
        "server.metricsPort: must differ from server.port",
        "redis.nodes[0]: must be a redis:// or rediss:// URL",
        "redis.masterName: is required when mode is sentinel",
        "tokens.signingAlgorithm: must be one of RS256 | ES256 | EdDSA",
        "tokens.ssoSessionTtl: must be between PT1M and PT720H",
        "rateLimits.waitersPerIp: must be a whole number from 1 to 1000000",
        "applications[0].appId: scangate-admin is reserved for the administration page",
        "applications[0].postLogoutRedirectUris[1]: must be an absolute URL",
        "admin.apiKeys[0]: must be at least 16 characters (use 32+ random characters)",
        "admin.users[1]: must be a user id (a UUID), unionid:... or openid:...",
        "admin.auditRetention: must be between PT24H and PT87600H");
    assertThat(String.join("\n", problems)).doesNotContain("tiny!secret");
  }

  @Test
  void startDevTakesShortAdminKeysButNotEmptyOnes() throws Exception {
    String shortKey = GOOD.replace("apiKeys: [\"${ADMIN_KEY}\"]", "apiKeys: [\"dev\"]");
    ScanGateConfig dev = ConfigLoader.parse(shortKey, null, ENV, ConfigLoader.Profile.dev(null, 0, () -> 8181));
    assertThat(dev.admin().apiKeys()).containsExactly("dev");
    assertThat(problemsOf(shortKey)).containsExactly("admin.apiKeys[0]: must be at least 16 characters (use 32+ random characters)");
    assertThat(assertThrows(ConfigException.class, () -> ConfigLoader.parse(GOOD.replace("${ADMIN_KEY}", ""), null, ENV,
        ConfigLoader.Profile.dev(null, 0, () -> 8181))).problems()).containsExactly("admin.apiKeys[0]: must not be empty");
  }

  @Test
  void anUnsetAdminKeyVariableIsNamedAtItsIndex() {
    assertThat(problemsOf(GOOD.replace("apiKeys: [\"${ADMIN_KEY}\"]", "apiKeys: [\"${NOT_SET_ANYWHERE}\", \"short\"]")))
        .containsExactly("admin.apiKeys[0]: environment variable NOT_SET_ANYWHERE is not set",
            "admin.apiKeys[1]: must be at least 16 characters (use 32+ random characters)");
    assertThat(problemsOf(GOOD.replace("apiKeys: [\"${ADMIN_KEY}\"]", "apiKeys: [\"${NOT_SET_ANYWHERE:-}\"]")))
        .containsExactly("admin.apiKeys[0]: must not be empty");
  }

  @Test
  void metricsPortIsComparedWithThePortTheCommandLineChose() throws Exception {
    assertThat(assertThrows(ConfigException.class, () -> ConfigLoader.parse(GOOD, null, ENV,
        ConfigLoader.Profile.dev(null, 9090, () -> 1))).problems()).containsExactly("server.metricsPort: must differ from server.port");
    ScanGateConfig c = ConfigLoader.parse(GOOD, null, ENV, ConfigLoader.Profile.dev(null, 0, () -> 9090));
    assertThat(c.server().metricsPort()).as("a free port picked for --port 0 is not the file's choice").isEqualTo(9090);
  }

  @Test
  void environmentReferencesExpandWithDefaults() throws Exception {
    ScanGateConfig c = parse(GOOD.replace("port: 8080", "port: ${PORT:-9091}")
        .replace("keyPrefix: \"scangate:\"", "keyPrefix: \"${PREFIX:-sg}:${PREFIX2:-x}:\""));
    assertThat(c.server().port()).isEqualTo(9091);
    assertThat(c.redis().keyPrefix()).isEqualTo("sg:x:");
  }

  @Test
  void anUnsetEnvironmentVariableIsNamed() {
    assertThat(problemsOf(GOOD.replace("${WECHAT_MP_SECRET}", "${NOT_SET_ANYWHERE}")))
        .containsExactly("connections[0].appSecret: environment variable NOT_SET_ANYWHERE is not set");
  }

  @Test
  void startDevDerivesPublicUrlAndTheSandboxFromTheBoundAddress() throws Exception {
    ScanGateConfig c = ConfigLoader.parse(GOOD.replace("  publicUrl: \"https://login.example.com/\"\n", "")
            .replace("wechat: { apiBaseUrl: \"https://api.weixin.qq.com\" }\n", ""),
        null, ENV, ConfigLoader.Profile.dev(null, 0, () -> 43210));
    assertThat(c.server().host()).isEqualTo("127.0.0.1");
    assertThat(c.server().port()).isEqualTo(43210);
    assertThat(c.server().publicUrl()).isEqualTo("http://127.0.0.1:43210");
    assertThat(c.wechat().apiBaseUrl()).isEqualTo("http://127.0.0.1:43210/sandbox/wechat");
    assertThat(c.tokens().issuer()).isEqualTo("http://127.0.0.1:43210");
  }

  @Test
  void startDevKeepsWhatTheFileSets() throws Exception {
    ScanGateConfig c = ConfigLoader.parse(GOOD, null, ENV, ConfigLoader.Profile.dev("127.0.0.2", 9999, () -> 1));
    assertThat(c.server().publicUrl()).isEqualTo("https://login.example.com");
    assertThat(c.wechat().apiBaseUrl()).isEqualTo("https://api.weixin.qq.com");
    assertThat(c.server().host()).isEqualTo("127.0.0.2");
    assertThat(c.server().port()).isEqualTo(9999);
  }

  @Test
  void everyProblemIsReportedAtOnce() {
    List<String> problems = problemsOf(GOOD
        .replace("port: 8080", "port: 70000")
        .replace("token: \"abcToken123\"", "token: \"a!\"")
        .replace("poolSize: 8", "poolSize: zero"));
    assertThat(problems).containsExactlyInAnyOrder(
        "server.port: must be a whole number from 0 to 65535",
        "connections[0].token: must be 3-32 characters [A-Za-z0-9]",
        "postgres.poolSize: must be a whole number from 1 to 200");
  }

  @Test
  void malformedYamlIsReportedWithItsLine() {
    assertThat(problemsOf("server:\n  port: [1,\n")).singleElement().asString().startsWith("(file): not valid YAML");
  }

  @Test
  void productionNeedsAPublicUrlAndAKeyEncryptionKey() {
    assertThat(problemsOf("tokens: {}\n")).contains(
        "server.publicUrl: is required",
        "tokens.keyEncryptionKey: is required (it encrypts signing keys at rest)");
  }

  @Test
  void theShippedExampleAndDevFilesAreValid() throws Exception {
    Map<String, String> env = Map.ofEntries(
        Map.entry("SCANGATE_KEK", "0123456789abcdef0123456789abcdef"),
        Map.entry("DEMO_APP_SECRET", "0123456789abcdef"),
        Map.entry("WECHAT_MP_APPID", "wx1234567890abcdef"),
        Map.entry("WECHAT_MP_SECRET", "s"),
        Map.entry("WECHAT_MP_TOKEN", "token123"),
        Map.entry("WECHAT_MP_AES_KEY", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"),
        Map.entry("OWNER_TOKEN", "owner123"),
        Map.entry("OWNER_AES_KEY", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"),
        Map.entry("WECHAT_MINI_APPID", "wxabcdef1234567890"),
        Map.entry("WECHAT_MINI_SECRET", "s"));
    ScanGateConfig production = ConfigLoader.load(Path.of("conf/scangate.yaml"), env, ConfigLoader.Profile.production());
    assertThat(production.connections()).hasSize(3);
    assertThat(production.redis().mode()).isEqualTo(ScanGateConfig.RedisMode.STANDALONE);
    assertThat(production.tokens().refreshReuseInterval()).isEqualTo(Duration.ofSeconds(10));
    assertThat(production.rateLimits().waitersPerIp()).isEqualTo(200);
    assertThat(production.application("demo").orElseThrow().postLogoutRedirectUris()).hasSize(1);
    assertThat(production.admin()).isEqualTo(ScanGateConfig.Admin.DEFAULT);
    ScanGateConfig dev = ConfigLoader.load(Path.of("conf/dev.yaml"), Map.of(), ConfigLoader.Profile.dev(null, 0, () -> 8181));
    assertThat(dev.server().publicUrl()).isEqualTo("http://127.0.0.1:8181");
  }

  @Test
  void everyFortyThreeCharacterKeyWeChatCanIssueIsAccepted() throws Exception {
    // WeChat keys are 43 base64 characters whose last one may carry non-zero spare bits.
    ScanGateConfig c = parse(GOOD.replace("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"));
    assertThat(c.connection("wechat-mp", ScanGateConfig.OfficialAccountConnection.class).orElseThrow().encodingAesKey()).hasSize(43);
  }

  @Test
  void plainModeMayHaveNoAesKey() throws Exception {
    ScanGateConfig c = parse(GOOD.replace("encodingAesKey: \"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG\"", "encodingAesKey: \"\"")
        .replace("messageMode: safe", "messageMode: plain"));
    assertThat(c.connection("wechat-mp", ScanGateConfig.OfficialAccountConnection.class).orElseThrow().messageMode()).isEqualTo(MessageMode.PLAIN);
  }

  static Stream<Arguments> badValues() {
    return Stream.of(
        // server
        Arguments.of("port: 8080", "port: -1", "server.port: must be a whole number from 0 to 65535"),
        Arguments.of("publicUrl: \"https://login.example.com/\"", "publicUrl: \"login.example.com\"", "server.publicUrl: must be a http:// or https:// URL"),
        Arguments.of("\"10.0.0.0/8\", \"::1\"", "\"10.0.0.0/33\"", "server.trustedProxies[0]: must be an IP address or CIDR such as 10.0.0.0/8 (prefix length must be 0-32)"),
        Arguments.of("\"10.0.0.0/8\", \"::1\"", "\"example.com\"", "server.trustedProxies[0]: must be an IP address or CIDR such as 10.0.0.0/8 (not an IP address)"),
        // stores
        Arguments.of("url: \"redis://127.0.0.1:6379\"", "url: \"http://127.0.0.1:6379\"", "redis.url: must be a redis:// or rediss:// or unix:// URL"),
        Arguments.of("keyPrefix: \"scangate:\"", "keyPrefix: \"has space\"", "redis.keyPrefix: must be at most 64 characters [A-Za-z0-9_:.{}-]"),
        Arguments.of("url: \"postgresql://postgres@127.0.0.1:5432/scangate\"", "url: \"mysql://x/y\"", "postgres.url: must be a postgres:// or postgresql:// URL"),
        Arguments.of("poolSize: 8", "poolSize: 0", "postgres.poolSize: must be a whole number from 1 to 200"),
        Arguments.of("apiBaseUrl: \"https://api.weixin.qq.com\"", "apiBaseUrl: \"ftp://x\"", "wechat.apiBaseUrl: must be a http:// or https:// URL"),
        Arguments.of("userPoolId: \"default\"", "userPoolId: \"a/b\"", "userPoolId: must be 1-64 characters [A-Za-z0-9_-]"),
        // durations and numbers
        Arguments.of("accessTokenTtl: PT2H", "accessTokenTtl: 2h", "tokens.accessTokenTtl: must be an ISO-8601 duration such as PT2M or P30D"),
        Arguments.of("idTokenTtl: PT2H", "idTokenTtl: PT0S", "tokens.idTokenTtl: must be between PT1M and PT24H"),
        Arguments.of("keyEncryptionKey: \"${KEK}\"", "keyEncryptionKey: \"\"", "tokens.keyEncryptionKey: must not be empty"),
        Arguments.of("sessionTtl: PT2M", "sessionTtl: P31D", "qr.sessionTtl: must be between PT1S and PT720H"),
        Arguments.of("maxBodyBytes: 65536", "maxBodyBytes: 10", "webhook.maxBodyBytes: must be a whole number from 1024 to 10485760"),
        Arguments.of("scansPerMinutePerUser: 30", "scansPerMinutePerUser: 0", "rateLimits.scansPerMinutePerUser: must be a whole number from 1 to 1000000"),
        // applications
        Arguments.of("appId: \"demo\"", "appId: \"de mo\"", "applications[0].appId: must be 1-64 characters [A-Za-z0-9_.-]"),
        Arguments.of("appSecret: \"${DEMO_APP_SECRET}\"", "appSecret: \"\"", "applications[0].appSecret: must not be empty"),
        Arguments.of("redirectUris: [\"https://demo.example.com/callback\"]", "redirectUris: [\"/callback\"]", "applications[0].redirectUris[0]: must be an absolute URL"),
        Arguments.of("redirectUris: [\"https://demo.example.com/callback\"]", "redirectUris: [\"https://demo.example.com/cb#x\"]", "applications[0].redirectUris[0]: must not contain a fragment"),
        Arguments.of("allowedOrigins: [\"https://demo.example.com\"]", "allowedOrigins: [\"https://demo.example.com/path\"]", "applications[0].allowedOrigins[0]: must be an origin such as https://demo.example.com"),
        Arguments.of("connections: [\"wechat-mp\", \"wechat-mini-qr\", \"wechat-mini\"]", "connections: [\"wechat-mp\", \"nope\"]", "applications[0].connections[1]: names no configured connection"),
        Arguments.of("exchangeAuth: none", "exchangeAuth: maybe", "applications[0].exchangeAuth: must be one of none | secret"),
        // connections
        Arguments.of("identifier: \"wechat-mp\"", "identifier: \"WeChat_MP\"", "connections[0].identifier: must be 1-31 characters [a-z0-9-]"),
        Arguments.of("identifier: \"wechat-mini\"\n", "identifier: \"wechat-mp\"\n", "connections[2].identifier: must be unique"),
        Arguments.of("type: wechat-mp-qrcode", "type: wechat-oauth", "connections[0].type: must be one of wechat-mp-qrcode | wechat-miniprogram-qrcode | wechat-miniprogram"),
        Arguments.of("wechatAppId: \"wx1234567890abcdef\"", "wechatAppId: \"wx 12\"", "connections[0].wechatAppId: must be 1-64 characters [A-Za-z0-9_-]"),
        Arguments.of("token: \"abcToken123\"", "token: \"ab\"", "connections[0].token: must be 3-32 characters [A-Za-z0-9]"),
        Arguments.of("token: \"abcToken123\"", "token: \"abcdefghijklmnopqrstuvwxyz0123456\"", "connections[0].token: must be 3-32 characters [A-Za-z0-9]"),
        Arguments.of("encodingAesKey: \"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG\"", "encodingAesKey: \"tooShort\"", "connections[0].encodingAesKey: must be 43 characters [A-Za-z0-9]"),
        Arguments.of("encodingAesKey: \"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG\"", "encodingAesKey: \"abcdefghijklmnopqrstuvwxyz0123456789ABCDEF+\"", "connections[0].encodingAesKey: must be 43 characters [A-Za-z0-9]"),
        Arguments.of("encodingAesKey: \"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG\"", "encodingAesKey: \"\"", "connections[0].encodingAesKey: is required unless messageMode is plain"),
        Arguments.of("messageMode: safe", "messageMode: secret", "connections[0].messageMode: must be one of plain | compatible | safe"),
        Arguments.of("confirmMode: direct", "confirmMode: maybe", "connections[0].confirmMode: must be one of direct | link"),
        Arguments.of("url: \"https://owner.example.com/wechat\"", "url: \"owner\"", "connections[0].forwardTo[0].url: must be a http:// or https:// URL"),
        Arguments.of("token: \"ownerToken\"", "token: \"o\"", "connections[0].forwardTo[0].token: must be 3-32 characters [A-Za-z0-9]"),
        Arguments.of("mode: async", "mode: later", "connections[0].forwardTo[0].mode: must be one of async | proxy"),
        Arguments.of("loginOnly: false\n          accountLinking: { mode: none", "loginOnly: perhaps\n          accountLinking: { mode: none", "connections[0].loginOnly: must be true or false"),
        Arguments.of("accountLinking: { mode: none, fields: [] }", "accountLinking: { mode: match, fields: [] }", "connections[0].accountLinking.fields: must name at least one of unionid | phone when mode is match"),
        Arguments.of("fields: [unionid, phone]", "fields: [unionid, email]", "connections[1].accountLinking.fields[1]: must be one of unionid | phone"),
        Arguments.of("qrStyle: url", "qrStyle: svg", "connections[1].qrStyle: must be one of url | wxacode"),
        Arguments.of("envVersion: release", "envVersion: beta", "connections[1].envVersion: must be one of release | trial | develop"),
        Arguments.of("name: \"abc123.txt\"", "name: \"../etc/passwd\"", "connections[1].verificationFile.name: must be a file name like abc123.txt"),
        Arguments.of("type: wechat-miniprogram\n", "type: wechat-miniprogram\n          token: \"abcToken123\"\n", "connections[2].token: only applies to type wechat-mp-qrcode"),
        Arguments.of("appSecret: \"${WECHAT_MINI_SECRET}\"\n", "appSecret: \"\"\n", "connections[1].appSecret: must not be empty"),
        Arguments.of("loginOnly: false\n          accountLinking: { mode: none", "loginonly: true\n          accountLinking: { mode: none", "connections[0].loginonly: unknown field"),
        // keys whose features come in later issues: parsed and validated now
        Arguments.of("metricsPort: 9090", "metricsPort: 0", "server.metricsPort: must be a whole number from 1 to 65535"),
        Arguments.of("metricsPort: 9090", "metricsPort: 8080", "server.metricsPort: must differ from server.port"),
        Arguments.of("headerTimeout: PT5S", "headerTimeout: PT0.5S", "server.headerTimeout: must be between PT1S and PT5M"),
        Arguments.of("mode: standalone", "mode: replication", "redis.mode: must be one of standalone | cluster | sentinel"),
        Arguments.of("nodes: []", "nodes: [\"redis://10.0.0.2:6379\"]", "redis.nodes: only applies to modes cluster and sentinel"),
        Arguments.of("mode: standalone, nodes: []", "mode: cluster, nodes: [\"10.0.0.2:6379\"]", "redis.nodes[0]: must be a redis:// or rediss:// URL"),
        Arguments.of("mode: standalone, nodes: [], masterName: \"mymaster\"", "mode: sentinel, nodes: []", "redis.masterName: is required when mode is sentinel"),
        Arguments.of("masterName: \"mymaster\"", "masterName: \"my master\"", "redis.masterName: must be 1-128 characters [A-Za-z0-9_.:-]"),
        Arguments.of("mode: standalone, nodes: [], masterName: \"mymaster\", keyPrefix: \"scangate:\"", "mode: cluster, nodes: [], keyPrefix: \"{scangate}:\"",
            "redis.keyPrefix: must not contain { or } in cluster mode (a hash tag would put every key in one slot)"),
        Arguments.of("url: \"redis://127.0.0.1:6379\", mode: standalone", "url: \"unix:///run/redis.sock\", mode: cluster", "redis.url: must be a redis:// or rediss:// URL in cluster mode"),
        Arguments.of("signingAlgorithm: RS256", "signingAlgorithm: HS256", "tokens.signingAlgorithm: must be one of RS256 | ES256 | EdDSA"),
        Arguments.of("ssoSessionTtl: PT8H", "ssoSessionTtl: PT30S", "tokens.ssoSessionTtl: must be between PT1M and PT720H"),
        Arguments.of("refreshReuseInterval: PT10S", "refreshReuseInterval: PT6M", "tokens.refreshReuseInterval: must be between PT0S and PT5M"),
        Arguments.of("refreshReuseInterval: PT10S", "refreshReuseInterval: -PT1S", "tokens.refreshReuseInterval: must be between PT0S and PT5M"),
        Arguments.of("waitersPerSession: 8", "waitersPerSession: 0", "rateLimits.waitersPerSession: must be a whole number from 1 to 10000"),
        Arguments.of("waitersPerIp: 200", "waitersPerIp: 1000001", "rateLimits.waitersPerIp: must be a whole number from 1 to 1000000"),
        Arguments.of("appId: \"demo\"", "appId: \"scangate-admin\"", "applications[0].appId: scangate-admin is reserved for the administration page"),
        Arguments.of("postLogoutRedirectUris: [\"https://demo.example.com/\"]", "postLogoutRedirectUris: \"https://demo.example.com/\"", "applications[0].postLogoutRedirectUris: must be a list"),
        Arguments.of("postLogoutRedirectUris: [\"https://demo.example.com/\"]", "postLogoutRedirectUris: [\"ftp://demo.example.com/\"]", "applications[0].postLogoutRedirectUris[0]: must be an http:// or https:// URL"),
        Arguments.of("postLogoutRedirectUris: [\"https://demo.example.com/\"]", "postLogoutRedirectUris: [\"https://demo.example.com/#bye\"]", "applications[0].postLogoutRedirectUris[0]: must not contain a fragment"),
        Arguments.of("signingAlgorithm: ES256", "signingAlgorithm: none", "applications[0].signingAlgorithm: must be one of RS256 | ES256 | EdDSA"),
        Arguments.of("apiKeys: [\"${ADMIN_KEY}\"]", "apiKeys: [\"${ADMIN_KEY}\", \"\"]", "admin.apiKeys[1]: must not be empty"),
        Arguments.of("apiKeys: [\"${ADMIN_KEY}\"]", "apiKeys: [\"${ADMIN_KEY}\", \"${ADMIN_KEY}\"]", "admin.apiKeys[1]: is listed twice"),
        Arguments.of("apiKeys: [\"${ADMIN_KEY}\"]", "apiKeys: [\"0123456789abcde\"]", "admin.apiKeys[0]: must be at least 16 characters (use 32+ random characters)"),
        Arguments.of("\"unionid:oUnion123\"", "\"unionid:\"", "admin.users[1]: must be a user id (a UUID), unionid:... or openid:..."),
        Arguments.of("\"unionid:oUnion123\"", "\"phone:13800000000\"", "admin.users[1]: must be a user id (a UUID), unionid:... or openid:..."),
        Arguments.of("\"unionid:oUnion123\"", "\"0b8f6c1e-3a0d-4c2b-9e3f-5a6b7c8d9e0f\"", "admin.users[1]: is listed twice"),
        Arguments.of("\"0B8F6C1E-3A0D-4C2B-9E3F-5A6B7C8D9E0F\"", "\"1-2-3-4-5\"", "admin.users[0]: must be a user id (a UUID), unionid:... or openid:..."),
        Arguments.of("auditRetention: P180D", "auditRetention: P3651D", "admin.auditRetention: must be between PT24H and PT87600H"),
        Arguments.of("auditRetention: P180D }", "auditRetention: P180D, superUsers: [] }", "admin.superUsers: unknown field"));
  }

  @ParameterizedTest(name = "{2}")
  @MethodSource("badValues")
  void eachRuleNamesTheField(String goodLine, String badLine, String expected) {
    // The cases are indented as in this source file; GOOD's text block lost that indentation.
    String good = goodLine.replace("\n          ", "\n    ");
    String bad = badLine.replace("\n          ", "\n    ");
    assertThat(GOOD).contains(good);
    assertThat(problemsOf(GOOD.replaceFirst(java.util.regex.Pattern.quote(good), java.util.regex.Matcher.quoteReplacement(bad))))
        .contains(expected);
  }

  @Test
  void problemMessagesNeverRepeatSecretValues() {
    List<String> problems = problemsOf(GOOD.replace("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "secretSecretSecret")
        .replace("token: \"abcToken123\"", "token: \"tiny!secret\""));
    assertThat(problems).hasSize(2);
    assertThat(String.join("\n", problems)).doesNotContain("secretSecretSecret", "tiny!secret");
  }

  @Test
  void shortApplicationAndWeChatSecretsAndAMissingLogoAreAccepted() throws Exception {
    // Short secrets of other parties and a logo that is not there are the operator's business, not a
    // reason to refuse to start (the key encryption key is ours: see startRefusesAWeakKeyEncryptionKey).
    ScanGateConfig c = ConfigLoader.parse(GOOD.replace("page: \"pages/login/index\"", "page: \"pages/login/index\"\n    logo: \"conf/no-such-logo.png\""),
        null, Map.of("KEK", "0123456789abcdef0123456789abcdef", "DEMO_APP_SECRET", "demo-secret", "WECHAT_MP_SECRET", "s",
            "WECHAT_MINI_SECRET", "s", "ADMIN_KEY", ENV.get("ADMIN_KEY")),
        ConfigLoader.Profile.production());
    assertThat(c.application("demo").orElseThrow().appSecret()).isEqualTo("demo-secret");
    assertThat(c.connection("wechat-mini-qr", ScanGateConfig.MiniProgramQrConnection.class).orElseThrow().logo()).hasFileName("no-such-logo.png");
  }

  @Test
  void startDevNeedsNoKeyEncryptionKeyButStartDoes() throws Exception {
    String noKek = "connections:\n  - { identifier: \"mini\", type: wechat-miniprogram, wechatAppId: \"wx1\", appSecret: \"s\" }\n"
        + "applications:\n  - { appId: \"a\" }\n";
    ScanGateConfig dev = ConfigLoader.parse(noKek, null, Map.of(), ConfigLoader.Profile.dev(null, 0, () -> 8080));
    assertThat(dev.tokens().keyEncryptionKey()).isEqualTo(ConfigLoader.DEV_KEY_ENCRYPTION_KEY);
    assertThat(problemsOf("server: { publicUrl: \"https://x.example.com\" }\n" + noKek))
        .containsExactly("tokens.keyEncryptionKey: is required (it encrypts signing keys at rest)");
  }

  @Test
  void startRefusesAWeakKeyEncryptionKey() throws Exception {
    String thirtyOne = "0123456789abcdef0123456789abcde";
    assertThat(problemsOf(GOOD.replace("${KEK}", thirtyOne)))
        .containsExactly("tokens.keyEncryptionKey: must be at least 32 characters");
    assertThat(problemsOf(GOOD.replace("${KEK}", ConfigLoader.DEV_KEY_ENCRYPTION_KEY)))
        .containsExactly("tokens.keyEncryptionKey: must not be start-dev's built-in key (it is public)");
    assertThat(parse(GOOD.replace("${KEK}", thirtyOne + "f")).tokens().keyEncryptionKey()).hasSize(32);
    ScanGateConfig dev = ConfigLoader.parse(GOOD.replace("${KEK}", "short"), null, ENV, ConfigLoader.Profile.dev(null, 0, () -> 8181));
    assertThat(dev.tokens().keyEncryptionKey()).as("start-dev protects nothing real").isEqualTo("short");
  }

  @Test
  void aMissingFileIsAClearProblem() {
    assertThatThrownBy(() -> ConfigLoader.load(Path.of("/no/such/file.yaml"), ENV, ConfigLoader.Profile.production()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("/no/such/file.yaml: cannot read the configuration file");
  }
}
