package io.scangate.qr;

import io.scangate.Infrastructure;
import io.scangate.config.ScanGateConfig;
import io.scangate.config.ScanGateConfig.Connection;
import io.scangate.http.ApiException;
import io.scangate.http.JsonInput;
import io.scangate.http.ClientIp;
import io.scangate.http.Responses;
import io.scangate.http.Routes;
import io.scangate.identity.LoginContext;
import io.scangate.identity.User;
import io.scangate.identity.UserStore;
import io.scangate.identity.WeChatIdentity;
import io.scangate.qr.QrSession.Status;
import io.scangate.ratelimit.RateLimiter;
import io.scangate.wechat.WeChatClient;
import io.scangate.wechat.WeChatException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * What the reference mini program calls after the user scanned a url-style or wxacode QR code
 * (CONTRACT section 4): scan (proves who scans, shows which browser asked), confirm (runs
 * identity resolution, linking and loginOnly, then hands the browser a one-time ticket), cancel.
 * The scan token returned by scan is the mini program's proof for confirm and cancel.
 */
public final class MiniProgramQrRoutes implements Routes {

  private final ScanGateConfig config;
  private final QrSessionStore store;
  private final WeChatClient wechat;
  private final UserStore users;
  private final RateLimiter rateLimiter;

  public MiniProgramQrRoutes(Infrastructure infra, QrSessionStore store, WeChatClient wechat, UserStore users) {
    this.config = infra.config();
    this.store = store;
    this.wechat = wechat;
    this.users = users;
    this.rateLimiter = new RateLimiter(infra.redis(), infra.keys());
  }

  @Override
  public void mount(Router router) {
    router.post("/api/v1/miniprogram/qr/:scene/scan").handler(this::scan);
    router.post("/api/v1/miniprogram/qr/:scene/confirm").handler(this::confirm);
    router.post("/api/v1/miniprogram/qr/:scene/cancel").handler(this::cancel);
  }

  private void scan(RoutingContext ctx) {
    JsonObject body = JsonInput.body(ctx);
    String connectionId = JsonInput.requiredString(body, "connection");
    String code = JsonInput.requiredString(body, "code");
    String scanToken = QrIds.scanToken();
    liveSession(ctx.pathParam("scene")).compose(session -> {
      Connection connection = sessionConnection(session, connectionId);
      return wechat.jscode2session(connection, code).recover(WeChatException::asApiFailure)
          .compose(who -> rateLimiter.acquire("qr-scan", connection.wechatAppId() + ":" + who.openid(),
                  config.rateLimits().scansPerMinutePerUser(), "scans by this WeChat user")
              .compose(v -> store.scan(session.sessionId(), who.openid(), who.unionid(), QrIds.hash(scanToken), null, null)))
          .compose(scanned -> users.audit("qr_scan", "success", null, scanned.connection(),
              new LoginContext(scanned.appId(), ClientIp.of(ctx, config.server().trustedProxies())), null).map(scanned));
    }).onSuccess(scanned -> Responses.json(ctx, 200, new JsonObject()
            .put("scanToken", scanToken)
            .put("session", new JsonObject()
                .put("appName", config.application(scanned.appId()).map(ScanGateConfig.Application::name).orElse(scanned.appId()))
                .put("createdAt", QrSession.iso(scanned.createdAt()))
                .put("ip", ClientIp.mask(scanned.ip()))
                .put("userAgent", scanned.userAgent()))))
        .onFailure(ctx::fail);
  }

  private void confirm(RoutingContext ctx) {
    JsonObject body = JsonInput.body(ctx);
    String scanToken = JsonInput.requiredString(body, "scanToken");
    String phoneCode = JsonInput.optionalString(body, "phoneCode", 512);
    JsonObject profile = body.getValue("profile") instanceof JsonObject p ? p : new JsonObject();
    if (body.getValue("profile") != null && !(body.getValue("profile") instanceof JsonObject)) {
      throw ApiException.badRequest("invalid_request", "\"profile\" must be an object");
    }
    String nickname = JsonInput.optionalString(profile, "nickname", 64);
    String avatarUrl = JsonInput.optionalString(profile, "avatarUrl", 1024);
    String scanTokenHash = QrIds.hash(scanToken);
    liveSession(ctx.pathParam("scene")).compose(session -> {
      // Check the scanner's proof before any WeChat call or database write.
      if (session.status() != Status.SCANNED) return Future.failedFuture(QrSessionStore.refusal("not_scanned", session.status().name()));
      if (!scanTokenHash.equals(session.scanTokenHash())) return Future.failedFuture(QrSessionStore.refusal("invalid_scan_token", ""));
      Connection connection = config.connection(session.connection()).orElseThrow();
      LoginContext context = new LoginContext(session.appId(), session.ip());
      Future<String> phone = phoneCode == null ? Future.succeededFuture(null)
          : wechat.phoneNumber(connection, phoneCode).recover(WeChatException::asApiFailure).map(p -> p.purePhoneNumber());
      return phone
          .compose(number -> users.resolve(new WeChatIdentity(connection.identifier(), connection.wechatAppId(),
              session.openid(), session.unionid(), number, nickname, avatarUrl), connection, context))
          .compose((User user) -> store.confirm(session.sessionId(), scanTokenHash, user.id(), QrIds.ticket(),
                  user.nickname(), user.avatarUrl())
              .map(confirmed -> new JsonObject()))
          .recover(e -> e instanceof ApiException refused && refused.status() == 403 && !"invalid_scan_token".equals(refused.code())
              // A refusal (login_only) is an outcome, not a bad request (CONTRACT: confirm answers
              // 200; the session becomes FAILED with its error, and the browser is told why).
              ? store.fail(session.sessionId(), scanTokenHash, refused.code()).map(failed -> new JsonObject()
                  .put("status", "FAILED").put("error", refused.code()).put("message", refused.getMessage()))
              : Future.failedFuture(e));
    }).onSuccess(answer -> Responses.json(ctx, 200, answer)).onFailure(ctx::fail);
  }

  private void cancel(RoutingContext ctx) {
    JsonObject body = JsonInput.body(ctx);
    String scanToken = JsonInput.requiredString(body, "scanToken");
    liveSession(ctx.pathParam("scene"))
        .compose(session -> store.cancel(session.sessionId(), QrIds.hash(scanToken)))
        .compose(canceled -> users.audit("qr_cancel", "success", null, canceled.connection(),
            new LoginContext(canceled.appId(), canceled.ip()), null))
        .onSuccess(v -> Responses.json(ctx, 200, new JsonObject()))
        .onFailure(ctx::fail);
  }

  private Future<QrSession> liveSession(String scene) {
    if (!QrIds.looksLikeId(scene)) return Future.failedFuture(ApiException.notFound("session_not_found", "No such QR code"));
    return store.getByScene(scene).compose(found -> {
      if (found.isEmpty()) return Future.failedFuture(ApiException.notFound("session_not_found", "No such QR code"));
      QrSession s = found.get();
      Status now = s.statusAt(System.currentTimeMillis());
      if (now == Status.EXPIRED) return Future.failedFuture(QrSessionStore.refusal("session_expired", now.name()));
      if (now.terminal()) return Future.failedFuture(QrSessionStore.refusal("session_finished", now.name()));
      return Future.succeededFuture(s);
    });
  }

  /**
   * The session's own connection. The mini program may name it, or its silent-login connection
   * for the same mini program (same WeChat app): both identify the same app id.
   */
  private Connection sessionConnection(QrSession session, String named) {
    Connection own = config.connection(session.connection()).orElseThrow();
    Connection given = config.connection(named)
        .orElseThrow(() -> ApiException.badRequest("unknown_connection", "No connection named " + named));
    boolean sameMiniProgram = given.wechatAppId().equals(own.wechatAppId())
        && !(given instanceof ScanGateConfig.OfficialAccountConnection);
    if (!(own instanceof ScanGateConfig.MiniProgramQrConnection)) {
      throw ApiException.badRequest("connection_mismatch", "This code is not a mini program code");
    }
    if (!given.identifier().equals(own.identifier()) && !sameMiniProgram) {
      throw ApiException.badRequest("connection_mismatch", "Connection " + named + " is not the one this code belongs to");
    }
    return own;
  }

}
