package io.scangate.http;

import io.scangate.error.ApiException;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.ext.web.RoutingContext;

import java.time.Duration;

/**
 * A deadline for clients that send a body slowly (slowloris): a request's body must arrive within
 * the read timeout of its headers, else 408 and the connection is closed. What the gateway itself
 * holds open — an SSE stream, a long poll — is not a read and is never cut by it. (Headers: Vert.x
 * hands a request to the application only once its headers are complete, so {@link HeaderDeadline}
 * times those, below the router, in the connection's Netty pipeline.)
 */
final class ReadTimeouts {

  private final Vertx vertx;
  private final long timeoutMs;

  ReadTimeouts(Vertx vertx, Duration timeout) {
    this.vertx = vertx;
    this.timeoutMs = Math.max(1, timeout.toMillis());
  }

  /** A route handler for requests with bodies: 408 and close if the body is not all there in time. */
  Handler<RoutingContext> body() {
    return ctx -> {
      long timer = vertx.setTimer(timeoutMs, id -> {
        if (!ctx.request().isEnded() && !ctx.response().ended()) {
          ctx.response().putHeader("Connection", "close");
          ErrorHandlers.send(ctx, ErrorShape.API, new ApiException(408, "request_timeout", "The request body did not arrive in time"));
          ctx.request().connection().close();
        }
      });
      ctx.addEndHandler(done -> vertx.cancelTimer(timer));
      ctx.next();
    };
  }
}
