package io.scangate.webhook;

import io.scangate.ScanGate;
import io.scangate.dev.EmbeddedRedis;
import io.scangate.dev.FreePort;
import io.scangate.testing.Gateways;
import io.scangate.testing.TestConfigs;
import io.scangate.testing.TestHttp;
import io.scangate.webhook.Pushes.Mode;
import io.scangate.webhook.Pushes.Push;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static io.scangate.testing.Await.await;
import static io.scangate.testing.Await.failure;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * While Redis is down a push is held unanswered (never an error WeChat would show the user), and
 * WeChat's timeout-driven retry delivers it once Redis is back. Uses a Redis of its own, which it
 * stops and starts.
 */
@ExtendWith(VertxExtension.class)
class WebhookOutageTest {

  final Gateways gateways = new Gateways();
  EmbeddedRedis redis;
  WebClient http;

  @AfterEach
  void stop() {
    if (http != null) http.close();
    gateways.closeAll();
    if (redis != null) redis.close();
  }

  @Test
  void aPushDuringARedisOutageIsDeliveredByTheRetry(Vertx vertx) throws Exception {
    int redisPort = FreePort.find();
    redis = EmbeddedRedis.start(redisPort);
    Map<String, String> env = TestConfigs.testEnv();
    env.put("TEST_REDIS_URL", redis.url());
    ScanGate gateway = gateways.start(vertx, TestConfigs.parse(WebhookTest.YAML, env));
    http = TestHttp.client(vertx, gateway.port());
    List<JsonObject> events = new CopyOnWriteArrayList<>();
    vertx.eventBus().<JsonObject>consumer(WeChatEvents.ADDRESS, m -> events.add(m.body()));

    var a = WebhookTest.SAFE;
    Push push = Pushes.build(Mode.SAFE, a.token(), a.key(), a.appId(), Pushes.event("oOutage", "SCAN", "sceneO", Pushes.now()),
        Pushes.now(), "nonceOutage");
    redis.close();
    Throwable first = failure(send(push));
    assertThat(first).as("held, then the connection closed without an answer").isNotNull();
    assertThat(events).isEmpty();

    redis = EmbeddedRedis.start(redisPort);
    // WeChat's retry: the same request. (The client may need a moment to reconnect: the webhook holds it meanwhile.)
    HttpResponse<Buffer> retry = await(send(push));
    assertThat(retry.statusCode()).isEqualTo(200);
    assertThat(retry.bodyAsString()).isEqualTo("success");
    long deadline = System.currentTimeMillis() + 5000;
    while (events.isEmpty() && System.currentTimeMillis() < deadline) Thread.sleep(20);
    assertThat(events).hasSize(1);
    assertThat(events.get(0).getString("openid")).isEqualTo("oOutage");
    // A further retry is recognised.
    assertThat(await(send(push)).bodyAsString()).isEqualTo("success");
    Thread.sleep(200);
    assertThat(events).hasSize(1);
  }

  private Future<HttpResponse<Buffer>> send(Push push) {
    return http.post("/connections/social/mp-safe/pool1/events?" + push.query()).sendBuffer(Buffer.buffer(push.body()));
  }
}
