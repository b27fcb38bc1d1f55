package io.scangate.webhook;

import io.scangate.config.ScanGateConfig;
import io.scangate.dev.FreePort;
import io.scangate.http.HttpVerticle;
import io.scangate.redis.RedisClients;
import io.scangate.redis.RedisKeys;
import io.scangate.testing.TestConfigs;
import io.scangate.testing.TestHttp;
import io.scangate.webhook.Pushes.Mode;
import io.scangate.webhook.Pushes.Push;
import io.scangate.wechat.WeChatMessageCrypto;
import io.scangate.wechat.WeChatXml;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import io.vertx.redis.client.Redis;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static io.scangate.testing.Await.await;
import static io.scangate.testing.Await.failure;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The login seam ({@link PushReactor}): its passive reply goes back encrypted with WeChat's reply
 * envelope (in plain text in plain mode), and a failure leaves the push unanswered and forgotten,
 * so WeChat's retry is processed. Runs the webhook's own verticles with a reactor of the test's.
 */
@ExtendWith(VertxExtension.class)
class WebhookReplyTest {

  final AtomicBoolean failing = new AtomicBoolean();
  final AtomicInteger calls = new AtomicInteger();
  final List<JsonObject> events = new CopyOnWriteArrayList<>();
  Redis redis;
  WebClient http;

  @BeforeEach
  void start(Vertx vertx) {
    ScanGateConfig config = TestConfigs.parse(WebhookTest.YAML);
    redis = RedisClients.create(vertx, config.redis());
    PushReactor reactor = event -> {
      calls.incrementAndGet();
      if (failing.get()) return Future.failedFuture(new IllegalStateException("login flow unavailable"));
      String reply = WeChatXml.build(new java.util.LinkedHashMap<>(Map.of("ToUserName", event.getString("openid"),
          "FromUserName", "gh_1", "MsgType", "text", "Content", "logged in: " + event.getString("scene"))));
      return Future.succeededFuture(reply);
    };
    await(vertx.deployVerticle(new WebhookVerticle(config, null, reactor, true)));
    int port = FreePort.find();
    var routes = new WebhookRoutes(vertx, config, redis, new RedisKeys(config.redis().keyPrefix()), WebhookRoutes.DEFAULT_HOLD);
    await(vertx.deployVerticle(new HttpVerticle(new HttpVerticle.Settings("127.0.0.1", port, 65536, null, java.time.Duration.ofSeconds(10)), List.of(routes), new io.scangate.ops.Lifecycle())));
    http = TestHttp.client(vertx, port);
    vertx.eventBus().<JsonObject>consumer(WeChatEvents.ADDRESS, m -> events.add(m.body()));
  }

  @AfterEach
  void stop() {
    http.close();
    redis.close();
  }

  Future<HttpResponse<Buffer>> post(String id, Push push) {
    return http.post("/connections/social/" + id + "/pool1/events?" + push.query()).sendBuffer(Buffer.buffer(push.body()));
  }

  @Test
  void aPassiveReplyIsEncryptedInWeChatsEnvelope() {
    var a = WebhookTest.SAFE;
    long ts = Pushes.now();
    Push push = Pushes.build(Mode.SAFE, a.token(), a.key(), a.appId(), Pushes.event("oA", "SCAN", "sceneR", ts), ts, "nonceR");
    HttpResponse<Buffer> r = await(post(a.id(), push));
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.getHeader("Content-Type")).startsWith("application/xml");
    Map<String, String> envelope = WeChatXml.parse(r.bodyAsString());
    assertThat(envelope.keySet()).containsExactly("Encrypt", "MsgSignature", "TimeStamp", "Nonce");
    assertThat(envelope.get("TimeStamp")).isEqualTo(String.valueOf(ts));
    assertThat(envelope.get("Nonce")).isEqualTo("nonceR");
    String reply = new WeChatMessageCrypto(a.token(), a.key(), a.appId()).decryptReply(r.bodyAsString());
    assertThat(WeChatXml.parse(reply).get("Content")).isEqualTo("logged in: sceneR");

    var p = WebhookTest.PLAIN;
    HttpResponse<Buffer> plain = await(post(p.id(), Pushes.build(Mode.PLAIN, p.token(), null, p.appId(),
        Pushes.event("oA", "subscribe", "qrscene_sceneP", ts), ts, "nonceP")));
    assertThat(WeChatXml.parse(plain.bodyAsString()).get("Content")).isEqualTo("logged in: sceneP");
    // Events without a scene do not reach the login seam.
    assertThat(await(post(p.id(), Pushes.build(Mode.PLAIN, p.token(), null, p.appId(),
        Pushes.event("oA", "CLICK", "MENU_1", ts), ts, "nonceQ"))).bodyAsString()).isEqualTo("success");
    assertThat(calls.get()).isEqualTo(2);
  }

  @Test
  void aPushTheLoginFlowCannotTakeIsHeldUnansweredAndItsRetryActs() {
    var a = WebhookTest.COMPAT;
    Push push = Pushes.build(Mode.COMPATIBLE, a.token(), a.key(), a.appId(), Pushes.event("oA", "SCAN", "sceneH", Pushes.now()),
        Pushes.now(), "nonceH");
    failing.set(true);
    Throwable unanswered = failure(post(a.id(), push));
    assertThat(unanswered).as("no HTTP answer: the connection was closed").isNotNull();
    assertThat(events).isEmpty();
    failing.set(false);
    // WeChat's retry (same query, same body) is processed, not answered as an already-seen retry.
    HttpResponse<Buffer> retry = await(post(a.id(), push));
    assertThat(retry.statusCode()).isEqualTo(200);
    assertThat(WeChatXml.parse(new WeChatMessageCrypto(a.token(), a.key(), a.appId()).decryptReply(retry.bodyAsString()))
        .get("Content")).isEqualTo("logged in: sceneH");
    assertThat(calls.get()).isEqualTo(2);
    // ...and only once.
    assertThat(await(post(a.id(), push)).bodyAsString()).isEqualTo("success");
    assertThat(calls.get()).isEqualTo(2);
  }
}
