package io.scangate.testing;

import io.scangate.config.ConfigException;
import io.scangate.config.ConfigLoader;
import io.scangate.config.ScanGateConfig;
import io.scangate.dev.FreePort;

import java.util.HashMap;
import java.util.Map;

/**
 * Configurations for tests: the standard test file below (sandbox WeChat apps, one demo
 * application), on the test servers, with a fresh database and key prefix each time.
 */
public final class TestConfigs {

  /** Like conf/dev.yaml, with every connection type and a secret-authenticated second application. */
  public static final String STANDARD_YAML = """
      server:
        trustedProxies: ["127.0.0.1/32"]
      redis:
        url: "${TEST_REDIS_URL}"
        keyPrefix: "${TEST_KEY_PREFIX}"
      postgres:
        url: "${TEST_POSTGRES_URL}"
        poolSize: 4
      tokens:
        keyEncryptionKey: "test-key-encryption-key-0123456789abcdef"
      applications:
        - appId: "demo"
          appSecret: "demo-app-secret-for-tests"
          name: "Demo site"
          redirectUris: ["http://127.0.0.1/callback"]
          callbackUrl: "http://127.0.0.1:9/callback"
          allowedOrigins: ["http://127.0.0.1:9"]
        - appId: "backend"
          appSecret: "backend-app-secret-for-tests"
          name: "Backend-exchanged site"
          redirectUris: ["https://backend.example.com/callback"]
          connections: ["wechat-mini-qr"]
          exchangeAuth: secret
      connections:
        - identifier: "wechat-mp"
          type: wechat-mp-qrcode
          wechatAppId: "wxtestmp00000001"
          appSecret: "test-mp-secret-000001"
          token: "testToken123"
          encodingAesKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
          messageMode: safe
        - identifier: "wechat-mini-qr"
          type: wechat-miniprogram-qrcode
          wechatAppId: "wxtestmini000001"
          appSecret: "test-mini-secret-000001"
          accountLinking: { mode: match, fields: [unionid, phone] }
        - identifier: "wechat-mini"
          type: wechat-miniprogram
          wechatAppId: "wxtestmini000001"
          appSecret: "test-mini-secret-000001"
          accountLinking: { mode: match, fields: [unionid, phone] }
      """;

  private TestConfigs() {}

  /** The standard test configuration on a fresh database, a fresh key prefix and a free port. */
  public static ScanGateConfig standard() {
    return parse(STANDARD_YAML);
  }

  /**
   * Parses {@code yaml} as start-dev would (loopback, free port, sandbox as WeChat), with
   * {@code ${TEST_REDIS_URL}}, {@code ${TEST_POSTGRES_URL}} and {@code ${TEST_KEY_PREFIX}} filled
   * in for a fresh database and key prefix.
   */
  public static ScanGateConfig parse(String yaml) {
    return parse(yaml, testEnv());
  }

  public static ScanGateConfig parse(String yaml, Map<String, String> env) {
    try {
      return ConfigLoader.parse(yaml, null, env, ConfigLoader.Profile.dev(null, 0, FreePort::find));
    } catch (ConfigException e) {
      throw new IllegalArgumentException("test configuration is invalid:\n" + e.getMessage(), e);
    }
  }

  public static Map<String, String> testEnv() {
    Map<String, String> env = new HashMap<>();
    env.put("TEST_REDIS_URL", TestServers.redisUrl());
    env.put("TEST_POSTGRES_URL", TestServers.freshDatabaseUrl());
    env.put("TEST_KEY_PREFIX", TestServers.freshKeyPrefix());
    return env;
  }

  /**
   * The {@code applications} and {@code connections} sections of a webhook test: the application
   * {@code demo} and one Official Account connection per message mode ({@code mp-safe},
   * {@code mp-compat}, {@code mp-plain}) with the given EncodingAESKeys.
   */
  public static String officialAccountsInEveryMode(String safeKey, String compatibleKey) {
    return """
      applications:
        - appId: "demo"
          appSecret: "demo-app-secret-for-tests"
          name: "Demo"
          redirectUris: ["http://127.0.0.1/callback"]
      connections:
        - identifier: "mp-safe"
          type: wechat-mp-qrcode
          wechatAppId: "wxmpsafe0000001"
          appSecret: "secret-safe-0001"
          token: "tokenSafe1"
          encodingAesKey: "%s"
          messageMode: safe
        - identifier: "mp-compat"
          type: wechat-mp-qrcode
          wechatAppId: "wxmpcompat00001"
          appSecret: "secret-compat-0001"
          token: "tokenCompat1"
          encodingAesKey: "%s"
          messageMode: compatible
        - identifier: "mp-plain"
          type: wechat-mp-qrcode
          wechatAppId: "wxmpplain000001"
          appSecret: "secret-plain-0001"
          token: "tokenPlain1"
          messageMode: plain
        """.formatted(safeKey, compatibleKey);
  }
}
