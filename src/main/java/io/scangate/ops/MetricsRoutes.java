package io.scangate.ops;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.scangate.http.Routes;
import io.vertx.ext.web.Router;
import io.vertx.micrometer.PrometheusScrapingHandler;

/** {@code GET /metrics} in the Prometheus text format: HTTP, event bus, pools, JVM and our own meters. */
public final class MetricsRoutes implements Routes {

  private final PrometheusMeterRegistry registry;

  public MetricsRoutes(PrometheusMeterRegistry registry) {
    this.registry = registry;
  }

  @Override
  public void mount(Router router) {
    router.get("/metrics").handler(PrometheusScrapingHandler.create(registry));
  }
}
