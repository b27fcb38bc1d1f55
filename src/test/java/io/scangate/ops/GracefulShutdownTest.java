package io.scangate.ops;

import io.scangate.ScanGate;
import io.scangate.testing.Gateways;
import io.scangate.testing.SseClient;
import io.scangate.testing.TestConfigs;
import io.scangate.testing.TestHttp;
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

import static io.scangate.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/** SIGTERM as an operator's load balancer needs it: out of rotation first, waiting browsers answered, then gone. */
@ExtendWith(VertxExtension.class)
class GracefulShutdownTest {

  private final Gateways gateways = new Gateways();

  @AfterEach
  void stop() {
    gateways.closeAll();
  }

  @Test
  void drainingAnswersWaitingBrowsersRefusesNewWorkAndTurnsReadinessOff(Vertx vertx) throws Exception {
    ScanGate gateway = gateways.start(vertx, TestConfigs.standard());
    WebClient client = TestHttp.client(vertx, gateway.port());
    JsonObject session = await(client.post("/api/v1/qr/sessions")
        .sendJsonObject(new JsonObject().put("appId", "demo").put("connection", "wechat-mini-qr"))).bodyAsJsonObject();
    String id = session.getString("sessionId");
    assertThat(await(client.get("/health/ready").send()).statusCode()).isEqualTo(200);

    try (SseClient sse = new SseClient(vertx, gateway.port(), "/api/v1/qr/sessions/" + id + "/events")) {
      sse.awaitEvents(1);
      Future<HttpResponse<Buffer>> longPoll = client.get("/api/v1/qr/sessions/" + id + "?waitSeconds=60&since=PENDING").send();
      while (gateway.qrHub().waiters() < 2) Thread.sleep(20);

      Future<Void> drained = gateway.drain();

      // The long poll is answered at once with the unchanged state; the stream is told to reconnect elsewhere.
      HttpResponse<Buffer> answered = await(longPoll);
      assertThat(answered.statusCode()).isEqualTo(200);
      assertThat(answered.bodyAsJsonObject().getString("status")).isEqualTo("PENDING");
      sse.awaitEnd();
      assertThat(sse.retries()).containsExactly(1_000L);
      await(drained);
      assertThat(gateway.qrHub().waiters()).isZero();

      HttpResponse<Buffer> ready = await(client.get("/health/ready").send());
      assertThat(ready.statusCode()).isEqualTo(503);
      assertThat(ready.bodyAsJsonObject().getString("error")).isEqualTo("shutting_down");
      HttpResponse<Buffer> refused = await(client.post("/api/v1/qr/sessions")
          .sendJsonObject(new JsonObject().put("appId", "demo").put("connection", "wechat-mini-qr")));
      assertThat(refused.statusCode()).isEqualTo(503);
      assertThat(refused.bodyAsJsonObject().getString("error")).isEqualTo("shutting_down");
      assertThat(refused.getHeader("Retry-After")).isEqualTo("1");
      // What is not new work still works until the stop: reading the session, verifying tokens.
      assertThat(await(client.get("/api/v1/qr/sessions/" + id).send()).statusCode()).isEqualTo(200);

      // A browser that arrives while draining is not held either.
      HttpResponse<Buffer> late = await(client.get("/api/v1/qr/sessions/" + id + "?waitSeconds=60&since=PENDING").send());
      assertThat(late.statusCode()).isEqualTo(200);
    }
  }
}
