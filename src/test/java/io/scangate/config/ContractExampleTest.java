package io.scangate.config;

import io.scangate.ScanGate;
import io.scangate.config.ScanGateConfig.RedisSettings;
import io.scangate.config.ScanGateConfig.SigningAlgorithm;
import io.scangate.dev.FreePort;
import io.scangate.testing.Gateways;
import io.scangate.testing.TestHttp;
import io.scangate.testing.TestServers;
import io.vertx.core.Vertx;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.scangate.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * CONTRACT section 1: "Every key of the example in section 2 is accepted and validated by every
 * command." The example is read from the contract itself (the {@code shared} folder beside the
 * project), verbatim, with only its {@code ${...}} variables set, and a gateway starts on it.
 */
@ExtendWith(VertxExtension.class)
class ContractExampleTest {

  static final Path CONTRACT = Path.of("..", "shared", "CONTRACT.md");

  /** Values for the example's ${...} references, each valid for its field. */
  static final Map<String, String> ENV = Map.ofEntries(
      Map.entry("SCANGATE_KEK", "contract-example-key-encryption-key-0123456789"),
      Map.entry("DEMO_APP_SECRET", "demo-app-secret-0123456789"),
      Map.entry("WECHAT_MP_SECRET", "mp-secret-0123456789"),
      Map.entry("WECHAT_MP_TOKEN", "mpToken123"),
      Map.entry("WECHAT_MP_AES_KEY", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"),
      Map.entry("OWNER_TOKEN", "ownerToken123"),
      Map.entry("OWNER_AES_KEY", "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut"),
      Map.entry("WECHAT_MINI_SECRET", "mini-secret-0123456789"),
      Map.entry("WECHAT_VERIFY_CONTENT", "0123456789abcdef0123456789abcdef"),
      Map.entry("SCANGATE_ADMIN_KEY", "contract-example-admin-api-key-0123456789"));

  private final Gateways gateways = new Gateways();

  @AfterEach
  void closeGateways() {
    gateways.closeAll();
  }

  /** The first ```yaml block after the "## 2." heading, as written. */
  static String sectionTwoExample() throws IOException {
    if (!Files.isReadable(CONTRACT)) {
      throw new AssertionError("the contract is not at " + CONTRACT.toAbsolutePath().normalize()
          + ": this test reads its section 2 example (the shared folder must sit beside the project)");
    }
    String text = Files.readString(CONTRACT);
    int section = text.indexOf("\n## 2.");
    assertThat(section).as("CONTRACT.md has a '## 2.' section").isNotNegative();
    int start = text.indexOf("```yaml\n", section);
    assertThat(start).as("section 2 has a ```yaml block").isNotNegative();
    start += "```yaml\n".length();
    int end = text.indexOf("\n```", start);
    assertThat(end).as("the ```yaml block is closed").isPositive();
    return text.substring(start, end + 1);
  }

  @Test
  void everyVariableOfTheExampleIsSetHere() throws Exception {
    Matcher m = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(:-[^}]*)?}").matcher(sectionTwoExample());
    TreeSet<String> referenced = new TreeSet<>();
    while (m.find()) if (m.group(2) == null) referenced.add(m.group(1));
    assertThat(ENV.keySet()).containsAll(referenced);
  }

  @Test
  void theExampleLoadsInProductionWithEveryKey() throws Exception {
    ScanGateConfig c = ConfigLoader.parse(sectionTwoExample(), null, ENV, ConfigLoader.Profile.production());
    assertThat(c.server().port()).isEqualTo(8080);
    assertThat(c.server().metricsPort()).isEqualTo(9090);
    assertThat(c.redis().mode()).isEqualTo(ScanGateConfig.RedisMode.STANDALONE);
    assertThat(c.redis().masterName()).isEqualTo("mymaster");
    assertThat(c.tokens().signingAlgorithm()).isEqualTo(SigningAlgorithm.RS256);
    assertThat(c.tokens().ssoSessionTtl()).isEqualTo(Duration.ofHours(8));
    assertThat(c.tokens().refreshReuseInterval()).isEqualTo(Duration.ofSeconds(10));
    assertThat(c.rateLimits().waitersPerSession()).isEqualTo(8);
    assertThat(c.rateLimits().waitersPerIp()).isEqualTo(200);
    var demo = c.application("demo").orElseThrow();
    assertThat(demo.postLogoutRedirectUris()).containsExactly("https://demo.example.com/");
    assertThat(demo.signingAlgorithm()).isEqualTo(SigningAlgorithm.RS256);
    assertThat(c.admin().apiKeys()).containsExactly(ENV.get("SCANGATE_ADMIN_KEY"));
    assertThat(c.admin().users()).isEmpty();
    assertThat(c.admin().auditRetention()).isEqualTo(Duration.ofDays(180));
    assertThat(c.connections()).hasSize(3);
    var miniQr = c.connection("wechat-mini-qr", ScanGateConfig.MiniProgramQrConnection.class).orElseThrow();
    assertThat(miniQr.logo()).as("the example's logo ships in the repository").isRegularFile();
    assertThat(miniQr.verificationFile().content()).isEqualTo(ENV.get("WECHAT_VERIFY_CONTENT"));
    assertThat(c.connection("wechat-mp", ScanGateConfig.OfficialAccountConnection.class).orElseThrow().forwardTo())
        .hasSize(1);
  }

  @Test
  void aProductionGatewayStartsOnTheExample(Vertx vertx) throws Exception {
    // As `start` reads it; only the bound address is chosen here, as start-dev's --host/--port would.
    var profile = new ConfigLoader.Profile(false, "127.0.0.1", 0, FreePort::find);
    ScanGateConfig config = onTestServers(ConfigLoader.parse(sectionTwoExample(), null, ENV, profile));
    ScanGate gateway = await(ScanGate.start(vertx, config, ScanGate.Options.production(null)));
    try {
      assertReady(vertx, gateway);
    } finally {
      await(gateway.close());
    }
  }

  @Test
  void aStartDevGatewayStartsOnTheExample(Vertx vertx) throws Exception {
    var profile = ConfigLoader.Profile.dev(null, 0, FreePort::find);
    ScanGateConfig config = onTestServers(ConfigLoader.parse(sectionTwoExample(), null, ENV, profile));
    assertThat(config.server().host()).isEqualTo("127.0.0.1");
    assertReady(vertx, gateways.start(vertx, config));
  }

  /** The example's servers are the test servers, with a fresh database and key prefix (mode, nodes and master kept). */
  private static ScanGateConfig onTestServers(ScanGateConfig c) {
    RedisSettings r = c.redis();
    return c.withServers(new RedisSettings(TestServers.redisUrl(), TestServers.freshKeyPrefix(), r.mode(), r.nodes(), r.masterName()),
        TestServers.freshDatabaseUrl());
  }

  private static void assertReady(Vertx vertx, ScanGate gateway) {
    WebClient http = TestHttp.client(vertx, gateway.port());
    var ready = await(http.get("/health/ready").send());
    assertThat(ready.statusCode()).as(ready.bodyAsString()).isEqualTo(200);
  }
}
