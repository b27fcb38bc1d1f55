package io.scangate.qr;

import io.scangate.config.ScanGateConfig;
import io.scangate.config.ScanGateConfig.Connection;
import io.scangate.error.ApiException;
import io.scangate.http.JsonInput;
import io.scangate.http.Pages;
import io.scangate.ops.Lifecycle;
import io.scangate.ratelimit.WaiterCaps;
import io.scangate.http.BasicAuth;
import io.scangate.login.LoginPipeline;
import io.scangate.login.LoginService;
import io.scangate.http.ClientIp;
import io.scangate.http.Responses;
import io.scangate.http.Routes;
import io.scangate.http.SseStream;
import io.scangate.qr.QrSession.Status;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.CorsHandler;

import java.awt.image.BufferedImage;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the PC browser calls (CONTRACT section 3): create a session, read it, wait for it by long
 * poll or SSE, fetch its QR image; and the landing page a url-style code opens.
 */
public final class QrBrowserRoutes implements Routes {

  static final int MAX_WAIT_SECONDS = 60;
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(QrBrowserRoutes.class);
  static final long SSE_HEARTBEAT_MS = 10_000;
  /** What a draining instance tells SSE browsers: reconnect in a second (the load balancer has taken it out by then). */
  static final long SSE_RETRY_AFTER_DRAIN_MS = 1_000;

  private final Vertx vertx;
  private final ScanGateConfig config;
  private final LoginService login;
  private final QrSessions store;
  private final QrSessionVerticle hub;
  private final QrContentSource contentSource;
  private final Lifecycle lifecycle;
  private final WaiterCaps caps;
  private final String ownOrigin;
  private final Map<String, Optional<BufferedImage>> logos = new ConcurrentHashMap<>();

  public QrBrowserRoutes(Vertx vertx, ScanGateConfig config, LoginService login, QrSessions sessions, QrSessionVerticle hub,
                         QrContentSource contentSource, Lifecycle lifecycle, WaiterCaps caps) {
    this.lifecycle = lifecycle;
    this.caps = caps;
    this.vertx = vertx;
    this.config = config;
    this.login = login;
    this.store = sessions;
    this.hub = hub;
    this.contentSource = contentSource;
    this.ownOrigin = LoginPipeline.originOf(config.server().publicUrl());
    for (Connection c : config.connections()) {
      if (c instanceof ScanGateConfig.MiniProgramQrConnection mini && mini.logo() != null && !java.nio.file.Files.isReadable(mini.logo())) {
        log.atWarn().addKeyValue("connection", c.identifier()).addKeyValue("logo", mini.logo().toString())
            .log("the configured QR logo is not readable; codes will be drawn without it");
      }
    }
  }

  @Override
  public void mount(Router router) {
    // Only configured origins get CORS headers, plus the gateway's own (its hosted pages: browsers
    // send Origin on same-origin POSTs too, and CorsHandler refuses origins it does not know).
    Set<String> origins = new LinkedHashSet<>();
    origins.add(ownOrigin);
    config.applications().forEach(a -> origins.addAll(a.allowedOrigins()));
    router.route("/api/v1/qr/*").handler(CorsHandler.create()
        .addOrigins(origins.stream().toList())
        .allowedMethods(Set.of(HttpMethod.GET, HttpMethod.POST))
        .allowedHeaders(Set.of("Content-Type", "Authorization", "X-Request-Id"))
        .maxAgeSeconds(600));
    router.post("/api/v1/qr/sessions").handler(this::create);
    router.get("/api/v1/qr/sessions/:sessionId").handler(this::read);
    router.get("/api/v1/qr/sessions/:sessionId/events").handler(this::events);
    router.post("/api/v1/qr/exchange").handler(this::exchange);
    router.get("/api/v1/qr/images/:file").handler(this::image);
    router.get("/qr/:scene").handler(this::landing);
  }

  private void create(RoutingContext ctx) {
    if (lifecycle.draining()) {
      throw new ApiException(503, "shutting_down", "This instance is shutting down; try again", Map.of("Retry-After", "1"));
    }
    JsonObject body = JsonInput.body(ctx);
    String appId = JsonInput.requiredString(body, "appId");
    String connection = JsonInput.requiredString(body, "connection");
    login.startQrSession(appId, connection, origin(ctx), clientIp(ctx), ctx.request().getHeader("User-Agent"))
        .onSuccess(session -> Responses.json(ctx, 201, session))
        .onFailure(ctx::fail);
  }

  private void read(RoutingContext ctx) {
    String sessionId = ctx.pathParam("sessionId");
    // N ≤ 60: a longer wait is served as 60 s (the browser simply polls again).
    int waitSeconds = Math.min(MAX_WAIT_SECONDS, JsonInput.intParam(ctx, "waitSeconds", 0, 0, Integer.MAX_VALUE));
    Status since = statusParam(ctx, "since");
    if (waitSeconds == 0) {
      store.get(sessionId).onSuccess(found -> {
        if (originAllowed(ctx, found)) answer(ctx, found);
      }).onFailure(ctx::fail);
      return;
    }
    String ip = clientIp(ctx);
    caps.acquire(sessionId, ip)
        .onSuccess(v -> new LongPoll(ctx, sessionId, since, waitSeconds, () -> caps.release(sessionId, ip)).start())
        .onFailure(ctx::fail);
  }

  /** One waiting browser: answers on the first status other than {@code since}, or when time is up. */
  private final class LongPoll implements Lifecycle.Waiter {
    private final RoutingContext ctx;
    private final String sessionId;
    private Status since;
    private final int waitSeconds;
    private QrSessionVerticle.Watch watch;
    private long timer = -1;
    private boolean done;
    private boolean checked;
    private Runnable releaseCaps;

    LongPoll(RoutingContext ctx, String sessionId, Status since, int waitSeconds, Runnable releaseCaps) {
      this.releaseCaps = releaseCaps;
      this.ctx = ctx;
      this.sessionId = sessionId;
      this.since = since;
      this.waitSeconds = waitSeconds;
    }

    private final io.vertx.core.Context context = vertx.getOrCreateContext();

    /** The instance is stopping: answer now with the current state (the browser polls again, elsewhere). */
    @Override
    public void drain() {
      context.runOnContext(v -> {
        // Before the first read has answered (and the origin check passed), that read answers at once instead.
        if (!done && checked) store.get(sessionId).onSuccess(this::finish).onFailure(this::fail);
      });
    }

    void start() {
      // Watch before reading, so a change between the read and the watch cannot be missed.
      watch = hub.watch(sessionId, this::onChange,
          () -> fail(new io.scangate.error.Outages.Unavailable("Redis", new IllegalStateException("subscription lost"))));
      lifecycle.register(this);
      ctx.response().closeHandler(v -> release());
      store.get(sessionId).onSuccess(found -> {
        if (found.isEmpty()) {
          finish(Optional.empty());
          return;
        }
        // Checked once, before any waiting: a foreign page gets its 403 and holds nothing open.
        if (!done && !originAllowed(ctx, found)) {
          release();
          return;
        }
        checked = true;
        if (since == null) since = found.get().statusAt(System.currentTimeMillis());
        if (found.get().statusAt(System.currentTimeMillis()) != since || lifecycle.draining()) {
          finish(found);
        } else if (!done) {
          timer = vertx.setTimer(waitSeconds * 1000L, t -> store.get(sessionId)
              .onSuccess(this::finish).onFailure(e -> fail(e)));
        }
      }).onFailure(this::fail);
    }

    private void onChange(QrSession session) {
      if (!done && checked && since != null && session.statusAt(System.currentTimeMillis()) != since) finish(Optional.of(session));
    }

    private void finish(Optional<QrSession> session) {
      if (done) return;
      release();
      answer(ctx, session);
    }

    private void fail(Throwable e) {
      if (done) return;
      release();
      ctx.fail(e);
    }

    private void release() {
      done = true;
      if (releaseCaps != null) {
        releaseCaps.run();
        releaseCaps = null;
      }
      lifecycle.unregister(this);
      if (timer >= 0) vertx.cancelTimer(timer);
      if (watch != null) watch.close();
    }
  }

  private void events(RoutingContext ctx) {
    String sessionId = ctx.pathParam("sessionId");
    String ip = clientIp(ctx);
    caps.acquire(sessionId, ip)
        .onSuccess(v -> new EventStream(ctx, sessionId, () -> caps.release(sessionId, ip)).start())
        .onFailure(ctx::fail);
  }

  /** How soon a browser whose stream ended for a Redis outage reconnects. */
  static final long SSE_RETRY_AFTER_OUTAGE_MS = 2_000;

  /** One SSE subscriber: the current state first, then each change, ending after a terminal state. */
  private final class EventStream implements Lifecycle.Waiter {
    private final RoutingContext ctx;
    private final String sessionId;
    private QrSessionVerticle.Watch watch;
    private SseStream stream;
    private QrSession early;
    private long sentVersion = -1;
    private Status sentStatus;
    private String sentState;

    private Runnable releaseCaps;

    EventStream(RoutingContext ctx, String sessionId, Runnable releaseCaps) {
      this.releaseCaps = releaseCaps;
      this.ctx = ctx;
      this.sessionId = sessionId;
    }

    private final io.vertx.core.Context context = vertx.getOrCreateContext();
    private boolean draining;

    /** The instance is stopping: a retry hint, then the end; the browser reconnects to another instance. */
    @Override
    public void drain() {
      context.runOnContext(v -> {
        draining = true;
        if (stream != null) {
          release();
          stream.retryAndEnd(SSE_RETRY_AFTER_DRAIN_MS);
        }
      });
    }

    void start() {
      watch = hub.watch(sessionId, this::onChange, this::onOutage);
      lifecycle.register(this);
      // The browser may go away before the first read answers: its watch must not outlive it.
      ctx.response().closeHandler(v -> release());
      store.get(sessionId).onSuccess(found -> {
        if (ctx.response().closed() || found.isEmpty() || !originAllowed(ctx, found)) {
          release();
          if (found.isEmpty() && !ctx.response().closed()) answer(ctx, found);
          return;
        }
        // (SseStream's close handler replaces the one above: it stops the heartbeat, then releases the watch.)
        stream = SseStream.open(vertx, ctx.response(), SSE_HEARTBEAT_MS, this::release);
        push(found.get());
        if (early != null) push(early);
        if (draining && !stream.isClosed()) {
          release();
          stream.retryAndEnd(SSE_RETRY_AFTER_DRAIN_MS);
        }
      }).onFailure(e -> {
        release();
        ctx.fail(e);
      });
    }

    /** Redis is gone: an error event, a retry hint and the end; the browser reconnects and reads the state again. */
    private void onOutage() {
      if (stream == null || stream.isClosed()) return; // the first read fails with its own 503
      release();
      stream.send("error", new JsonObject().put("error", "service_unavailable")
          .put("message", "Redis is unavailable, so changes cannot be followed now; reconnect shortly").encode());
      stream.retryAndEnd(SSE_RETRY_AFTER_OUTAGE_MS);
    }

    private void onChange(QrSession session) {
      if (stream == null) {
        if (early == null || session.version() > early.version()) early = session;
        return;
      }
      push(session);
    }

    private void push(QrSession session) {
      if (stream.isClosed()) return;
      Status status = session.statusAt(System.currentTimeMillis());
      if (session.version() <= sentVersion && status == sentStatus) return;
      sentVersion = Math.max(sentVersion, session.version());
      sentStatus = status;
      String state = session.toJson().encode();
      if (state.equals(sentState)) return; // e.g. the same user scanning again: nothing new to tell
      sentState = state;
      stream.send("status", state);
      if (status.terminal()) {
        release();
        stream.end();
      }
    }

    private void release() {
      if (releaseCaps != null) {
        releaseCaps.run();
        releaseCaps = null;
      }
      lifecycle.unregister(this);
      if (watch != null) watch.close();
    }
  }

  private void exchange(RoutingContext ctx) {
    JsonObject body = JsonInput.body(ctx);
    String ticket = JsonInput.requiredString(body, "ticket");
    BasicAuth.Credentials credentials;
    try {
      credentials = BasicAuth.of(ctx).orElse(null);
    } catch (IllegalArgumentException e) {
      credentials = null; // a malformed Authorization header counts as none
    }
    login.exchangeTicket(ticket, credentials == null ? null : credentials.id(), credentials == null ? null : credentials.secret(),
            clientIp(ctx), origin(ctx))
        .onSuccess(result -> Responses.json(ctx, 200, result))
        .onFailure(ctx::fail);
  }

  private String clientIp(RoutingContext ctx) {
    return ClientIp.of(ctx, config.server().trustedProxies());
  }

  private void image(RoutingContext ctx) {
    String file = ctx.pathParam("file");
    if (!file.endsWith(".png")) throw ApiException.notFound("not_found", "No such image");
    String scene = file.substring(0, file.length() - 4);
    store.getByScene(scene).compose(found -> {
      QrSession session = found.filter(s -> !s.statusAt(System.currentTimeMillis()).terminal())
          .orElseThrow(() -> ApiException.notFound("session_not_found", "No live QR session for this code"));
      Connection connection = config.connection(session.connection()).orElseThrow();
      return contentSource.image(connection, session, () -> logo(connection));
    }).onSuccess(png -> ctx.response()
        .putHeader("Content-Type", "image/png")
        .putHeader("Cache-Control", "private, max-age=" + config.qr().sessionTtl().toSeconds())
        .end(png)).onFailure(ctx::fail);
  }

  /** Read once, on the worker that draws the image; an unreadable logo means codes without one. */
  private BufferedImage logo(Connection c) {
    if (!(c instanceof ScanGateConfig.MiniProgramQrConnection connection) || connection.logo() == null) return null;
    return logos.computeIfAbsent(connection.identifier(), id -> {
      try {
        return Optional.of(QrImages.readLogo(connection.logo()));
      } catch (RuntimeException e) {
        log.atWarn().addKeyValue("connection", id).addKeyValue("logo", connection.logo().toString())
            .log("the QR logo cannot be read; drawing codes without it");
        return Optional.empty();
      }
    }).orElse(null);
  }

  /** What a url-style code opens. WeChat opens the mini program instead; other scanners land here. */
  private void landing(RoutingContext ctx) {
    String scene = ctx.pathParam("scene");
    for (Connection c : config.connections()) {
      if (c instanceof ScanGateConfig.MiniProgramQrConnection mini && mini.verificationFile() != null
          && mini.verificationFile().name().equals(scene)) {
        ctx.response().putHeader("Content-Type", "text/plain; charset=utf-8").end(mini.verificationFile().content());
        return;
      }
    }
    Pages.send(ctx, io.vertx.core.buffer.Buffer.buffer("""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Scan with WeChat</title>
        <style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;text-align:center;color:#222}
        h1{font-size:1.4rem}</style></head>
        <body><h1>Please scan this code with WeChat</h1>
        <p>This login code opens a WeChat mini program. Open WeChat, tap <b>Scan</b>, and point it at the code on your computer screen.</p>
        <p lang="zh">请使用微信扫一扫登录。</p></body></html>
        """), Pages.STATIC_CSP);
  }

  /**
   * The Origin rule for a read of an existing session (CONTRACT section 3; docs/qr-login.md): false
   * after failing the request with 403 {@code origin_not_allowed}. An unknown session is left to answer 404.
   */
  private boolean originAllowed(RoutingContext ctx, Optional<QrSession> session) {
    if (session.isEmpty()) return true;
    try {
      LoginPipeline.checkOrigin(config, ownOrigin, session.get().appId(), origin(ctx));
      return true;
    } catch (ApiException refused) {
      ctx.fail(refused);
      return false;
    }
  }

  /** The browser's Origin header (null for server-to-server calls); given twice → 400. */
  private static String origin(RoutingContext ctx) {
    List<String> origins = ctx.request().headers().getAll("Origin");
    if (origins.size() > 1) throw ApiException.badRequest("invalid_request", "Origin is given more than once");
    return origins.isEmpty() ? null : origins.get(0);
  }

  private static void answer(RoutingContext ctx, Optional<QrSession> session) {
    if (session.isEmpty()) {
      ctx.fail(ApiException.notFound("session_not_found", "No such QR session (it may have expired)"));
    } else {
      Responses.json(ctx, 200, session.get().toJson());
    }
  }

  private static Status statusParam(RoutingContext ctx, String name) {
    String raw = JsonInput.queryParam(ctx, name);
    if (raw == null || raw.isEmpty()) return null;
    try {
      return Status.valueOf(raw);
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest("invalid_request", name + " must be one of PENDING, SCANNED, CONFIRMED, CANCELED, EXPIRED, FAILED");
    }
  }
}
