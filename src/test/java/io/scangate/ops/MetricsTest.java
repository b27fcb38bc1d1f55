package io.scangate.ops;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.scangate.ScanGate;
import io.scangate.testing.TestConfigs;
import io.scangate.testing.TestHttp;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.ext.web.client.WebClient;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class MetricsTest {

  @Test
  void prometheusTextHasHttpMetricsByRouteAndEventBusMetrics() throws Exception {
    PrometheusMeterRegistry registry = Metrics.newRegistry();
    Vertx vertx = Metrics.vertxWithMetrics(registry, new VertxOptions());
    try {
      ScanGate gateway = vertx.executeBlocking(() -> null).compose(x ->
          ScanGate.start(vertx, TestConfigs.standard(), new ScanGate.Options(true, registry, 1)))
          .toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
      WebClient client = TestHttp.client(vertx, gateway.port());
      client.get("/health/live").send().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      vertx.eventBus().publish("scangate.test.ping", "x");
      var scrape = client.get("/metrics").send().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertThat(scrape.statusCode()).isEqualTo(200);
      assertThat(scrape.getHeader("Content-Type")).startsWith("text/plain");
      String text = scrape.bodyAsString();
      assertThat(text).contains("vertx_http_server_requests_total{code=\"200\",method=\"GET\",route=\"/health/live\"}");
      assertThat(text).contains("vertx_eventbus_published_total");
      assertThat(text).contains("jvm_memory_used_bytes");
      gateway.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }
}
