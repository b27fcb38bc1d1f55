package io.scangate;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.scangate.admin.AdminRoutes;
import io.scangate.admin.AdminService;
import io.scangate.admin.AdminVerticle;
import io.scangate.admin.Administration;
import io.scangate.avatar.AvatarRoutes;
import io.scangate.avatar.AvatarService;
import io.scangate.avatar.AvatarServiceImpl;
import io.scangate.avatar.AvatarVerticle;
import io.scangate.config.ScanGateConfig;
import io.scangate.db.Postgres;
import io.scangate.http.HttpVerticle;
import io.scangate.authing.AuthingApiRoutes;
import io.scangate.authing.AuthingMiniProgramRoutes;
import io.scangate.http.Routes;
import io.scangate.identity.UserStore;
import io.scangate.ops.HealthRoutes;
import io.scangate.ops.Lifecycle;
import io.scangate.ops.Metrics;
import io.scangate.ops.MetricsRoutes;
import io.scangate.login.LoginPipeline;
import io.scangate.login.SsoSessions;
import io.scangate.login.LoginService;
import io.scangate.login.LoginVerticle;
import io.scangate.miniprogram.MiniProgramRoutes;
import io.scangate.qr.QrBrowserRoutes;
import io.scangate.qr.QrSessions;
import io.scangate.ratelimit.RateLimiter;
import io.scangate.ratelimit.WaiterCaps;
import io.scangate.wechat.WeChatClient;
import io.scangate.qr.QrContentSource;
import io.scangate.qr.QrSessionStore;
import io.scangate.qr.QrSessionVerticle;
import io.scangate.redis.RedisClients;
import io.scangate.redis.RedisKeys;
import io.scangate.sandbox.SandboxRoutes;
import io.scangate.token.OidcRoutes;
import io.scangate.token.TokenManager;
import io.scangate.token.TokenService;
import io.scangate.token.TokenVerticle;
import io.scangate.token.UserRoutes;
import io.scangate.token.VerifyRoutes;
import io.scangate.officialaccount.ConfirmLinkRoutes;
import io.scangate.officialaccount.OfficialAccountReactor;
import io.scangate.webhook.ForwardVerticle;
import io.scangate.webhook.Forwarder;
import io.scangate.webhook.WebhookRoutes;
import io.scangate.webhook.WebhookVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.sqlclient.Pool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One gateway instance: checks that PostgreSQL and Redis answer, migrates the schema, then
 * deploys the verticles. Any number of instances may share one PostgreSQL and one Redis.
 */
public final class ScanGate {

  /** {@code dev}: mount what only start-dev has (the WeChat sandbox). */
  public record Options(boolean dev, PrometheusMeterRegistry metrics, int httpInstances) {

    public static Options production(PrometheusMeterRegistry metrics) {
      return new Options(false, metrics, defaultHttpInstances());
    }

    public static Options dev(PrometheusMeterRegistry metrics) {
      return new Options(true, metrics, defaultHttpInstances());
    }

    static int defaultHttpInstances() {
      return Math.max(1, Math.min(8, Runtime.getRuntime().availableProcessors()));
    }
  }

  private static final Logger log = LoggerFactory.getLogger(ScanGate.class);
  private static final long CHECK_TIMEOUT_SECONDS = 10;

  private final Infrastructure infra;
  private final List<String> deployments = new ArrayList<>();
  private final Lifecycle lifecycle = new Lifecycle();
  private int port;
  private int metricsPortBound = -1;
  private QrSessionVerticle qrHub;

  private ScanGate(Infrastructure infra) {
    this.infra = infra;
  }

  public static Future<ScanGate> start(Vertx vertx, ScanGateConfig config, Options options) {
    Pool postgres = Postgres.pool(vertx, config.postgres());
    Redis redis = RedisClients.create(vertx, config.redis());
    PrometheusMeterRegistry metrics = options.metrics() != null ? options.metrics() : Metrics.newRegistry();
    Infrastructure infra = new Infrastructure(vertx, config, postgres, redis,
        new RedisKeys(config.redis().keyPrefix()), metrics, options.dev());
    ScanGate gateway = new ScanGate(infra);
    return gateway.checkPostgres()
        .compose(v -> gateway.checkRedis())
        .compose(v -> Postgres.migrate(vertx, config.postgres().url())
            .recover(e -> Future.failedFuture(new StartupException(
                "Database migration failed on PostgreSQL at " + Postgres.describe(config.postgres().url()) + ": " + rootMessage(e)))))
        .compose(v -> gateway.deploy(options))
        .map(gateway)
        .recover(e -> gateway.close().transform(closed -> Future.failedFuture(e)));
  }

  private Future<Void> checkPostgres() {
    String where = Postgres.describe(infra.config().postgres().url());
    return infra.postgres().query("SELECT 1").execute()
        .timeout(CHECK_TIMEOUT_SECONDS, TimeUnit.SECONDS)
        .<Void>mapEmpty()
        .recover(e -> Future.failedFuture(new StartupException("PostgreSQL at " + where + " is unreachable: " + rootMessage(e))));
  }

  private Future<Void> checkRedis() {
    String where = RedisClients.describe(infra.config().redis().url());
    return infra.redis().send(Request.cmd(Command.PING))
        .timeout(CHECK_TIMEOUT_SECONDS, TimeUnit.SECONDS)
        .<Void>mapEmpty()
        .recover(e -> Future.failedFuture(new StartupException("Redis at " + where + " is unreachable: " + rootMessage(e))));
  }

  /**
   * Builds every capability and deploys its verticle: tokens ({@code scangate.token}), QR sessions
   * ({@code scangate.qr}), the login pipeline ({@code scangate.login}), the WeChat webhook
   * ({@code scangate.webhook}, publishing at {@code scangate.wechat.event}), then the HTTP front, whose
   * routes call them through event-bus proxies (docs/architecture.md).
   */
  private Future<Void> deploy(Options options) {
    Vertx vertx = infra.vertx();
    ScanGateConfig config = infra.config();
    UserStore users = new UserStore(infra);
    TokenManager tokens = TokenManager.create(infra, users);
    QrSessionStore qrStore = new QrSessionStore(infra.redis(), infra.keys(), config.qr());
    qrHub = new QrSessionVerticle(config.redis(), qrStore, infra.metrics());
    WeChatClient wechat = new WeChatClient(infra);
    QrContentSource qrContent = new QrContentSource(vertx, config, wechat, infra.redis(), infra.keys());
    SsoSessions sso = new SsoSessions(infra.redis(), infra.keys(), config.tokens().ssoSessionTtl());
    LoginPipeline pipeline = new LoginPipeline(config, new QrSessions(vertx), TokenService.proxy(vertx), users, wechat, qrContent,
        new RateLimiter(infra.redis(), infra.keys()), sso);
    pipeline.countLoginsIn(infra.metrics());
    LoginService login = LoginService.proxy(vertx);
    AvatarServiceImpl avatars = new AvatarServiceImpl(config, infra.postgres(), new QrSessions(vertx), tokens.verifier(),
        new RateLimiter(infra.redis(), infra.keys()));
    Administration administration = new Administration(config, infra.postgres(), infra.redis(), infra.keys(), users, sso);
    Forwarder forwarder = new Forwarder(vertx, config, infra.redis(), infra.keys(), infra.metrics(), Forwarder.Policy.DEFAULT);
    OidcRoutes oidc = new OidcRoutes(TokenService.proxy(vertx), tokens, login, sso);
    // Forward-auth is the hottest path: mounted early, so the router tries few routes first.
    List<Routes> routes = new ArrayList<>(List.of(
        new HealthRoutes(infra.redis(), infra.postgres(), lifecycle),
        new VerifyRoutes(tokens, infra.metrics()),
        new QrBrowserRoutes(vertx, config, login, new QrSessions(vertx), qrHub, qrContent, lifecycle,
            new WaiterCaps(infra.redis(), infra.keys(), config.rateLimits().waitersPerSession(), config.rateLimits().waitersPerIp())),
        new MiniProgramRoutes(config, login),
        OidcRoutes.discovery(config),
        oidc,
        oidc.directLogin(),
        new UserRoutes(tokens),
        new AvatarRoutes(vertx, AvatarService.proxy(vertx)),
        new AuthingApiRoutes(config, login, tokens.verifier()),
        new AuthingMiniProgramRoutes(config, login),
        new AdminRoutes(config, AdminService.proxy(vertx), tokens.verifier()),
        new ConfirmLinkRoutes(vertx, config, login),
        new WebhookRoutes(vertx, config, infra.redis(), infra.keys(), WebhookRoutes.DEFAULT_HOLD, forwarder)));
    // server.metricsPort: /metrics only on its own port, which operators keep off the public network.
    Integer metricsPort = config.server().metricsPort();
    if (metricsPort == null) routes.add(2, new MetricsRoutes(infra.metrics()));
    routes.add(new io.scangate.web.WebAssets()); // the hosted login page's files and the browser SDK
    if (infra.dev()) routes.add(new SandboxRoutes(infra)); // start-dev only: it can forge logins
    return deployOne(new TokenVerticle(tokens))
        .compose(v -> deployOne(qrHub))
        .compose(v -> deployOne(new LoginVerticle(pipeline)))
        .compose(v -> deployOne(new AvatarVerticle(avatars)))
        .compose(v -> deployOne(new AdminVerticle(administration, config.admin().auditRetention())))
        .compose(v -> deployOne(new WebhookVerticle(config, users, new OfficialAccountReactor(login), infra.dev())))
        .compose(v -> deployOne(new ForwardVerticle(forwarder)))
        .compose(v -> deployOne(new io.scangate.ops.BackendProbe(infra.redis(), infra.postgres(), infra.metrics())))
        .compose(v -> deployHttp(options, routes))
        .compose(v -> metricsPort == null ? Future.<Void>succeededFuture() : deployMetrics(metricsPort));
  }

  /** The metrics-only HTTP server of {@code server.metricsPort}. */
  private Future<Void> deployMetrics(int metricsPort) {
    var settings = new HttpVerticle.Settings(infra.config().server().host(), metricsPort, 1024, null,
        infra.config().server().readTimeout(), infra.config().server().headerTimeout());
    HttpVerticle verticle = new HttpVerticle(settings, List.of(new MetricsRoutes(infra.metrics())), lifecycle);
    return deployOne(verticle).onSuccess(v -> metricsPortBound = verticle.actualPort());
  }

  private Future<Void> deployOne(io.vertx.core.Deployable verticle) {
    return infra.vertx().deployVerticle(verticle).map(id -> {
      deployments.add(id);
      return null;
    });
  }

  private Future<Void> deployHttp(Options options, List<Routes> routes) {
    ScanGateConfig.Server server = infra.config().server();
    var settings = new HttpVerticle.Settings(server.host(), server.port(), Math.max(64 * 1024, infra.config().webhook().maxBodyBytes()),
        options.dev() ? server.publicUrl() : null, server.readTimeout(), server.headerTimeout());
    // All instances listen on the same requested address, so Vert.x shares one server socket
    // among them (also for port 0, where they share the one random port).
    List<HttpVerticle> instances = new java.util.concurrent.CopyOnWriteArrayList<>();
    return infra.vertx()
        .deployVerticle(() -> {
          HttpVerticle verticle = new HttpVerticle(settings, routes, lifecycle);
          instances.add(verticle);
          return verticle;
        }, new DeploymentOptions().setInstances(options.httpInstances()))
        .map(id -> {
          deployments.add(id);
          port = instances.get(0).actualPort();
          return id;
        })
        .onSuccess(x -> log.atInfo().addKeyValue("port", port).addKeyValue("httpInstances", options.httpInstances())
            .log("gateway started"))
        .mapEmpty();
  }

  public int port() {
    return port;
  }

  /** The port {@code /metrics} is served on when {@code server.metricsPort} is set (the bound one, for port 0); else -1. */
  public int metricsPort() {
    return metricsPortBound;
  }

  /** This instance's QR hub (for tests and benchmarks that count waiters). */
  public QrSessionVerticle qrHub() {
    return qrHub;
  }

  public Infrastructure infrastructure() {
    return infra;
  }

  /**
   * Stops taking new work and lets what is in flight finish, for at most {@code server.shutdownGracePeriod}
   * (see {@link Lifecycle}); call {@link #close()} after it.
   */
  public Future<Void> drain() {
    log.info("draining: readiness is 503, waiting browsers are answered, in-flight requests may finish");
    return lifecycle.drain(infra.vertx(), infra.config().server().shutdownGracePeriod())
        .onComplete(done -> log.atInfo().addKeyValue("stillInFlight", lifecycle.inFlight()).log("drained"));
  }

  /** Undeploys this instance's verticles and closes its clients; the Vertx stays open. */
  public Future<Void> close() {
    List<Future<?>> undeployed = new ArrayList<>();
    for (String id : deployments) undeployed.add(infra.vertx().undeploy(id).otherwiseEmpty());
    return Future.join(undeployed)
        .eventually(() -> infra.postgres().close())
        .eventually(() -> {
          infra.redis().close();
          return Future.succeededFuture();
        })
        .otherwiseEmpty()
        .mapEmpty();
  }

  static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) t = t.getCause();
    String message = t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName();
    return message.replaceAll("\\s+", " ").trim();
  }
}
