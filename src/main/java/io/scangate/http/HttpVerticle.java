package io.scangate.http;

import io.scangate.StartupException;
import io.scangate.ops.Lifecycle;
import io.scangate.error.ApiException;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The HTTP front: one router carrying every capability's {@link Routes}, behind a request log,
 * a body size limit and JSON error handling. Deployed once per event loop on a shared port.
 */
public final class HttpVerticle extends VerticleBase {

  /** Where to listen and how large a request body may be. */
  /** {@code devPublicUrl}: start-dev's public URL, which turns on its Host guard ({@link DevHosts}); null in production. */
  /** {@code headerTimeout}: how long a request's head may take ({@link HeaderDeadline}); {@code readTimeout}: its body ({@link ReadTimeouts}). */
  public record Settings(String host, int port, long bodyLimitBytes, String devPublicUrl, java.time.Duration readTimeout,
                         java.time.Duration headerTimeout) {

    /** The header timeout at its default. */
    public Settings(String host, int port, long bodyLimitBytes, String devPublicUrl, java.time.Duration readTimeout) {
      this(host, port, bodyLimitBytes, devPublicUrl, readTimeout, io.scangate.config.ScanGateConfig.Server.DEFAULT_HEADER_TIMEOUT);
    }
  }

  /**
   * Connections silent in both directions this long are closed (a kept-alive connection nobody
   * uses; a client that never finishes its headers meets the header timeout first): longer than the longest long poll (60 s) with a
   * margin; SSE streams write a heartbeat every 10 s.
   */
  static final int IDLE_TIMEOUT_SECONDS = 90;

  private final Settings settings;
  private final List<Routes> routes;
  private final Lifecycle lifecycle;
  private HttpServer server;

  public HttpVerticle(Settings settings, List<Routes> routes, Lifecycle lifecycle) {
    this.settings = settings;
    this.routes = routes;
    this.lifecycle = lifecycle;
  }

  @Override
  public Future<?> start() {
    Router router = Router.router(vertx);
    // In flight from here until the answer ends (or the connection closes): what a draining instance waits for.
    router.route().handler(ctx -> {
      lifecycle.requestStarted();
      RequestLog.handle(ctx, lifecycle::requestEnded);
    });
    if (settings.devPublicUrl() != null) router.route().handler(new DevHosts(settings.devPublicUrl(), this::actualPort).hostCheck());
    Map<String, ErrorShape> shapes = new HashMap<>();
    routes.forEach(r -> shapes.put(r.prefix(), r.errors()));
    // A query string that does not decode (a lone '%') makes route matching throw; after a POST's
    // body was read that left the request unanswered. Refuse it here, before bodies and routes
    // (only when there is a query: forward-auth's hot path has none to parse).
    router.route().handler(ctx -> {
      if (ctx.request().query() != null) {
        try {
          ctx.request().params();
        } catch (IllegalArgumentException e) {
          ErrorHandlers.send(ctx, owner(shapes, ctx.request().path()),
              ApiException.badRequest("bad_request", "The query string is malformed (it does not decode)"));
          return;
        }
      }
      ctx.next();
    });
    // Bodies only where they can be: a waiting GET (long poll, SSE) holds no body buffer.
    // (One catch-all route: method-restricted catch-alls would turn unknown paths into 405s.)
    BodyHandler bodies = BodyHandler.create(false).setBodyLimit(settings.bodyLimitBytes());
    Set<HttpMethod> withBodies = Set.of(HttpMethod.POST, HttpMethod.PUT, HttpMethod.PATCH, HttpMethod.DELETE);
    ReadTimeouts timeouts = new ReadTimeouts(vertx, settings.readTimeout());
    Handler<RoutingContext> bodyDeadline = timeouts.body();
    router.route().handler(ctx -> {
      if (withBodies.contains(ctx.request().method())) bodyDeadline.handle(ctx);
      else ctx.next();
    });
    Set<String> ownBodies = new java.util.HashSet<>();
    routes.forEach(r -> ownBodies.addAll(r.ownBodyPaths()));
    router.route().handler(ctx -> {
      if (withBodies.contains(ctx.request().method()) && !ownBodies.contains(ctx.normalizedPath())) bodies.handle(ctx);
      else ctx.next();
    });
    Map<String, Router> surfaces = new HashMap<>();
    for (Routes r : routes) {
      if (r.prefix().isEmpty()) {
        r.mount(router);
      } else {
        r.mount(surfaces.computeIfAbsent(r.prefix(), prefix -> surface(router, prefix, r.errors())));
      }
    }
    router.route().failureHandler(ErrorHandlers.failureHandler(ErrorShape.API));
    // Errors raised before any route runs (a path that does not decode, no route or no method
    // matching): the surface that owns the path writes them, so /oidc/token answers a GET in OAuth's shape.
    for (int status : new int[] {400, 404, 405}) {
      router.errorHandler(status, ctx -> ErrorHandlers.send(ctx, owner(shapes, ctx.request().path()), ErrorHandlers.byStatus(ctx, status)));
    }

    return vertx.createHttpServer(serverOptions())
        .connectionHandler(new HeaderDeadline(settings.headerTimeout()).connectionHandler())
        .requestHandler(router)
        .invalidRequestHandler(HttpVerticle::invalidRequest)
        .listen(settings.port(), settings.host())
        .onSuccess(s -> server = s)
        .recover(e -> Future.failedFuture(new StartupException(
            "HTTP port " + settings.port() + " on " + settings.host() + " is unavailable: " + e.getMessage())));
  }

  /**
   * The front's server options. No compression: our answers are small JSON, and a compressor per
   * connection costs memory on every waiting browser (and could hold SSE frames back). No cleartext
   * HTTP/2 (h2c): with it Vert.x sets a connection up only once its first request head has arrived,
   * too late for the header timeout ({@link HeaderDeadline}); an {@code Upgrade: h2c} is answered in
   * HTTP/1.1, as HTTP allows.
   */
  static HttpServerOptions serverOptions() {
    return new HttpServerOptions().setCompressionSupported(false).setIdleTimeout(IDLE_TIMEOUT_SECONDS)
        .setHttp2ClearTextEnabled(false);
  }

  /**
   * A request the HTTP decoder could not read (no route ever sees it): a request line over the
   * limit (414 {@code uri_too_long}), headers over the limit (431 {@code headers_too_large}), or
   * anything malformed (400 {@code bad_request}). Answered in our JSON error shape, then the
   * connection is closed: after a decoding failure nothing more on it can be trusted.
   */
  static void invalidRequest(HttpServerRequest request) {
    Throwable cause = request.decoderResult() == null ? null : request.decoderResult().cause();
    String message = cause == null ? "" : String.valueOf(cause.getMessage());
    ApiException error;
    if (cause instanceof TooLongHttpLineException || message.startsWith("An HTTP line is larger than")) {
      error = new ApiException(414, "uri_too_long", "The request line (method, path and query) is too long");
    } else if (cause instanceof TooLongHttpHeaderException || message.startsWith("HTTP header is larger than")) {
      error = new ApiException(431, "headers_too_large", "The request headers are too large");
    } else {
      error = ApiException.badRequest("bad_request", "The request is malformed (it could not be read as HTTP)");
    }
    request.response().setStatusCode(error.status())
        .putHeader("Content-Type", "application/json; charset=utf-8")
        .putHeader("Cache-Control", "no-store")
        .putHeader("Connection", "close")
        .putHeader("X-Content-Type-Options", "nosniff")
        .end(ErrorShape.API.body(error).encode())
        .onComplete(done -> request.connection().close());
  }

  private static ErrorShape owner(Map<String, ErrorShape> shapes, String path) {
    if (path != null) {
      for (Map.Entry<String, ErrorShape> surface : shapes.entrySet()) {
        String prefix = surface.getKey();
        if (!prefix.isEmpty() && (path.equals(prefix) || path.startsWith(prefix + "/"))) return surface.getValue();
      }
    }
    return ErrorShape.API;
  }

  /** A sub-router for one surface: its own failure handler, and its own 404 for paths it does not know. */
  private Router surface(Router root, String prefix, ErrorShape errors) {
    Router sub = Router.router(vertx);
    sub.route().failureHandler(ErrorHandlers.failureHandler(errors));
    root.route(prefix + "/*").subRouter(sub);
    return sub;
  }

  public int actualPort() {
    return server.actualPort();
  }
}
