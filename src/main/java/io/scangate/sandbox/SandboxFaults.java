package io.scangate.sandbox;

import io.scangate.error.ApiException;
import io.scangate.http.JsonInput;
import io.scangate.http.Responses;
import io.scangate.redis.RedisKeys;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.util.Set;

/**
 * WeChat made slow or failing on purpose (start-dev only), to see how the gateway copes: a fault
 * per WeChat API ({@code sns/jscode2session}, ...) or for all ({@code *}), kept in Redis so every
 * gateway instance's sandbox applies it, until reset. Each sandbox WeChat call is counted per API
 * ({@code hits}), so a test can see how many calls actually reached "WeChat".
 *
 * <ul>
 *   <li>{@code POST /sandbox/control/wechat/faults} {@code {"api"?: "*", "delayMs"?, "errcode"?, "httpStatus"?}}:
 *       answer after {@code delayMs} (≤ 120000), then with {@code errcode} (WeChat's JSON, HTTP 200) or
 *       {@code httpStatus} (500-599), or normally when neither is given;</li>
 *   <li>{@code GET /sandbox/control/wechat/faults} → {@code {"faults": {api: fault}, "hits": {api: n}}};</li>
 *   <li>{@code POST /sandbox/control/wechat/faults/reset} {@code {"api"?}}: that API's fault, or all faults and counts.</li>
 * </ul>
 */
final class SandboxFaults {

  static final String ALL = "*";
  static final Set<String> APIS = Set.of("cgi-bin/token", "cgi-bin/stable_token", "cgi-bin/qrcode/create",
      "cgi-bin/showqrcode", "sns/jscode2session", "wxa/business/getuserphonenumber", "wxa/getwxacodeunlimit",
      "cgi-bin/user/info");
  private static final long MAX_DELAY_MS = 120_000;

  /** Counts the call, then returns the API's own fault, else the fault for all, else nil. */
  private static final String HIT = """
      redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
      local f = redis.call('HGET', KEYS[1], ARGV[1])
      if f then return f end
      return redis.call('HGET', KEYS[1], '*')""";

  private final Vertx vertx;
  private final Redis redis;
  private final String faultsKey;
  private final String hitsKey;

  SandboxFaults(Vertx vertx, Redis redis, RedisKeys keys) {
    this.vertx = vertx;
    this.redis = redis;
    this.faultsKey = keys.inSlot("sandbox-faults", "sandbox", "faults");
    this.hitsKey = keys.inSlot("sandbox-faults", "sandbox", "fault-hits");
  }

  /** Route handler in front of {@code /sandbox/wechat/*}: delays or fails the call as configured, else passes it on. */
  void apply(RoutingContext ctx) {
    String path = ctx.request().path();
    String api = path.substring(path.indexOf("/sandbox/wechat/") + "/sandbox/wechat/".length());
    if (!APIS.contains(api)) {
      ctx.next();
      return;
    }
    redis.send(Request.cmd(Command.EVAL).arg(HIT).arg(2).arg(faultsKey).arg(hitsKey).arg(api)).onComplete(ar -> {
      if (ar.failed() || ar.result() == null) {
        ctx.next(); // no fault (or Redis is down: the API itself will say so)
        return;
      }
      JsonObject fault = new JsonObject(ar.result().toString());
      long delay = fault.getLong("delayMs", 0L);
      if (delay <= 0) {
        fail(ctx, fault);
      } else {
        vertx.setTimer(delay, t -> {
          if (ctx.response().closed() || ctx.response().ended()) return; // the caller gave up
          fail(ctx, fault);
        });
      }
    });
  }

  private static void fail(RoutingContext ctx, JsonObject fault) {
    Integer errcode = fault.getInteger("errcode");
    Integer status = fault.getInteger("httpStatus");
    if (status != null) {
      ctx.response().setStatusCode(status).putHeader("Content-Type", "text/html; charset=utf-8")
          .end("<html><body>" + status + " (sandbox fault)</body></html>");
    } else if (errcode != null) {
      ctx.response().putHeader("Content-Type", "application/json; charset=utf-8")
          .end(new JsonObject().put("errcode", errcode).put("errmsg", "sandbox fault rid: " + SandboxStore.randomToken(6)).encode());
    } else {
      ctx.next();
    }
  }

  // POST /sandbox/control/wechat/faults {api?, delayMs?, errcode?, httpStatus?}
  void set(RoutingContext ctx) {
    JsonObject body = JsonInput.body(ctx);
    String api = api(body);
    JsonObject fault = new JsonObject();
    Long delay = number(body, "delayMs", 0, MAX_DELAY_MS);
    Long errcode = number(body, "errcode", Integer.MIN_VALUE, Integer.MAX_VALUE);
    Long status = number(body, "httpStatus", 500, 599);
    if (errcode != null && errcode == 0) throw ApiException.badRequest("invalid_request", "errcode 0 is success, not a fault");
    if (errcode != null && status != null) throw ApiException.badRequest("invalid_request", "give errcode or httpStatus, not both");
    if (delay == null && errcode == null && status == null) {
      throw ApiException.badRequest("invalid_request", "give delayMs, errcode or httpStatus (or reset with POST .../faults/reset)");
    }
    if (delay != null) fault.put("delayMs", delay);
    if (errcode != null) fault.put("errcode", errcode.intValue());
    if (status != null) fault.put("httpStatus", status.intValue());
    redis.send(Request.cmd(Command.HSET).arg(faultsKey).arg(api).arg(fault.encode()))
        .compose(v -> Responses.json(ctx, 200, new JsonObject().put("api", api).put("fault", fault)))
        .onFailure(ctx::fail);
  }

  // GET /sandbox/control/wechat/faults
  void list(RoutingContext ctx) {
    Future<Response> faults = redis.send(Request.cmd(Command.HGETALL).arg(faultsKey));
    Future<Response> hits = redis.send(Request.cmd(Command.HGETALL).arg(hitsKey));
    Future.all(faults, hits).compose(v -> {
      JsonObject f = new JsonObject();
      JsonObject h = new JsonObject();
      if (faults.result() != null) for (String k : faults.result().getKeys()) f.put(k, new JsonObject(faults.result().get(k).toString()));
      if (hits.result() != null) for (String k : hits.result().getKeys()) h.put(k, hits.result().get(k).toLong());
      return Responses.json(ctx, 200, new JsonObject().put("faults", f).put("hits", h));
    }).onFailure(ctx::fail);
  }

  // POST /sandbox/control/wechat/faults/reset {api?}
  void reset(RoutingContext ctx) {
    JsonObject body = JsonInput.body(ctx);
    Future<Response> done = body.getValue("api") == null
        ? redis.send(Request.cmd(Command.DEL).arg(faultsKey).arg(hitsKey))
        : redis.send(Request.cmd(Command.HDEL).arg(faultsKey).arg(api(body)));
    done.compose(v -> Responses.json(ctx, 200, new JsonObject().put("reset", true))).onFailure(ctx::fail);
  }

  private static String api(JsonObject body) {
    Object v = body.getValue("api", ALL);
    if (!(v instanceof String api) || !(ALL.equals(api) || APIS.contains(api))) {
      throw ApiException.badRequest("invalid_request", "api must be \"*\" or one of " + new java.util.TreeSet<>(APIS));
    }
    return (String) v;
  }

  private static Long number(JsonObject body, String field, long min, long max) {
    Object v = body.getValue(field);
    if (v == null) return null;
    if (!(v instanceof Number n) || n.doubleValue() != n.longValue() || n.longValue() < min || n.longValue() > max) {
      throw ApiException.badRequest("invalid_request", field + " must be a whole number from " + min + " to " + max);
    }
    return n.longValue();
  }
}
