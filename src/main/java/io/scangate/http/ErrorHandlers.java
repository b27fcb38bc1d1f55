package io.scangate.http;

import io.scangate.error.ApiException;
import io.vertx.core.Handler;
import io.vertx.core.json.DecodeException;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.HttpException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;

/**
 * Turns every failure into an {@link ApiException} and writes it in the surface's {@link ErrorShape};
 * never a stack trace in the answer. Unexpected failures are logged with the request id, and the
 * caller gets that id to quote.
 */
public final class ErrorHandlers {

  private static final Logger log = LoggerFactory.getLogger(ErrorHandlers.class);

  private ErrorHandlers() {}

  /** The failure handler of a surface whose errors have this shape. */
  public static Handler<RoutingContext> failureHandler(ErrorShape shape) {
    return ctx -> {
      if (ctx.response().headWritten()) {
        ctx.response().reset();
        return;
      }
      send(ctx, shape, classify(ctx));
    };
  }

  /** Writes {@code error} in {@code shape}, with its status and headers. */
  public static void send(RoutingContext ctx, ErrorShape shape, ApiException error) {
    if (shape == ErrorShape.WECHAT) {
      var response = ctx.response().setStatusCode(error.status())
          .putHeader("Content-Type", "text/plain; charset=utf-8")
          .putHeader("Cache-Control", "no-store");
      error.headers().forEach(response::putHeader);
      response.end(ErrorShape.text(error));
      return;
    }
    var response = ctx.response().setStatusCode(error.status())
        .putHeader("Content-Type", "application/json; charset=utf-8")
        .putHeader("Cache-Control", "no-store");
    if (shape == ErrorShape.OAUTH) response.putHeader("Pragma", "no-cache");
    error.headers().forEach(response::putHeader);
    response.end(shape.body(error).encode());
  }

  /** RFC 6750: 401 with {@code WWW-Authenticate: Bearer error="invalid_token"}. */
  public static ApiException invalidToken(String description) {
    String safe = description.replace('"', '\'').replace('\\', '/');
    return new ApiException(401, ErrorShape.INVALID_TOKEN, description,
        Map.of("WWW-Authenticate", "Bearer error=\"invalid_token\", error_description=\"" + safe + "\""));
  }

  /** What the failure of this request means for the caller. */
  static ApiException classify(RoutingContext ctx) {
    Throwable failure = ctx.failure();
    ApiException api = ApiException.from(failure);
    if (api != null) return api;
    if (failure instanceof DecodeException) return ApiException.badRequest("invalid_json", "The request body is not valid JSON");
    if (failure instanceof HttpException http && http.getStatusCode() < 500) return byStatus(ctx, http.getStatusCode());
    if (ctx.statusCode() == 403 && ctx.request().getHeader("Origin") != null
        && failure != null && String.valueOf(failure.getMessage()).startsWith("CORS")) {
      // vertx-web's CorsHandler refuses an origin no application allows.
      return new ApiException(403, "origin_not_allowed", "Origin " + ctx.request().getHeader("Origin") + " is not allowed");
    }
    // A handler failed the request with a client-error status (ctx.fail(status[, cause])).
    if (ctx.statusCode() >= 400 && ctx.statusCode() < 500) return byStatus(ctx, ctx.statusCode());
    String requestId = RequestLog.requestId(ctx);
    if (isClientFault(ctx, failure)) {
      // A client that sent what HTTP cannot decode (a chunk size of FFFFFFFFFFFF) or went away
      // mid-body: its doing, not ours and not a backend's. One quiet line, no stack trace.
      log.atDebug().addKeyValue("requestId", requestId).addKeyValue("reason", String.valueOf(failure.getMessage()))
          .log("request abandoned or undecodable");
      return ApiException.badRequest("bad_request", "The request could not be read");
    }
    if (io.scangate.error.Outages.isBackendOutage(failure)) {
      log.atWarn().addKeyValue("requestId", requestId).addKeyValue("reason", String.valueOf(failure.getMessage()))
          .log("request failed: a backing service is unavailable");
      return io.scangate.error.Outages.toApiException(failure);
    }
    log.atError().addKeyValue("requestId", requestId).setCause(failure).log("request failed");
    return ApiException.internal("Internal error; quote request id " + requestId);
  }

  /** The request itself broke: undecodable HTTP, or its connection closed before the body arrived. */
  static boolean isClientFault(RoutingContext ctx, Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof io.netty.handler.codec.DecoderException || t instanceof io.vertx.core.http.HttpClosedException
          || t instanceof io.netty.handler.codec.TooLongFrameException) {
        return true;
      }
    }
    // Bodies are read whole before any route runs: a failure while the request is still
    // unfinished is the body's (a broken chunk, a client that hung up), never a backend's.
    return !ctx.request().isEnded();
  }

  /** The error for a bare HTTP status (router-level failures, ctx.fail(status)). */
  public static ApiException byStatus(RoutingContext ctx, int status) {
    return switch (status) {
      case 404 -> ApiException.notFound("not_found", "No such resource: " + ctx.request().method() + " " + ctx.normalizedPath());
      case 405 -> new ApiException(405, "method_not_allowed", "Method " + ctx.request().method() + " is not allowed here");
      case 413 -> new ApiException(413, "body_too_large", "The request body is too large");
      case 415 -> new ApiException(415, "unsupported_media_type", "Unsupported content type");
      case 401 -> new ApiException(401, "unauthorized", "Authentication is required");
      case 403 -> new ApiException(403, "forbidden", "Not allowed");
      default -> new ApiException(status >= 400 && status < 500 ? status : 400, "bad_request", "The request is malformed");
    };
  }
}
