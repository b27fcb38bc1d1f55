package io.scangate.admin;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.vertx.serviceproxy.ServiceBinder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;

/**
 * Serves {@link AdminService} on {@value AdminService#ADDRESS} and runs the audit retention job:
 * every hour (first a minute after start) each instance tries; a PostgreSQL advisory lock lets
 * one of them delete the events older than {@code admin.auditRetention} while the others skip.
 */
public final class AdminVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(AdminVerticle.class);
  static final long RETENTION_INTERVAL_MS = 3_600_000;
  private static final long FIRST_RUN_MS = 60_000;

  private final Administration administration;
  private final Duration retention;
  private MessageConsumer<JsonObject> consumer;
  private long timer = -1;

  public AdminVerticle(Administration administration, Duration retention) {
    this.administration = administration;
    this.retention = retention;
  }

  @Override
  public Future<?> start() {
    consumer = new ServiceBinder(vertx).setAddress(AdminService.ADDRESS).register(AdminService.class, administration);
    timer = vertx.setTimer(FIRST_RUN_MS, id -> {
      cleanUp();
      timer = vertx.setPeriodic(RETENTION_INTERVAL_MS, p -> cleanUp());
    });
    return consumer.completion();
  }

  private void cleanUp() {
    administration.auditLog().deleteOlderThan(retention)
        .onSuccess(n -> {
          if (n > 0) log.atInfo().addKeyValue("deleted", n).addKeyValue("retention", retention).log("old audit events deleted");
        })
        .onFailure(e -> log.atWarn().addKeyValue("cause", e.getMessage()).log("audit retention clean-up failed"));
  }

  @Override
  public Future<?> stop() {
    if (timer >= 0) vertx.cancelTimer(timer);
    return consumer == null ? Future.succeededFuture() : consumer.unregister();
  }
}
