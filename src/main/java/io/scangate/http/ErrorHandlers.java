package io.scangate.http;

import io.vertx.core.json.DecodeException;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.HttpException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns every failure into a JSON error; never a stack trace in the answer. Unexpected failures
 * are logged with the request id, and the caller gets that id to quote.
 */
public final class ErrorHandlers {

  private static final Logger log = LoggerFactory.getLogger(ErrorHandlers.class);

  private ErrorHandlers() {}

  public static void onFailure(RoutingContext ctx) {
    if (ctx.response().headWritten()) {
      ctx.response().reset();
      return;
    }
    Throwable failure = ctx.failure();
    if (failure instanceof ApiException api) {
      api.headers().forEach(ctx.response()::putHeader);
      Responses.error(ctx, api.status(), api.code(), api.getMessage());
    } else if (failure instanceof DecodeException) {
      Responses.error(ctx, 400, "invalid_json", "The request body is not valid JSON");
    } else if (failure instanceof HttpException http && http.getStatusCode() < 500) {
      byStatus(ctx, http.getStatusCode());
    } else if (ctx.statusCode() == 403 && ctx.request().getHeader("Origin") != null
        && failure != null && String.valueOf(failure.getMessage()).startsWith("CORS")) {
      // vertx-web's CorsHandler refuses an origin no application allows.
      Responses.error(ctx, 403, "origin_not_allowed", "Origin " + ctx.request().getHeader("Origin") + " is not allowed");
    } else if (ctx.statusCode() >= 400 && ctx.statusCode() < 500) {
      // A handler failed the request with a client-error status (ctx.fail(status[, cause])).
      byStatus(ctx, ctx.statusCode());
    } else if (isBackendOutage(failure)) {
      String requestId = RequestLog.requestId(ctx);
      log.atWarn().addKeyValue("requestId", requestId).addKeyValue("reason", String.valueOf(failure.getMessage()))
          .log("request failed: a backing service is unavailable");
      Responses.error(ctx, 503, "service_unavailable", "A backing service (Redis or PostgreSQL) is unavailable; try again shortly");
    } else {
      String requestId = RequestLog.requestId(ctx);
      log.atError().addKeyValue("requestId", requestId).setCause(failure).log("request failed");
      Responses.error(ctx, 500, "internal_error", "Internal error; quote request id " + requestId);
    }
  }

  /** Redis or PostgreSQL unreachable, refusing, or gone mid-request: an outage to report as 503, not a bug. */
  static boolean isBackendOutage(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof java.net.ConnectException || t instanceof java.nio.channels.ClosedChannelException
          || t instanceof java.net.SocketException || t instanceof io.netty.channel.ConnectTimeoutException
          || t instanceof io.vertx.core.http.ConnectionPoolTooBusyException
          || t instanceof java.util.concurrent.TimeoutException) {
        return true;
      }
      String message = String.valueOf(t.getMessage());
      if (t instanceof io.vertx.core.VertxException
          && (message.contains("Connection refused") || message.contains("Connection was closed")
              || message.contains("Connection reset") || message.contains("Timeout"))) {
        return true;
      }
    }
    return false;
  }

  public static void byStatus(RoutingContext ctx, int status) {
    switch (status) {
      case 404 -> Responses.error(ctx, 404, "not_found", "No such resource: " + ctx.request().method() + " " + ctx.normalizedPath());
      case 405 -> Responses.error(ctx, 405, "method_not_allowed", "Method " + ctx.request().method() + " is not allowed here");
      case 413 -> Responses.error(ctx, 413, "body_too_large", "The request body is too large");
      case 415 -> Responses.error(ctx, 415, "unsupported_media_type", "Unsupported content type");
      case 401 -> Responses.error(ctx, 401, "unauthorized", "Authentication is required");
      case 403 -> Responses.error(ctx, 403, "forbidden", "Not allowed");
      default -> Responses.error(ctx, status, "bad_request", "The request is malformed");
    }
  }
}
