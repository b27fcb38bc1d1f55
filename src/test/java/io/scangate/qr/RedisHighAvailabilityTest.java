package io.scangate.qr;

import io.scangate.ScanGate;
import io.scangate.config.ScanGateConfig;
import io.scangate.testing.Gateways;
import io.scangate.testing.LocalRedis;
import io.scangate.testing.SseClient;
import io.scangate.testing.TestConfigs;
import io.scangate.testing.TestHttp;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static io.scangate.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The whole QR login on a real Redis Cluster (3 primaries, 3 replicas) and a real Sentinel set
 * (1 primary, 1 replica, 3 sentinels), started by the test on its own ports; and the login of a
 * waiting browser surviving the loss of the primary that holds its session. A cluster refuses a
 * script that touches a key in another slot than its declared keys, so these tests also fail
 * when a script touches an undeclared key (see also ScriptKeysTest).
 */
@ExtendWith(VertxExtension.class)
class RedisHighAvailabilityTest {

  private static final String YAML = MiniProgramQrLoginTest.YAML;
  private final Gateways gateways = new Gateways();
  private LocalRedis redis;

  @AfterEach
  void stop() {
    gateways.closeAll();
    if (redis != null) redis.close();
  }

  static String clusterYaml(List<Integer> ports) {
    List<String> urls = LocalRedis.urls(ports);
    return YAML.replace("  url: \"${TEST_REDIS_URL}\"\n", "  url: \"" + urls.get(0) + "\"\n  mode: cluster\n  nodes: ["
        + urls.subList(1, urls.size()).stream().map(u -> "\"" + u + "\"").collect(Collectors.joining(", ")) + "]\n");
  }

  static String sentinelYaml(List<Integer> sentinelPorts) {
    List<String> urls = LocalRedis.urls(sentinelPorts);
    return YAML.replace("  url: \"${TEST_REDIS_URL}\"\n", "  url: \"" + urls.get(0) + "\"\n  mode: sentinel\n  masterName: \"ha\"\n  nodes: ["
        + urls.subList(1, urls.size()).stream().map(u -> "\"" + u + "\"").collect(Collectors.joining(", ")) + "]\n");
  }

  @Test
  void theWholeQrLoginWorksOnARedisCluster(Vertx vertx) throws Exception {
    redis = LocalRedis.cluster();
    wholeLogin(vertx, clusterYaml(redis.ports()));
  }

  @Test
  void theWholeQrLoginWorksOnASentinelSet(Vertx vertx) throws Exception {
    redis = LocalRedis.sentinels("ha");
    wholeLogin(vertx, sentinelYaml(redis.sentinelPorts()));
  }

  @Test
  void aWaitingBrowserIsToldOfItsConfirmAfterAClusterFailover(Vertx vertx) throws Exception {
    redis = LocalRedis.cluster();
    Map<String, String> env = TestConfigs.testEnv();
    String yaml = clusterYaml(redis.ports());
    ScanGateConfig config = TestConfigs.parse(yaml, env);
    survivesFailover(vertx, config, sessionKey -> {
      int primary = holderOf(sessionKey);
      redis.kill(primary);
      int survivor = redis.ports().get(0);
      // The replica takes over once the others mark the primary failed (node timeout 2 s).
      redis.await(survivor, "CLUSTER INFO", out -> out.contains("cluster_state:ok"), 60_000);
    });
  }

  @Test
  void aWaitingBrowserIsToldOfItsConfirmAfterASentinelFailover(Vertx vertx) throws Exception {
    redis = LocalRedis.sentinels("ha");
    ScanGateConfig config = TestConfigs.parse(sentinelYaml(redis.sentinelPorts()), TestConfigs.testEnv());
    int primary = redis.ports().get(0);
    int replica = redis.ports().get(1);
    survivesFailover(vertx, config, sessionKey -> {
      redis.kill(primary);
      for (int sentinel : redis.sentinelPorts()) {
        redis.await(sentinel, "SENTINEL GET-MASTER-ADDR-BY-NAME ha", out -> out.contains(Integer.toString(replica)), 60_000);
      }
      redis.await(replica, "ROLE", out -> out.startsWith("master"), 30_000);
    });
  }

  interface Failover {
    void run(String sessionKey) throws Exception;
  }

  /** The primary of a cluster that holds {@code key}: the one that answers EXISTS with 1 rather than MOVED. */
  private int holderOf(String key) throws Exception {
    for (int port : redis.ports()) {
      if (redis.cli(port, "ROLE").startsWith("master") && redis.cli(port, "EXISTS", key).trim().equals("1")) return port;
    }
    throw new IllegalStateException("no primary holds " + key);
  }

  private void survivesFailover(Vertx vertx, ScanGateConfig config, Failover failover) throws Exception {
    ScanGate a = gateways.start(vertx, config);
    ScanGate b = gateways.start(vertx, config);
    WebClient browser = TestHttp.client(vertx, b.port());
    WebClient phone = TestHttp.client(vertx, a.port());
    JsonObject session = MiniProgramQrLoginTest.createSession(browser, "demo");
    String id = session.getString("sessionId");
    String scene = session.getString("scene");
    try (SseClient sse = new SseClient(vertx, b.port(), "/api/v1/qr/sessions/" + id + "/events")) {
      sse.awaitEvents(1);
      JsonObject codes = MiniProgramQrLoginTest.wxLogin(phone, "o-ha", "u-ha", null);
      JsonObject scanned = MiniProgramQrLoginTest.scan(phone, scene, codes.getString("code"));
      sse.awaitEvents(2);
      // Replication is asynchronous: let the replica have the SCANNED state before its primary dies.
      Thread.sleep(500);

      failover.run(config.redis().keyPrefix() + "{" + QrIds.tagOf(id) + "}:qr:session:" + id);

      // While the gateway reconnects, a call may answer 503 (never hang); the phone retries, as a user would.
      HttpResponse<Buffer> confirmed = null;
      long deadline = System.currentTimeMillis() + 60_000;
      while (System.currentTimeMillis() < deadline) {
        confirmed = MiniProgramQrLoginTest.post(phone, "/api/v1/miniprogram/qr/" + scene + "/confirm",
            new JsonObject().put("scanToken", scanned.getString("scanToken")));
        if (confirmed.statusCode() != 503) break;
        assertThat(confirmed.bodyAsJsonObject().getString("error")).isEqualTo("service_unavailable");
        Thread.sleep(200);
      }
      assertThat(confirmed.statusCode()).as(confirmed.bodyAsString()).isEqualTo(200);

      sse.awaitEnd();
      List<String> statuses = sse.events().stream().map(e -> e.json().getString("status")).toList();
      assertThat(statuses).containsExactly("PENDING", "SCANNED", "CONFIRMED");
      String ticket = sse.events().get(2).json().getString("ticket");
      HttpResponse<Buffer> exchanged = MiniProgramQrLoginTest.post(browser, "/api/v1/qr/exchange", new JsonObject().put("ticket", ticket));
      assertThat(exchanged.statusCode()).as(exchanged.bodyAsString()).isEqualTo(200);
    }
  }

  /** Create and wait on B, scan and confirm on A, exchange, verify, revoke, and B refuses the revoked token. */
  private void wholeLogin(Vertx vertx, String yaml) throws Exception {
    ScanGateConfig config = TestConfigs.parse(yaml, TestConfigs.testEnv());
    ScanGate a = gateways.start(vertx, config);
    ScanGate b = gateways.start(vertx, config);
    WebClient browser = TestHttp.client(vertx, b.port());
    WebClient phone = TestHttp.client(vertx, a.port());

    // Many sessions, so that their keys land on every primary of a cluster.
    for (int i = 0; i < 20; i++) MiniProgramQrLoginTest.createSession(browser, "demo");
    JsonObject session = MiniProgramQrLoginTest.createSession(browser, "demo");
    String id = session.getString("sessionId");
    String scene = session.getString("scene");
    try (SseClient sse = new SseClient(vertx, b.port(), "/api/v1/qr/sessions/" + id + "/events")) {
      sse.awaitEvents(1);
      JsonObject codes = MiniProgramQrLoginTest.wxLogin(phone, "o-ha", "u-ha", "13800138000");
      JsonObject scanned = MiniProgramQrLoginTest.scan(phone, scene, codes.getString("code"));
      HttpResponse<Buffer> confirmed = MiniProgramQrLoginTest.post(phone, "/api/v1/miniprogram/qr/" + scene + "/confirm",
          new JsonObject().put("scanToken", scanned.getString("scanToken")).put("phoneCode", codes.getString("phoneCode")));
      assertThat(confirmed.statusCode()).as(confirmed.bodyAsString()).isEqualTo(200);
      sse.awaitEnd();
      assertThat(sse.events()).extracting(e -> e.json().getString("status")).containsExactly("PENDING", "SCANNED", "CONFIRMED");
      String ticket = sse.events().get(2).json().getString("ticket");

      HttpResponse<Buffer> exchanged = MiniProgramQrLoginTest.post(phone, "/api/v1/qr/exchange", new JsonObject().put("ticket", ticket));
      assertThat(exchanged.statusCode()).as(exchanged.bodyAsString()).isEqualTo(200);
      assertThat(exchanged.bodyAsJsonObject().getJsonObject("user").getString("phone")).isEqualTo("13800138000");
      String access = exchanged.bodyAsJsonObject().getJsonObject("tokens").getString("access_token");
      assertThat(MiniProgramQrLoginTest.post(browser, "/api/v1/qr/exchange", new JsonObject().put("ticket", ticket)).statusCode())
          .isEqualTo(400);

      assertThat(verify(browser, access)).isEqualTo(200);
      HttpResponse<Buffer> revoked = await(phone.post("/oidc/token/revocation")
          .putHeader("Authorization", "Basic " + Base64.getEncoder().encodeToString(
              "demo:demo-app-secret-for-tests".getBytes(StandardCharsets.UTF_8)))
          .sendForm(MultiMap.caseInsensitiveMultiMap().add("token", access)));
      assertThat(revoked.statusCode()).as(revoked.bodyAsString()).isEqualTo(200);
      long deadline = System.currentTimeMillis() + 15_000;
      while (verify(browser, access) != 401 && System.currentTimeMillis() < deadline) Thread.sleep(50);
      assertThat(verify(browser, access)).as("the other instance hears of the revocation").isEqualTo(401);
    }

    // An expired session is swept and pushed on these servers too. (Gateways in one Vert.x share
    // its event bus, so the instances of another configuration go first.)
    gateways.closeAll();
    ScanGate c = gateways.start(vertx, TestConfigs.parse(yaml + "qr: { sessionTtl: PT2S }\n", TestConfigs.testEnv()));
    JsonObject expiring = MiniProgramQrLoginTest.createSession(TestHttp.client(vertx, c.port()), "demo");
    try (SseClient sse = new SseClient(vertx, c.port(), "/api/v1/qr/sessions/" + expiring.getString("sessionId") + "/events")) {
      assertThat(sse.status()).isEqualTo(200);
      sse.awaitEnd();
      assertThat(sse.events()).extracting(e -> e.json().getString("status")).containsExactly("PENDING", "EXPIRED");
    }
  }

  private static int verify(WebClient client, String access) throws Exception {
    return await(client.get("/auth/verify").putHeader("Authorization", "Bearer " + access).send()).statusCode();
  }
}
