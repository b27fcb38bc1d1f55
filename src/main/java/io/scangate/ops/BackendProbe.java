package io.scangate.ops;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.sqlclient.Pool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;

/**
 * Asks Redis ({@code PING}) and PostgreSQL ({@code SELECT 1}) every {@value #INTERVAL_MS} ms, so an
 * operator sees an outage even on an idle instance: {@code scangate_backend_up{backend="redis"|"postgresql"}}
 * (1 up, 0 down), a WARN line when one goes down and an INFO line when it is back.
 */
public final class BackendProbe extends VerticleBase {

  static final long INTERVAL_MS = 2_000;
  private static final long TIMEOUT_MS = 2_000;
  private static final Logger log = LoggerFactory.getLogger(BackendProbe.class);

  private final Redis redis;
  private final Pool postgres;
  private volatile boolean redisUp = true;
  private volatile boolean postgresUp = true;
  private long timer;

  public BackendProbe(Redis redis, Pool postgres, MeterRegistry metrics) {
    this.redis = redis;
    this.postgres = postgres;
    Gauge.builder("scangate.backend.up", this, p -> p.redisUp ? 1 : 0).tag("backend", "redis")
        .description("Whether the backing service answered the last probe (1) or not (0)").register(metrics);
    Gauge.builder("scangate.backend.up", this, p -> p.postgresUp ? 1 : 0).tag("backend", "postgresql")
        .description("Whether the backing service answered the last probe (1) or not (0)").register(metrics);
  }

  @Override
  public Future<?> start() {
    timer = vertx.setPeriodic(INTERVAL_MS, id -> probe());
    return Future.succeededFuture();
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(timer);
    return Future.succeededFuture();
  }

  private void probe() {
    answers(redis.send(Request.cmd(Command.PING))).onSuccess(up -> {
      if (up != redisUp) log.atLevel(up ? org.slf4j.event.Level.INFO : org.slf4j.event.Level.WARN)
          .log(up ? "Redis answers again" : "Redis is unreachable");
      redisUp = up;
    });
    answers(postgres.query("SELECT 1").execute()).onSuccess(up -> {
      if (up != postgresUp) log.atLevel(up ? org.slf4j.event.Level.INFO : org.slf4j.event.Level.WARN)
          .log(up ? "PostgreSQL answers again" : "PostgreSQL is unreachable");
      postgresUp = up;
    });
  }

  private static Future<Boolean> answers(Future<?> probe) {
    return probe.timeout(TIMEOUT_MS, TimeUnit.MILLISECONDS).map(x -> true).otherwise(false);
  }
}
