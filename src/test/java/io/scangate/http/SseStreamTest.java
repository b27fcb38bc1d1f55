package io.scangate.http;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.PoolOptions;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.scangate.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Heartbeats of streams opened at one moment are spread over the period rather than written
 * together (a burst of 16,000 held an event loop for over a second), each stream still gets one
 * within a period, and a browser that leaves runs the stream's clean-up.
 */
@ExtendWith(VertxExtension.class)
class SseStreamTest {

  private static final long PERIOD_MS = 600;
  private static final int STREAMS = 12;

  @Test
  void streamsOpenedTogetherSpreadTheirHeartbeatsOverThePeriod(Vertx vertx) throws Exception {
    AtomicInteger closed = new AtomicInteger();
    HttpServer server = await(vertx.createHttpServer()
        .requestHandler(request -> SseStream.open(vertx, request.response(), PERIOD_MS, closed::incrementAndGet))
        .listen(0, "127.0.0.1"));
    HttpClient client = vertx.createHttpClient(new PoolOptions().setHttp1MaxSize(STREAMS));
    try {
      List<CompletableFuture<Long>> firstBeat = new ArrayList<>();
      long opened = System.nanoTime();
      for (int i = 0; i < STREAMS; i++) {
        CompletableFuture<Long> beat = new CompletableFuture<>();
        firstBeat.add(beat);
        client.request(HttpMethod.GET, server.actualPort(), "127.0.0.1", "/events")
            .compose(request -> request.send())
            .onSuccess((HttpClientResponse response) -> response.handler(chunk -> {
              if (chunk.toString().contains(": keep-alive")) beat.complete(System.nanoTime());
            }))
            .onFailure(beat::completeExceptionally);
      }
      List<Long> afterMs = new ArrayList<>();
      for (CompletableFuture<Long> beat : firstBeat) afterMs.add(TimeUnit.NANOSECONDS.toMillis(beat.get(10, TimeUnit.SECONDS) - opened));
      long spread = afterMs.stream().mapToLong(Long::longValue).max().orElseThrow()
          - afterMs.stream().mapToLong(Long::longValue).min().orElseThrow();
      // Uniform over 600 ms, 12 streams all within 100 ms of each other: about 1 in 10^8.
      assertThat(spread).as("first heartbeats %s ms after opening", afterMs).isGreaterThan(100);
      // Each within the period (plus this machine's scheduling).
      assertThat(afterMs).allSatisfy(ms -> assertThat(ms).isLessThan(PERIOD_MS + 2_000));
    } finally {
      await(client.close());
      await(server.close());
    }
    long deadline = System.currentTimeMillis() + 10_000;
    while (closed.get() < STREAMS && System.currentTimeMillis() < deadline) Thread.sleep(20);
    assertThat(closed.get()).as("every stream saw its browser leave").isEqualTo(STREAMS);
  }
}
