package io.scangate.qr;

import io.scangate.Infrastructure;
import io.scangate.config.ScanGateConfig;
import io.scangate.config.ScanGateConfig.Application;
import io.scangate.config.ScanGateConfig.Connection;
import io.scangate.http.ApiException;
import io.scangate.http.JsonInput;
import io.scangate.http.BasicAuth;
import io.scangate.identity.LoginContext;
import io.scangate.identity.UserStore;
import io.scangate.token.Tokens;
import io.scangate.http.ClientIp;
import io.scangate.http.Responses;
import io.scangate.http.Routes;
import io.scangate.http.SseStream;
import io.scangate.qr.QrSession.Status;
import io.scangate.ratelimit.RateLimiter;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.CorsHandler;

import java.awt.image.BufferedImage;
import java.util.LinkedHashSet;
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

  private final Vertx vertx;
  private final ScanGateConfig config;
  private final QrSessionStore store;
  private final QrSessionVerticle hub;
  private final RateLimiter rateLimiter;
  private final QrContentSource contentSource;
  private final UserStore users;
  private final String ownOrigin;
  private final Map<String, Optional<BufferedImage>> logos = new ConcurrentHashMap<>();

  public QrBrowserRoutes(Infrastructure infra, QrSessionStore store, QrSessionVerticle hub, QrContentSource contentSource,
                         UserStore users) {
    this.users = users;
    this.vertx = infra.vertx();
    this.config = infra.config();
    this.store = store;
    this.hub = hub;
    this.rateLimiter = new RateLimiter(infra.redis(), infra.keys());
    this.contentSource = contentSource;
    this.ownOrigin = originOf(config.server().publicUrl());
    for (Connection c : config.connections()) {
      if (c instanceof ScanGateConfig.MiniProgramQrConnection mini && mini.logo() != null && !java.nio.file.Files.isReadable(mini.logo())) {
        log.atWarn().addKeyValue("connection", c.identifier()).addKeyValue("logo", mini.logo().toString())
            .log("the configured QR logo is not readable; codes will be drawn without it");
      }
    }
  }

  /** scheme://host[:port] of a URL, as browsers send it in Origin. */
  static String originOf(String url) {
    java.net.URI u = java.net.URI.create(url);
    return u.getScheme() + "://" + u.getHost() + (u.getPort() < 0 ? "" : ":" + u.getPort());
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
    JsonObject body = JsonInput.body(ctx);
    String appId = JsonInput.requiredString(body, "appId");
    String connectionId = JsonInput.requiredString(body, "connection");
    Application app = config.application(appId)
        .orElseThrow(() -> ApiException.badRequest("unknown_app", "No application with appId " + appId));
    Connection connection = config.connection(connectionId)
        .filter(c -> app.enables(c.identifier()))
        .orElseThrow(() -> ApiException.badRequest("connection_not_enabled",
            "Application " + appId + " does not enable connection " + connectionId));
    if (!(connection instanceof ScanGateConfig.QrConnection)) {
      throw ApiException.badRequest("connection_not_qr", "Connection " + connectionId + " is not a QR code connection");
    }
    String origin = ctx.request().getHeader("Origin");
    if (origin != null && !origin.equals(ownOrigin) && !app.allowedOrigins().contains(origin)) {
      throw new ApiException(403, "origin_not_allowed", "Origin " + origin + " is not allowed for application " + appId);
    }
    String ip = ClientIp.of(ctx, config.server().trustedProxies());
    var limits = config.rateLimits();
    rateLimiter.acquire("qr-ip", ip, limits.sessionsPerMinutePerIp(), "QR sessions from this address")
        .compose(v -> rateLimiter.acquire("qr-app", appId, limits.sessionsPerMinutePerApp(), "QR sessions for this application"))
        .compose(v -> {
          String scene = QrIds.scene();
          long now = System.currentTimeMillis();
          long expiresAt = now + config.qr().sessionTtl().toMillis();
          return contentSource.qrContent(connection, scene).compose(content -> store.create(new QrSession(
              QrIds.sessionId(), Status.PENDING, appId, connectionId, scene, content, now, expiresAt, ip,
              truncate(ctx.request().getHeader("User-Agent"), 300), null, null, null, null, null, null, null, null, 1)));
        })
        .onSuccess(s -> Responses.json(ctx, 201, s.toJson()
            .put("qrcodeUrl", config.server().publicUrl() + "/api/v1/qr/images/" + s.scene() + ".png")))
        .onFailure(ctx::fail);
  }

  private void read(RoutingContext ctx) {
    String sessionId = ctx.pathParam("sessionId");
    // N ≤ 60: a longer wait is served as 60 s (the browser simply polls again).
    int waitSeconds = Math.min(MAX_WAIT_SECONDS, JsonInput.intParam(ctx, "waitSeconds", 0, 0, Integer.MAX_VALUE));
    Status since = statusParam(ctx, "since");
    if (waitSeconds == 0) {
      store.get(sessionId).onSuccess(found -> answer(ctx, found)).onFailure(ctx::fail);
      return;
    }
    new LongPoll(ctx, sessionId, since, waitSeconds).start();
  }

  /** One waiting browser: answers on the first status other than {@code since}, or when time is up. */
  private final class LongPoll {
    private final RoutingContext ctx;
    private final String sessionId;
    private Status since;
    private final int waitSeconds;
    private QrSessionVerticle.Watch watch;
    private long timer = -1;
    private boolean done;

    LongPoll(RoutingContext ctx, String sessionId, Status since, int waitSeconds) {
      this.ctx = ctx;
      this.sessionId = sessionId;
      this.since = since;
      this.waitSeconds = waitSeconds;
    }

    void start() {
      // Watch before reading, so a change between the read and the watch cannot be missed.
      watch = hub.watch(sessionId, this::onChange);
      ctx.response().closeHandler(v -> release());
      store.get(sessionId).onSuccess(found -> {
        if (found.isEmpty()) {
          finish(Optional.empty());
          return;
        }
        if (since == null) since = found.get().statusAt(System.currentTimeMillis());
        if (found.get().statusAt(System.currentTimeMillis()) != since) {
          finish(found);
        } else if (!done) {
          timer = vertx.setTimer(waitSeconds * 1000L, t -> store.get(sessionId)
              .onSuccess(this::finish).onFailure(e -> fail(e)));
        }
      }).onFailure(this::fail);
    }

    private void onChange(QrSession session) {
      if (!done && since != null && session.statusAt(System.currentTimeMillis()) != since) finish(Optional.of(session));
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
      if (timer >= 0) vertx.cancelTimer(timer);
      if (watch != null) watch.close();
    }
  }

  private void events(RoutingContext ctx) {
    String sessionId = ctx.pathParam("sessionId");
    new EventStream(ctx, sessionId).start();
  }

  /** One SSE subscriber: the current state first, then each change, ending after a terminal state. */
  private final class EventStream {
    private final RoutingContext ctx;
    private final String sessionId;
    private QrSessionVerticle.Watch watch;
    private SseStream stream;
    private QrSession early;
    private long sentVersion = -1;
    private Status sentStatus;
    private String sentState;

    EventStream(RoutingContext ctx, String sessionId) {
      this.ctx = ctx;
      this.sessionId = sessionId;
    }

    void start() {
      watch = hub.watch(sessionId, this::onChange);
      store.get(sessionId).onSuccess(found -> {
        if (found.isEmpty()) {
          watch.close();
          answer(ctx, found);
          return;
        }
        stream = SseStream.open(vertx, ctx.response(), SSE_HEARTBEAT_MS);
        ctx.response().closeHandler(v -> release());
        push(found.get());
        if (early != null) push(early);
      }).onFailure(e -> {
        watch.close();
        ctx.fail(e);
      });
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
      if (watch != null) watch.close();
    }
  }

  private void exchange(RoutingContext ctx) {
    JsonObject body = JsonInput.body(ctx);
    String ticket = JsonInput.requiredString(body, "ticket");
    if (!QrIds.looksLikeId(ticket)) throw invalidTicket();
    String ip = ClientIp.of(ctx, config.server().trustedProxies());
    // Authenticate before using the ticket up, so a failed attempt by its owner does not burn it.
    store.peekTicket(ticket).compose(peeked -> {
      QrSessionStore.Grant grant = peeked.orElseThrow(QrBrowserRoutes::invalidTicket);
      Application app = config.application(grant.appId()).orElseThrow(QrBrowserRoutes::invalidTicket);
      if (app.exchangeAuth() == ScanGateConfig.ExchangeAuth.SECRET) authenticate(ctx, app);
      return store.consumeTicket(ticket);
    }).compose(consumed -> {
      QrSessionStore.Grant grant = consumed.orElseThrow(QrBrowserRoutes::invalidTicket);
      LoginContext context = new LoginContext(grant.appId(), ip);
      return users.find(grant.userId())
          .compose(user -> Tokens.issue(vertx.eventBus(), user.id(), grant.appId(), null)
              .compose(tokens -> users.audit("qr_exchange", "success", user.id(), grant.connection(), context, null)
                  .map(v -> new JsonObject().put("user", user.toJson()).put("tokens", tokens))));
    }).onSuccess(result -> Responses.json(ctx, 200, result)).onFailure(ctx::fail);
  }

  /** {@code exchangeAuth: secret}: the site's backend proves it is the application (HTTP Basic appId:appSecret). */
  private static void authenticate(RoutingContext ctx, Application app) {
    BasicAuth.Credentials credentials;
    try {
      credentials = BasicAuth.of(ctx).orElse(null);
    } catch (IllegalArgumentException e) {
      credentials = null;
    }
    if (credentials == null || !credentials.id().equals(app.appId()) || !BasicAuth.secretMatches(app, credentials.secret())) {
      throw new ApiException(401, "invalid_client", "This application exchanges tickets with HTTP Basic appId:appSecret") {
        @Override
        public Map<String, String> headers() {
          return Map.of("WWW-Authenticate", "Basic realm=\"scangate\"");
        }
      };
    }
  }

  static ApiException invalidTicket() {
    return ApiException.badRequest("invalid_ticket", "The ticket is unknown, expired or already used");
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
    ctx.response().putHeader("Content-Type", "text/html; charset=utf-8").putHeader("Cache-Control", "no-store").end("""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Scan with WeChat</title>
        <style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;text-align:center;color:#222}
        h1{font-size:1.4rem}</style></head>
        <body><h1>Please scan this code with WeChat</h1>
        <p>This login code opens a WeChat mini program. Open WeChat, tap <b>Scan</b>, and point it at the code on your computer screen.</p>
        <p lang="zh">请使用微信扫一扫登录。</p></body></html>
        """);
  }

  private static void answer(RoutingContext ctx, Optional<QrSession> session) {
    if (session.isEmpty()) {
      ctx.fail(ApiException.notFound("session_not_found", "No such QR session (it may have expired)"));
    } else {
      Responses.json(ctx, 200, session.get().toJson());
    }
  }

  private static Status statusParam(RoutingContext ctx, String name) {
    String raw = ctx.queryParams().get(name);
    if (raw == null || raw.isEmpty()) return null;
    try {
      return Status.valueOf(raw);
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest("invalid_request", name + " must be one of PENDING, SCANNED, CONFIRMED, CANCELED, EXPIRED, FAILED");
    }
  }

  private static String truncate(String s, int max) {
    if (s == null) return "";
    return s.length() <= max ? s : s.substring(0, max);
  }

}
