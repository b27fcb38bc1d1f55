package io.scangate.ops;

import io.scangate.http.Responses;
import io.scangate.http.Routes;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.sqlclient.Pool;

import java.util.concurrent.TimeUnit;

/**
 * {@code /health/live}: the process answers. {@code /health/ready}: Redis and PostgreSQL both
 * answer, checked on every call so a load balancer sees an outage and the recovery at once.
 */
public final class HealthRoutes implements Routes {

  private static final long CHECK_TIMEOUT_MS = 2_000;

  private final Redis redis;
  private final Pool postgres;
  private final Lifecycle lifecycle;

  public HealthRoutes(Redis redis, Pool postgres, Lifecycle lifecycle) {
    this.redis = redis;
    this.postgres = postgres;
    this.lifecycle = lifecycle;
  }

  @Override
  public void mount(Router router) {
    router.get("/health/live").handler(this::live);
    router.get("/health/ready").handler(this::ready);
  }

  private void live(RoutingContext ctx) {
    Responses.json(ctx, 200, new JsonObject().put("status", "UP"));
  }

  private void ready(RoutingContext ctx) {
    if (lifecycle.draining()) {
      // First sign of a stop: the load balancer takes this instance out before it goes.
      Responses.json(ctx, 503, new JsonObject().put("status", "DRAINING").put("error", "shutting_down")
          .put("message", "This instance is shutting down"));
      return;
    }
    Future<Boolean> redisUp = check(redis.send(Request.cmd(Command.PING)));
    Future<Boolean> postgresUp = check(postgres.query("SELECT 1").execute());
    Future.join(redisUp, postgresUp).onComplete(done -> {
      boolean r = redisUp.result();
      boolean p = postgresUp.result();
      JsonObject body = new JsonObject()
          .put("status", r && p ? "UP" : "DOWN")
          .put("checks", new JsonObject().put("redis", r ? "UP" : "DOWN").put("postgres", p ? "UP" : "DOWN"));
      if (r && p) {
        Responses.json(ctx, 200, body);
      } else {
        String down = !r && !p ? "Redis and PostgreSQL are" : !r ? "Redis is" : "PostgreSQL is";
        Responses.json(ctx, 503, body.put("error", "not_ready").put("message", down + " unreachable"));
      }
    });
  }

  private static Future<Boolean> check(Future<?> probe) {
    return probe.timeout(CHECK_TIMEOUT_MS, TimeUnit.MILLISECONDS).map(x -> true).otherwise(false);
  }
}
