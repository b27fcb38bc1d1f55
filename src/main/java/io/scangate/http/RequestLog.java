package io.scangate.http;

import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * First handler of every request: gives it a request id (the caller's {@code X-Request-Id} when
 * sane) and logs one line when the answer ends. The logged path has long opaque segments
 * (session ids, scenes, tickets) masked, and no query string, which may carry codes.
 */
public final class RequestLog {

  public static final String HEADER = "X-Request-Id";
  private static final String KEY = "scangate.requestId";
  private static final Pattern SANE_ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");
  private static final Pattern OPAQUE_SEGMENT = Pattern.compile("(?<=/)[A-Za-z0-9_-]{20,}(?=/|$)");
  private static final Logger log = LoggerFactory.getLogger("scangate.http");

  private RequestLog() {}

  public static void handle(RoutingContext ctx) {
    handle(ctx, () -> { });
  }

  /** The same, running {@code onEnd} when the answer ends (one end handler for both). */
  public static void handle(RoutingContext ctx, Runnable onEnd) {
    String given = ctx.request().getHeader(HEADER);
    String id = given != null && SANE_ID.matcher(given).matches() ? given : newId();
    ctx.put(KEY, id);
    // Every answer, errors included: browsers must never guess a type (a JSON error as HTML).
    ctx.response().putHeader(HEADER, id).putHeader("X-Content-Type-Options", "nosniff");
    long started = System.nanoTime();
    ctx.addEndHandler(done -> {
      onEnd.run();
      log.atInfo()
        .addKeyValue("requestId", id)
        .addKeyValue("method", ctx.request().method().name())
        .addKeyValue("path", maskedPath(ctx.request().path()))
        .addKeyValue("status", ctx.response().getStatusCode())
        .addKeyValue("durationMs", (System.nanoTime() - started) / 1_000_000)
        .addKeyValue("completed", done.succeeded())
        .log("http request");
    });
    ctx.next();
  }

  public static String requestId(RoutingContext ctx) {
    String id = ctx.get(KEY);
    return id == null ? "-" : id;
  }

  static String maskedPath(String path) {
    if (path == null) return "";
    return OPAQUE_SEGMENT.matcher(path).replaceAll("***");
  }

  private static String newId() {
    return HexFormat.of().formatHex(io.scangate.util.Randoms.bytes(8));
  }
}
