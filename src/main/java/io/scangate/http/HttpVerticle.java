package io.scangate.http;

import io.scangate.StartupException;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;

import java.util.List;
import java.util.Set;

/**
 * The HTTP front: one router carrying every capability's {@link Routes}, behind a request log,
 * a body size limit and JSON error handling. Deployed once per event loop on a shared port.
 */
public final class HttpVerticle extends VerticleBase {

  /** Where to listen and how large a request body may be. */
  public record Settings(String host, int port, long bodyLimitBytes) {}

  private final Settings settings;
  private final List<Routes> routes;
  private HttpServer server;

  public HttpVerticle(Settings settings, List<Routes> routes) {
    this.settings = settings;
    this.routes = routes;
  }

  @Override
  public Future<?> start() {
    Router router = Router.router(vertx);
    router.route().handler(RequestLog::handle);
    // Bodies only where they can be: a waiting GET (long poll, SSE) holds no body buffer.
    // (One catch-all route: method-restricted catch-alls would turn unknown paths into 405s.)
    BodyHandler bodies = BodyHandler.create(false).setBodyLimit(settings.bodyLimitBytes());
    Set<HttpMethod> withBodies = Set.of(HttpMethod.POST, HttpMethod.PUT, HttpMethod.PATCH, HttpMethod.DELETE);
    router.route().handler(ctx -> {
      if (withBodies.contains(ctx.request().method())) bodies.handle(ctx);
      else ctx.next();
    });
    routes.forEach(r -> r.mount(router));
    router.route().failureHandler(ErrorHandlers::onFailure);
    // Errors raised before any route runs (a path that does not decode, no matching route).
    router.errorHandler(400, ctx -> ErrorHandlers.byStatus(ctx, 400));
    router.errorHandler(404, ctx -> ErrorHandlers.byStatus(ctx, 404));
    router.errorHandler(405, ctx -> ErrorHandlers.byStatus(ctx, 405));

    // No compression: our answers are small JSON, and a compressor per connection costs memory
    // on every waiting browser (and could hold SSE frames back).
    return vertx.createHttpServer(new HttpServerOptions().setCompressionSupported(false).setIdleTimeout(0))
        .requestHandler(router)
        .listen(settings.port(), settings.host())
        .onSuccess(s -> server = s)
        .recover(e -> Future.failedFuture(new StartupException(
            "HTTP port " + settings.port() + " on " + settings.host() + " is unavailable: " + e.getMessage())));
  }

  public int actualPort() {
    return server.actualPort();
  }
}
