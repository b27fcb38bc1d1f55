package io.scangate.http;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.scangate.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Vert.x internals {@link HeaderDeadline} stands on (it is the only class that uses them): with
 * the front's server options, {@code HttpServer.connectionHandler} runs when a connection is
 * accepted, before any byte, on a connection whose Netty pipeline holds the HTTP/1.x decoder. A
 * Vert.x upgrade that changes either fails this test.
 */
@ExtendWith(VertxExtension.class)
class HeaderDeadlineTest {

  @Test
  void vertxHandsUsEachConnectionAtAcceptWithItsNettyPipeline(Vertx vertx) throws Exception {
    CompletableFuture<Boolean> attached = new CompletableFuture<>();
    HeaderDeadline deadline = new HeaderDeadline(Duration.ofSeconds(1));
    HttpServer server = await(vertx.createHttpServer(HttpVerticle.serverOptions())
        .connectionHandler(connection -> attached.complete(deadline.attach(connection)))
        .requestHandler(request -> request.response().end("ok"))
        .listen(0, "127.0.0.1"));
    try (Socket silent = new Socket("127.0.0.1", server.actualPort())) {
      // Not one byte sent: the handler has run anyway, and found what it needs.
      assertThat(attached.get(10, TimeUnit.SECONDS)).as("attached to the connection's pipeline").isTrue();
      silent.setSoTimeout(10_000);
      // Closed at the 1 s deadline (else the read times out after 10 s), with no request to answer.
      assertThat(silent.getInputStream().readAllBytes()).isEmpty();
    } finally {
      await(server.close());
    }
  }
}
