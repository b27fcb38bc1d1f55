package io.scangate.sandbox;

import io.scangate.ScanGate;
import io.scangate.config.ScanGateConfig;
import io.scangate.dev.FreePort;
import io.scangate.testing.TestConfigs;
import io.scangate.testing.TestHttp;
import io.scangate.wechat.WeChatClient;
import io.scangate.wechat.WeChatMessageCrypto;
import io.scangate.wechat.WeChatXml;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * mp/scan pushes a subscribe/SCAN event signed and encrypted as WeChat would, for each message
 * mode. The webhook is not part of this capability: a receiver of our own, at the webhook's path,
 * checks every push with WeChatMessageCrypto the way the real webhook will.
 */
@ExtendWith(VertxExtension.class)
class SandboxMpScanTest {

  static final String KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
  static final String YAML = """
      server:
        publicUrl: "http://127.0.0.1:${RECEIVER_PORT}"
      redis: { url: "${TEST_REDIS_URL}", keyPrefix: "${TEST_KEY_PREFIX}" }
      postgres: { url: "${TEST_POSTGRES_URL}", poolSize: 2 }
      userPoolId: "pool1"
      tokens: { keyEncryptionKey: "test-key-encryption-key-0123456789abcdef" }
      """ + TestConfigs.officialAccountsInEveryMode(KEY, "z".repeat(43));

  ScanGate gateway;
  HttpServer receiver;
  WebClient http;
  final Map<String, JsonObject> received = new ConcurrentHashMap<>();
  final java.util.concurrent.atomic.AtomicInteger unanswered = new java.util.concurrent.atomic.AtomicInteger();
  final java.util.concurrent.atomic.AtomicInteger attempts = new java.util.concurrent.atomic.AtomicInteger();

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    int receiverPort = FreePort.find();
    Map<String, String> env = TestConfigs.testEnv();
    env.put("RECEIVER_PORT", String.valueOf(receiverPort));
    ScanGateConfig config = TestConfigs.parse(YAML, env);
    Router router = Router.router(vertx);
    router.route().handler(BodyHandler.create());
    router.post("/connections/social/:identifier/:pool/events").handler(ctx -> receive(ctx, config));
    receiver = vertx.createHttpServer().requestHandler(router).listen(receiverPort, "127.0.0.1").await(10, TimeUnit.SECONDS);
    gateway = ScanGate.start(vertx, config, ScanGate.Options.dev(null)).await(60, TimeUnit.SECONDS);
    http = TestHttp.client(vertx, gateway.port());
  }

  @AfterEach
  void stop() throws Exception {
    SandboxRoutes.webhookTimeout(Duration.ofSeconds(5));
    http.close();
    gateway.close().await(30, TimeUnit.SECONDS);
    receiver.close().await(10, TimeUnit.SECONDS);
  }

  /** What the webhook will do: verify the signature(s), decrypt, and answer (an encrypted reply in safe mode). */
  private void receive(RoutingContext ctx, ScanGateConfig config) {
    attempts.incrementAndGet();
    if (unanswered.getAndDecrement() > 0) return; // as a webhook that holds a push: no answer at all
    var c = config.connection(ctx.pathParam("identifier"), ScanGateConfig.OfficialAccountConnection.class).orElseThrow();
    var q = ctx.queryParams();
    String body = ctx.body().asString();
    boolean encrypted = c.messageMode() != ScanGateConfig.MessageMode.PLAIN;
    var crypto = new WeChatMessageCrypto(c.token(), encrypted ? c.encodingAesKey() : null, c.wechatAppId());
    JsonObject record = new JsonObject().put("pool", ctx.pathParam("pool")).put("contentType", ctx.request().getHeader("Content-Type"))
        .put("signatureValid", crypto.verify(q.get("signature"), q.get("timestamp"), q.get("nonce")))
        .put("openid", q.get("openid")).put("encryptType", q.get("encrypt_type")).put("rawFields", new JsonObject(new java.util.HashMap<>(WeChatXml.parse(body))));
    String message = encrypted ? crypto.decryptEnvelope(q.get("msg_signature"), q.get("timestamp"), q.get("nonce"), body) : body;
    record.put("fields", new JsonObject(new java.util.HashMap<>(WeChatXml.parse(message))));
    received.put(c.identifier(), record);
    String reply = WeChatXml.build(new java.util.LinkedHashMap<>(Map.of("ToUserName", q.get("openid"), "MsgType", "text", "Content", "welcome")));
    if (c.messageMode() == ScanGateConfig.MessageMode.SAFE) {
      ctx.response().putHeader("Content-Type", "application/xml").end(crypto.encryptedReply(reply, q.get("timestamp"), q.get("nonce")));
    } else {
      ctx.response().end("success");
    }
  }

  @org.junit.jupiter.api.Test
  void scanRetriesAPushThatGetsNoAnswerLikeWeChat() throws Exception {
    SandboxRoutes.webhookTimeout(Duration.ofMillis(500));
    var connection = gateway.infrastructure().config().connection("mp-safe").orElseThrow();
    WeChatClient client = new WeChatClient(gateway.infrastructure());
    WeChatClient.QrTicket qr = client.createQrCode(connection, "retried", Duration.ofMinutes(5)).await(20, TimeUnit.SECONDS);
    unanswered.set(2);
    var r = http.post("/sandbox/control/mp/scan").sendJsonObject(new JsonObject().put("connection", "mp-safe")
        .put("qrContent", qr.url()).put("openid", "oRetried").put("subscribe", false)).await(20, TimeUnit.SECONDS);
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
    assertThat(r.bodyAsJsonObject().getInteger("status")).isEqualTo(200);
    assertThat(attempts.get()).as("two tries without an answer, the third answered").isEqualTo(3);

    attempts.set(0);
    unanswered.set(3);
    r = http.post("/sandbox/control/mp/scan").sendJsonObject(new JsonObject().put("connection", "mp-safe")
        .put("qrContent", qr.url()).put("openid", "oRetried").put("subscribe", false)).await(20, TimeUnit.SECONDS);
    assertThat(r.statusCode()).isEqualTo(502);
    assertThat(r.bodyAsJsonObject().getString("error")).isEqualTo("webhook_unreachable");
    assertThat(attempts.get()).as("WeChat gives up after three tries").isEqualTo(3);
  }

  @ParameterizedTest
  @CsvSource({"mp-safe, true", "mp-compat, false", "mp-plain, true", "mp-plain, false"})
  void scanPushesTheEventAsWeChatDoes(String identifier, boolean subscribe) throws Exception {
    var connection = gateway.infrastructure().config().connection(identifier).orElseThrow();
    WeChatClient client = new WeChatClient(gateway.infrastructure());
    WeChatClient.QrTicket qr = client.createQrCode(connection, "sceneFor_" + identifier.replace('-', '_'), Duration.ofMinutes(5))
        .await(20, TimeUnit.SECONDS);

    var r = http.post("/sandbox/control/mp/scan").sendJsonObject(new JsonObject().put("connection", identifier)
        .put("qrContent", qr.url()).put("openid", "oScanner42").put("unionid", "uScanner42").put("subscribe", subscribe))
        .await(20, TimeUnit.SECONDS);
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
    JsonObject answer = r.bodyAsJsonObject();
    assertThat(answer.getInteger("status")).isEqualTo(200);

    JsonObject push = received.get(identifier);
    assertThat(push).as("the receiver got the push").isNotNull();
    assertThat(push.getString("pool")).isEqualTo("pool1");
    assertThat(push.getBoolean("signatureValid")).isTrue();
    assertThat(push.getString("openid")).isEqualTo("oScanner42");
    assertThat(push.getString("contentType")).startsWith("text/xml");
    JsonObject fields = push.getJsonObject("fields");
    assertThat(fields.getString("MsgType")).isEqualTo("event");
    assertThat(fields.getString("FromUserName")).isEqualTo("oScanner42");
    assertThat(fields.getString("ToUserName")).startsWith("gh_");
    assertThat(fields.getString("CreateTime")).matches("[0-9]{10}");
    assertThat(fields.getString("Ticket")).isEqualTo(qr.ticket());
    String scene = "sceneFor_" + identifier.replace('-', '_');
    if (subscribe) {
      assertThat(fields.getString("Event")).isEqualTo("subscribe");
      assertThat(fields.getString("EventKey")).isEqualTo("qrscene_" + scene);
    } else {
      assertThat(fields.getString("Event")).isEqualTo("SCAN");
      assertThat(fields.getString("EventKey")).isEqualTo(scene);
    }
    JsonObject raw = push.getJsonObject("rawFields");
    switch (identifier) {
      case "mp-safe" -> {
        assertThat(push.getString("encryptType")).isEqualTo("aes");
        assertThat(raw.fieldNames()).containsExactlyInAnyOrder("ToUserName", "Encrypt");
        assertThat(answer.getString("reply")).contains("welcome");
      }
      case "mp-compat" -> {
        assertThat(push.getString("encryptType")).isEqualTo("aes");
        assertThat(raw.getString("Event")).isEqualTo(fields.getString("Event"));
        assertThat(raw.getString("Encrypt")).isNotBlank();
        assertThat(answer.getString("body")).isEqualTo("success");
      }
      default -> {
        assertThat(push.getString("encryptType")).isNull();
        assertThat(raw.containsKey("Encrypt")).isFalse();
        assertThat(answer.getString("body")).isEqualTo("success");
      }
    }
    // user/info now knows the scanner's unionid.
    assertThat(client.userInfo(connection, "oScanner42").await(20, TimeUnit.SECONDS).getString("unionid")).isEqualTo("uScanner42");
  }
}
