package io.scangate.login;

import io.scangate.config.ScanGateConfig;
import io.scangate.config.ScanGateConfig.Application;
import io.scangate.config.ScanGateConfig.Connection;
import io.scangate.config.ScanGateConfig.MiniProgramQrConnection;
import io.scangate.config.ScanGateConfig.OfficialAccountConnection;
import io.scangate.config.ScanGateConfig.QrConnection;
import io.scangate.error.ApiException;
import io.scangate.error.Failures;
import io.scangate.http.BasicAuth;
import io.scangate.http.ClientIp;
import io.scangate.identity.LoginContext;
import io.scangate.identity.User;
import io.scangate.identity.UserStore;
import io.scangate.identity.WeChatIdentity;
import io.scangate.qr.QrContentSource;
import io.scangate.qr.QrIds;
import io.scangate.qr.QrSession;
import io.scangate.qr.QrSession.Status;
import io.scangate.qr.QrSessions;
import io.scangate.ratelimit.RateLimiter;
import io.scangate.token.TokenService;
import io.scangate.util.Times;
import io.scangate.wechat.WeChatClient;
import io.scangate.wechat.WeChatException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.util.Map;

/**
 * {@link LoginService} itself: each door's steps written once, in terms of the capabilities it
 * composes — QR sessions ({@code scangate.qr}) and tokens ({@code scangate.token}) over the event
 * bus, the user store (PostgreSQL) and the WeChat API client. Every failure it answers is an
 * {@link ApiException} ({@link Failures#forBus}).
 */
public final class LoginPipeline implements LoginService {

  private final ScanGateConfig config;
  private final QrSessions sessions;
  private final TokenService tokens;
  private final UserStore users;
  private final WeChatClient wechat;
  private final QrContentSource qrContent;
  private final RateLimiter rateLimiter;
  private final SsoSessions sso;
  private final String ownOrigin;

  public LoginPipeline(ScanGateConfig config, QrSessions sessions, TokenService tokens, UserStore users, WeChatClient wechat,
                       QrContentSource qrContent, RateLimiter rateLimiter, SsoSessions sso) {
    this.config = config;
    this.sso = sso;
    this.sessions = sessions;
    this.tokens = tokens;
    this.users = users;
    this.wechat = wechat;
    this.qrContent = qrContent;
    this.rateLimiter = rateLimiter;
    this.ownOrigin = originOf(config.server().publicUrl());
  }

  /** scheme://host[:port] of a URL, as browsers send it in Origin. */
  public static String originOf(String url) {
    java.net.URI u = java.net.URI.create(url);
    return u.getScheme() + "://" + u.getHost() + (u.getPort() < 0 ? "" : ":" + u.getPort());
  }

  // ---- doors ----

  @Override
  public Future<JsonObject> startQrSession(String appId, String connectionId, String origin, String clientIp, String userAgent) {
    return Failures.forBus(attempt(() -> {
      Application app = application(appId);
      QrConnection connection = enabledConnection(app, connectionId, QrConnection.class,
          "connection_not_qr", "is not a QR code connection");
      checkOrigin(config, ownOrigin, app.appId(), origin);
      var limits = config.rateLimits();
      return rateLimiter.acquire("qr-ip", clientIp, limits.sessionsPerMinutePerIp(), "QR sessions from this address")
          .compose(v -> rateLimiter.acquire("qr-app", appId, limits.sessionsPerMinutePerApp(), "QR sessions for this application"))
          .compose(v -> {
            String tag = QrIds.newTag();
            String scene = QrIds.scene(tag);
            long now = System.currentTimeMillis();
            long expiresAt = now + config.qr().sessionTtl().toMillis();
            return qrContent.qrContent(connection, scene).compose(content -> sessions.create(new QrSession(
                QrIds.sessionId(tag), Status.PENDING, appId, connectionId, scene, content, now, expiresAt, clientIp,
                truncate(Profile.printableOnly(userAgent), 300), null, null, null, null, null, null, null, null, 1)));
          })
          .map(s -> s.toJson().put("qrcodeUrl", config.server().publicUrl() + "/api/v1/qr/images/" + s.scene() + ".png"));
    }));
  }

  @Override
  public Future<JsonObject> startQrSessionOfKind(String appId, String kind, String connection, String origin, String clientIp,
                                                 String userAgent) {
    return Failures.forBus(attempt(() -> {
      Class<? extends QrConnection> type = switch (kind) {
        case KIND_MINIPROGRAM_QR -> MiniProgramQrConnection.class;
        case KIND_OFFICIAL_ACCOUNT -> OfficialAccountConnection.class;
        default -> throw ApiException.badRequest("invalid_request", "Unknown kind of QR code: " + kind);
      };
      Application app = application(appId);
      String chosen = connection;
      if (chosen == null) {
        chosen = app.connections().stream()
            .filter(id -> config.connection(id).filter(type::isInstance).isPresent())
            .findFirst()
            .orElseThrow(() -> ApiException.badRequest("connection_not_enabled",
                "Application " + appId + " enables no " + kind + " connection"));
      } else {
        enabledConnection(app, chosen, type, "scene_connection_mismatch", "is not a " + kind + " connection (the scene asks for one)");
      }
      return startQrSession(appId, chosen, origin, clientIp, userAgent);
    }));
  }

  /** {@link #startQrSessionOfKind} kinds. */
  public static final String KIND_MINIPROGRAM_QR = "miniprogram-qr";
  public static final String KIND_OFFICIAL_ACCOUNT = "official-account";

  @Override
  public Future<JsonObject> readQrSession(String sessionId, String appId, String origin) {
    if (!QrIds.looksLikeId(sessionId)) return Future.failedFuture(sessionNotFound());
    return Failures.forBus(sessions.get(sessionId).map(found -> {
      QrSession session = found.filter(s -> appId == null || appId.equals(s.appId())).orElseThrow(LoginPipeline::sessionNotFound);
      checkOrigin(config, ownOrigin, session.appId(), origin);
      return session.toJson();
    }));
  }

  private static ApiException sessionNotFound() {
    return ApiException.notFound("session_not_found", "No such QR session (it may have expired)");
  }

  @Override
  public Future<JsonObject> scanMiniProgramQr(String scene, String connectionId, String code, String clientIp) {
    String scanToken = QrIds.scanToken();
    return Failures.forBus(liveSession(scene).compose(session -> {
      MiniProgramQrConnection connection = scannedWith(session, connectionId);
      return wechatSession(connection, code)
          .compose(who -> rateLimiter.acquire("qr-scan", connection.wechatAppId() + ":" + who.openid(),
                  config.rateLimits().scansPerMinutePerUser(), "scans by this WeChat user")
              .compose(v -> sessions.scan(session.sessionId(), who.openid(), who.unionid(), QrIds.hash(scanToken))))
          .compose(scanned -> audit("qr_scan", null, scanned.connection(), new LoginContext(scanned.appId(), clientIp))
              .map(scanned));
    }).map(scanned -> new JsonObject()
        .put("scanToken", scanToken)
        .put("session", new JsonObject()
            .put("appName", config.application(scanned.appId()).map(Application::name).orElse(scanned.appId()))
            .put("createdAt", Times.iso(scanned.createdAt()))
            .put("ip", ClientIp.mask(scanned.ip()))
            .put("userAgent", scanned.userAgent()))));
  }

  @Override
  public Future<JsonObject> confirmMiniProgramQr(String scene, String scanToken, String phoneCode, String nickname,
                                                 String avatarUrl) {
    String scanTokenHash = QrIds.hash(scanToken);
    return Failures.forBus(attempt(() -> {
      Profile profile = Profile.of(nickname, avatarUrl);
      return liveSession(scene).compose(session -> {
        // Check the scanner's proof before any WeChat call or database write.
        if (session.status() != Status.SCANNED) return Future.failedFuture(refusal(409, "not_scanned",
            "The QR session is " + session.status() + ", not SCANNED"));
        if (!scanTokenHash.equals(session.scanTokenHash())) return Future.failedFuture(refusal(403, "invalid_scan_token",
            "The scan token does not belong to this session"));
        Connection connection = config.connection(session.connection()).orElseThrow();
        LoginContext context = new LoginContext(session.appId(), session.ip());
        return phone(connection, phoneCode)
            .compose(number -> resolveUser(connection, new WeChatIdentity(connection.identifier(), connection.wechatAppId(),
                session.openid(), session.unionid(), number, profile.nickname(), profile.avatarUrl()), context))
            .compose(user -> sessions.confirm(session.sessionId(), scanTokenHash, user.id(), QrIds.ticket(session.sessionId()),
                user.nickname(), user.avatarUrl()).map(confirmed -> new JsonObject()))
            .recover(e -> {
              ApiException refused = ApiException.from(e);
              // A refusal of this user (login_only) is an outcome, not a bad request (CONTRACT: confirm
              // answers 200; the session becomes FAILED with its error, and the browser is told why).
              if (refused == null || refused.status() != 403) return Future.failedFuture(e);
              return sessions.fail(session.sessionId(), scanTokenHash, refused.code()).map(failed -> new JsonObject()
                  .put("status", "FAILED").put("error", refused.code()).put("message", refused.getMessage()));
            });
      });
    }));
  }

  @Override
  public Future<Void> cancelMiniProgramQr(String scene, String scanToken) {
    return Failures.forBus(liveSession(scene)
        .compose(session -> sessions.cancel(session.sessionId(), QrIds.hash(scanToken)))
        .compose(canceled -> audit("qr_cancel", null, canceled.connection(),
            new LoginContext(canceled.appId(), canceled.ip()))));
  }

  @Override
  public Future<JsonObject> exchangeTicket(String ticket, String clientId, String clientSecret, String clientIp, String origin) {
    return exchange(null, ticket, clientId, clientSecret, clientIp, origin);
  }

  @Override
  public Future<JsonObject> exchangeTicketOfApp(String appId, String ticket, String clientIp, String origin) {
    return exchange(appId, ticket, null, null, clientIp, origin);
  }

  /** The exchange; with {@code expectedApp}, another application's ticket is unknown here (and stays unused). */
  private Future<JsonObject> exchange(String expectedApp, String ticket, String clientId, String clientSecret, String clientIp,
                                      String origin) {
    if (!QrIds.looksLikeId(ticket)) return Future.failedFuture(invalidTicket());
    return Failures.forBus(sessions.peekTicket(ticket).compose(peeked -> {
      var grant = peeked.filter(g -> expectedApp == null || expectedApp.equals(g.appId()))
          .orElseThrow(LoginPipeline::invalidTicket);
      Application app = config.application(grant.appId()).orElseThrow(LoginPipeline::invalidTicket);
      // The ticket's application decides which pages may use it up; a refusal leaves the ticket as it was.
      checkOrigin(config, ownOrigin, app.appId(), origin);
      if (app.exchangeAuth() == ScanGateConfig.ExchangeAuth.SECRET) authenticate(app, clientId, clientSecret);
      return sessions.consumeTicket(ticket);
    }).compose(consumed -> {
      var grant = consumed.orElseThrow(LoginPipeline::invalidTicket);
      LoginContext context = new LoginContext(grant.appId(), clientIp);
      return notBlocked(grant.userId(), grant.connection(), context)
          .compose(user -> issue(user, grant.appId())
              .compose(result -> audit("qr_exchange", user.id(), grant.connection(), context).map(result)))
          .onSuccess(done -> loggedIn(expectedApp == null ? "qr_exchange" : "authing_exchange"));
    }));
  }

  @Override
  public Future<JsonObject> authorizeWithTicket(String requestId, String ticket, String clientIp, String origin) {
    if (!QrIds.looksLikeId(ticket)) return Future.failedFuture(invalidTicket());
    return Failures.forBus(tokens.authorizationRequest(requestId).compose(request -> {
      String clientId = request.getString("clientId");
      return sessions.peekTicket(ticket).compose(peeked -> {
        // Another application's ticket is unknown here, and stays unused.
        peeked.filter(g -> clientId.equals(g.appId())).orElseThrow(LoginPipeline::invalidTicket);
        checkOrigin(config, ownOrigin, clientId, origin);
        return sessions.consumeTicket(ticket);
      }).compose(consumed -> {
        var grant = consumed.orElseThrow(LoginPipeline::invalidTicket);
        // auth_time: the ticket was confirmed moments ago (it lives qr.ticketTtl at most).
        long authTime = System.currentTimeMillis() / 1000;
        return notBlocked(grant.userId(), grant.connection(), new LoginContext(clientId, clientIp))
            .compose(user -> tokens.issueAuthorizationCode(requestId, grant.userId(), authTime))
            .compose(issued -> audit("oidc_authorize", grant.userId(), grant.connection(), new LoginContext(clientId, clientIp))
                // The scan starts a single sign-on session; the route puts its id in the browser's cookie.
                .compose(v -> sso.start(grant.userId(), grant.connection(), authTime))
                .map(ssoSession -> new JsonObject().put("redirect", authorizationResponse(issued)).put("ssoSession", ssoSession)))
            .onSuccess(done -> loggedIn("oidc"));
      });
    }));
  }

  @Override
  public Future<JsonObject> authorizeFromSession(String requestId, String ssoSession, String clientIp) {
    return Failures.forBus(tokens.authorizationRequest(requestId).compose(request -> {
      Application app = application(request.getString("clientId"));
      String prompt = java.util.Objects.requireNonNullElse(request.getString("prompt"), "");
      Integer maxAge = request.getInteger("maxAge");
      // OIDC Core 3.1.2.1: prompt=login (and select_account, a choice only a scan can make) and max_age=0 want a scan.
      if (prompt.contains("login") || prompt.contains("select_account")) throw loginRequired("the request asks for a fresh login");
      if (maxAge != null && maxAge == 0) throw loginRequired("max_age=0 asks for a fresh login");
      // RFC 8252 8.6: any local app can claim a loopback redirect; only a scan shows the user who asks.
      if (request.getBoolean("loopbackRedirect", false)) throw loginRequired("a loopback redirect_uri needs a scan");
      return sso.find(ssoSession).compose(session -> {
        if (session == null) throw loginRequired("there is no single sign-on session");
        if (!app.enables(session.connection())
            || request.getString("connection") != null && !request.getString("connection").equals(session.connection())) {
          throw loginRequired("the single sign-on session was made with a connection this request does not use");
        }
        if (maxAge != null && System.currentTimeMillis() / 1000 - session.authTime() > maxAge) {
          throw loginRequired("the last scan is older than max_age");
        }
        LoginContext context = new LoginContext(app.appId(), clientIp);
        return sessionUser(session)
            .compose(user -> tokens.issueAuthorizationCode(requestId, user.id(), session.authTime()))
            .compose(issued -> users.audit("oidc_authorize", "success", session.userId(), session.connection(), context,
                    new JsonObject().put("sso", true))
                .map(v -> new JsonObject().put("redirect", authorizationResponse(issued))))
            .onSuccess(done -> loggedIn("oidc_sso"));
      });
    }));
  }

  /**
   * The user a single sign-on session answers for, as the pipeline sees them now: a user who no
   * longer exists, or is blocked, needs a new login (which refuses a blocked user with user_blocked).
   */
  private Future<User> sessionUser(SsoSessions.Session session) {
    return users.find(session.userId()).compose(user -> user.blocked()
        ? Future.<User>failedFuture(loginRequired("the single sign-on session's user is blocked")) : Future.succeededFuture(user)).recover(e -> {
      ApiException refused = ApiException.from(e);
      return refused != null && refused.status() == 404
          ? Future.failedFuture(loginRequired("the single sign-on session's user no longer exists")) : Future.failedFuture(e);
    });
  }

  /** The one refusal of {@link #authorizeFromSession}: the browser has to scan. */
  private static ApiException loginRequired(String why) {
    return ApiException.badRequest("login_required", "No login without a scan: " + why);
  }

  /** {@code redirect_uri} with {@code code}, {@code state} and {@code iss} added to its query (RFC 6749 4.1.2, RFC 9207). */
  private String authorizationResponse(JsonObject issued) {
    return withQuery(issued.getString("redirectUri"), Map.of("code", issued.getString("code")),
        issued.getString("state"), config.tokens().issuer());
  }

  /** Appends parameters (then state and iss) to a URI's query, keeping its own query (RFC 6749 3.1.2). */
  public static String withQuery(String uri, Map<String, String> params, String state, String issuer) {
    StringBuilder out = new StringBuilder(uri);
    char separator = uri.contains("?") ? '&' : '?';
    java.util.Map<String, String> all = new java.util.LinkedHashMap<>(new java.util.TreeMap<>(params));
    if (state != null) all.put("state", state);
    all.put("iss", issuer);
    for (var e : all.entrySet()) {
      out.append(separator).append(e.getKey()).append('=')
          .append(java.net.URLEncoder.encode(e.getValue(), java.nio.charset.StandardCharsets.UTF_8));
      separator = '&';
    }
    return out.toString();
  }

  @Override
  public Future<JsonObject> miniProgramLogin(String appId, String connectionId, String code, String phoneCode,
                                             String clientIp) {
    return Failures.forBus(attempt(() -> {
      Application app = appId == null ? onlyApplication() : application(appId);
      Connection connection = enabledConnection(app, connectionId, Connection.class, null, null);
      if (connection instanceof OfficialAccountConnection) {
        throw ApiException.badRequest("connection_not_miniprogram", "Connection " + connectionId + " is not a mini program connection");
      }
      LoginContext context = new LoginContext(app.appId(), clientIp);
      return wechatSession(connection, code)
          .compose(session -> phone(connection, phoneCode).compose(phone -> resolveUser(connection,
              new WeChatIdentity(connection.identifier(), connection.wechatAppId(), session.openid(), session.unionid(),
                  phone, null, null), context)))
          .compose(user -> issue(user, app.appId()))
          .onSuccess(done -> loggedIn("miniprogram"));
    }));
  }

  @Override
  public Future<JsonObject> officialAccountScan(String connectionId, String scene, String openid) {
    JsonObject nothing = new JsonObject();
    var found = config.connection(connectionId, OfficialAccountConnection.class);
    if (found.isEmpty() || openid == null || openid.isBlank()) return Future.succeededFuture(nothing);
    OfficialAccountConnection connection = found.get();
    return Failures.forBus(liveSession(scene)
        .map(java.util.Optional::of)
        // An unknown, expired or finished scene is not the scanner's login: nothing to do.
        .recover(e -> ApiException.from(e) != null ? Future.succeededFuture(java.util.Optional.empty()) : Future.failedFuture(e))
        .compose(live -> {
          boolean link = connection.confirmMode() == ScanGateConfig.ConfirmMode.LINK;
          // With a confirm link, the same scanner may scan again (a new link replaces the old one;
          // the state machine refuses another scanner: the first wins).
          QrSession session = live.filter(s -> s.connection().equals(connectionId)
              && (s.status() == Status.PENDING || link && s.status() == Status.SCANNED)).orElse(null);
          if (session == null) return Future.succeededFuture(nothing);
          if (link) return sendConfirmLink(connection, session, openid);
          LoginContext context = new LoginContext(session.appId(), session.ip());
          return unionidOf(connection, openid)
              .compose(unionid -> resolveUser(connection, new WeChatIdentity(connectionId, connection.wechatAppId(), openid,
                      unionid, null, null, null), context)
                  .compose(user -> sessions.confirmDirect(session.sessionId(), openid, unionid, user.id(),
                      QrIds.ticket(session.sessionId()), user.nickname(), user.avatarUrl())))
              .map(confirmed -> connection.welcomeMessage() == null ? nothing : new JsonObject().put("reply", connection.welcomeMessage()))
              .recover(e -> {
                ApiException refused = ApiException.from(e);
                if (refused == null) return Future.failedFuture(e);
                if (refused.status() == 403) {
                  // A refusal of this user (login_only): the browser is told why.
                  return sessions.fail(session.sessionId(), null, refused.code()).map(failed -> nothing)
                      .recover(lost -> Future.succeededFuture(nothing));
                }
                // Another scanner won the race, or the session ended meanwhile: the first wins.
                if (refused.status() == 404 || refused.status() == 409) return Future.succeededFuture(nothing);
                return Future.failedFuture(e);
              });
        }));
  }

  /** Path of a confirm link's page; the link's secret follows. */
  public static final String CONFIRM_LINK_PATH = "/official-account/confirm/";

  /**
   * SCANNED, and a passive reply with a one-time confirm link: a 256-bit secret, sent only in the
   * scanner's chat (the passive reply goes to whoever scanned); only its hash is stored.
   */
  private Future<JsonObject> sendConfirmLink(OfficialAccountConnection connection, QrSession session, String openid) {
    String secret = QrIds.scanToken();
    String appName = config.application(session.appId()).map(Application::name).orElse(session.appId());
    return unionidOf(connection, openid)
        .compose(unionid -> sessions.scan(session.sessionId(), openid, unionid, QrIds.hash(secret)))
        .compose(scanned -> audit("qr_scan", null, scanned.connection(), new LoginContext(scanned.appId(), scanned.ip())))
        .map(v -> new JsonObject().put("reply", "A browser asks to log in to " + appName + " with your WeChat. "
            + "If it is yours, confirm here: " + config.server().publicUrl() + CONFIRM_LINK_PATH + secret))
        .recover(e -> {
          ApiException refused = ApiException.from(e);
          // Another scanner holds the session, or it ended meanwhile: nothing to send.
          if (refused != null && (refused.status() == 404 || refused.status() == 409)) return Future.succeededFuture(new JsonObject());
          return Future.failedFuture(e);
        });
  }

  /** The SCANNED Official Account session a confirm link's secret belongs to. */
  private Future<QrSession> linkedSession(String secret) {
    if (secret == null || !secret.matches("[A-Za-z0-9_-]{43}")) return Future.failedFuture(invalidLink());
    return sessions.getByScanToken(QrIds.hash(secret)).map(found -> found
        .filter(s -> s.statusAt(System.currentTimeMillis()) == Status.SCANNED)
        .filter(s -> config.connection(s.connection()).orElse(null) instanceof OfficialAccountConnection)
        .orElseThrow(LoginPipeline::invalidLink));
  }

  /** The state machine's word that the link no longer applies (used, replaced, canceled, expired). */
  private static boolean isLinkGone(ApiException refused) {
    return refused.status() == 404 || refused.status() == 409 || "invalid_scan_token".equals(refused.code());
  }

  private static ApiException invalidLink() {
    return ApiException.notFound("confirm_link_invalid", "This confirm link is unknown, already used or expired");
  }

  @Override
  public Future<JsonObject> readOfficialAccountLink(String secret) {
    return Failures.forBus(linkedSession(secret).map(s -> new JsonObject()
        .put("appName", config.application(s.appId()).map(Application::name).orElse(s.appId()))
        .put("createdAt", Times.iso(s.createdAt()))
        .put("expiresAt", Times.iso(s.expiresAt()))
        .put("ip", ClientIp.mask(s.ip()))
        .put("userAgent", s.userAgent())));
  }

  @Override
  public Future<JsonObject> confirmOfficialAccountLink(String secret) {
    return Failures.forBus(linkedSession(secret).compose(session -> {
      String hash = QrIds.hash(secret);
      OfficialAccountConnection connection = config.connection(session.connection(), OfficialAccountConnection.class).orElseThrow();
      LoginContext context = new LoginContext(session.appId(), session.ip());
      return resolveUser(connection, new WeChatIdentity(connection.identifier(), connection.wechatAppId(), session.openid(),
              session.unionid(), null, null, null), context)
          .compose(user -> sessions.confirm(session.sessionId(), hash, user.id(), QrIds.ticket(session.sessionId()),
              user.nickname(), user.avatarUrl()).map(confirmed -> new JsonObject()))
          .recover(e -> {
            ApiException refused = ApiException.from(e);
            if (refused == null) return Future.failedFuture(e);
            // A concurrent use of the link, a newer link, a cancel or the expiry got there first.
            if (isLinkGone(refused)) return Future.failedFuture(invalidLink());
            if (refused.status() == 403) {
              return sessions.fail(session.sessionId(), hash, refused.code()).map(failed -> new JsonObject()
                  .put("status", "FAILED").put("error", refused.code()).put("message", refused.getMessage()));
            }
            return Future.failedFuture(e);
          });
    }));
  }

  @Override
  public Future<Void> cancelOfficialAccountLink(String secret) {
    return Failures.forBus(linkedSession(secret)
        .compose(session -> sessions.cancel(session.sessionId(), QrIds.hash(secret))
            .recover(e -> {
              ApiException refused = ApiException.from(e);
              return refused != null && isLinkGone(refused) ? Future.failedFuture(invalidLink()) : Future.failedFuture(e);
            }))
        .compose(canceled -> audit("qr_cancel", null, canceled.connection(), new LoginContext(canceled.appId(), canceled.ip()))));
  }

  /**
   * The scanner's unionid, from {@code cgi-bin/user/info} (null when the account is bound to no
   * Open Platform account). A failed call fails the push, so that WeChat's retry tries again,
   * rather than logging in without the unionid that links the user's other accounts.
   */
  private Future<String> unionidOf(OfficialAccountConnection connection, String openid) {
    return wechat.userInfo(connection, openid).recover(WeChatException::asApiFailure)
        .map(info -> {
          String unionid = info.getString("unionid");
          return unionid == null || unionid.isBlank() ? null : unionid;
        });
  }

  // ---- the shared steps ----

  private Application application(String appId) {
    return config.application(appId).orElseThrow(() -> ApiException.badRequest("unknown_app", "No application with appId " + appId));
  }

  /** {@code appId} may be left out when exactly one application is configured. */
  private Application onlyApplication() {
    if (config.applications().size() == 1) return config.applications().get(0);
    throw ApiException.badRequest("invalid_request", "\"appId\" is required when several applications are configured");
  }

  /** The named connection, configured, enabled by the application, and of the kind this door takes. */
  private <T extends Connection> T enabledConnection(Application app, String identifier, Class<T> kind, String wrongKindCode,
                                                     String wrongKindText) {
    Connection connection = config.connection(identifier)
        .orElseThrow(() -> ApiException.badRequest("unknown_connection", "No connection named " + identifier));
    if (!app.enables(identifier)) {
      throw ApiException.badRequest("connection_not_enabled", "Application " + app.appId() + " does not enable connection " + identifier);
    }
    if (!kind.isInstance(connection)) throw ApiException.badRequest(wrongKindCode, "Connection " + identifier + " " + wrongKindText);
    return kind.cast(connection);
  }

  /**
   * The per-application Origin rule, for every browser call about a session (create, read, wait,
   * SSE, exchange): a request that carries an Origin must come from the gateway's own pages
   * ({@code ownOrigin}) or from one of the application's {@code allowedOrigins}; else 403
   * {@code origin_not_allowed}. No Origin (a server-to-server call) passes.
   */
  public static void checkOrigin(ScanGateConfig config, String ownOrigin, String appId, String origin) {
    if (origin == null || origin.equals(ownOrigin)) return;
    boolean allowed = config.application(appId).map(app -> app.allowedOrigins().contains(origin)).orElse(false);
    if (!allowed) {
      String shown = origin.length() > 200 || io.scangate.http.JsonInput.hasControl(origin) ? "(this page's origin)" : origin;
      throw new ApiException(403, "origin_not_allowed", "Origin " + shown + " is not allowed for application " + appId);
    }
  }

  /** A session that can still be scanned, confirmed or canceled, by the scene its code shows. */
  private Future<QrSession> liveSession(String scene) {
    if (!QrIds.looksLikeId(scene)) return Future.failedFuture(ApiException.notFound("session_not_found", "No such QR code"));
    return sessions.getByScene(scene).compose(found -> {
      if (found.isEmpty()) return Future.failedFuture(ApiException.notFound("session_not_found", "No such QR code"));
      QrSession s = found.get();
      Status now = s.statusAt(System.currentTimeMillis());
      if (now == Status.EXPIRED) return Future.failedFuture(refusal(409, "session_expired", "The QR code has expired"));
      if (now.terminal()) return Future.failedFuture(refusal(409, "session_finished", "The QR session is already " + now));
      return Future.succeededFuture(s);
    });
  }

  /**
   * The session's own mini program connection. The mini program may name it, or its silent-login
   * connection for the same mini program (same WeChat app): both identify the same app id.
   */
  private MiniProgramQrConnection scannedWith(QrSession session, String named) {
    Connection own = config.connection(session.connection()).orElseThrow();
    Connection given = config.connection(named)
        .orElseThrow(() -> ApiException.badRequest("unknown_connection", "No connection named " + named));
    if (!(own instanceof MiniProgramQrConnection mini)) {
      throw ApiException.badRequest("connection_mismatch", "This code is not a mini program code");
    }
    boolean sameMiniProgram = given.wechatAppId().equals(own.wechatAppId()) && !(given instanceof OfficialAccountConnection);
    if (!given.identifier().equals(own.identifier()) && !sameMiniProgram) {
      throw ApiException.badRequest("connection_mismatch", "Connection " + named + " is not the one this code belongs to");
    }
    return mini;
  }

  private Future<WeChatClient.MiniProgramSession> wechatSession(Connection connection, String code) {
    return wechat.jscode2session(connection, code).recover(WeChatException::asApiFailure);
  }

  private Future<String> phone(Connection connection, String phoneCode) {
    if (phoneCode == null) return Future.succeededFuture(null);
    return wechat.phoneNumber(connection, phoneCode).recover(WeChatException::asApiFailure)
        .map(WeChatClient.PhoneNumber::purePhoneNumber);
  }

  /** WeChat identity → user: linking, loginOnly and blocked users ({@code 403 user_blocked}), audited. */
  private Future<User> resolveUser(Connection connection, WeChatIdentity identity, LoginContext context) {
    return users.resolve(identity, connection, context);
  }

  /**
   * The user of a confirmed ticket, unless an administrator blocked them since the scan: then
   * {@code 403 user_blocked}, audited (the ticket is used up).
   */
  private Future<User> notBlocked(String userId, String connection, LoginContext context) {
    return users.find(userId).compose(user -> !user.blocked() ? Future.succeededFuture(user)
        : users.audit("login_refused", "refused", user.id(), connection, context, new JsonObject().put("reason", "user_blocked"))
            .transform(v -> Future.failedFuture(UserStore.userBlocked())));
  }

  private Future<JsonObject> issue(User user, String appId) {
    return tokens.issue(user.id(), appId, null, null).map(issued -> new JsonObject().put("user", user.toJson()).put("tokens", issued));
  }

  private Future<Void> audit(String event, String userId, String connection, LoginContext context) {
    return users.audit(event, "success", userId, connection, context, null);
  }

  /** {@code exchangeAuth: secret}: the site's backend proves it is the application (HTTP Basic appId:appSecret). */
  private static void authenticate(Application app, String clientId, String clientSecret) {
    if (clientId == null || clientSecret == null || !clientId.equals(app.appId()) || !BasicAuth.secretMatches(app, clientSecret)) {
      throw new ApiException(401, "invalid_client", "This application exchanges tickets with HTTP Basic appId:appSecret",
          Map.of("WWW-Authenticate", "Basic realm=\"scangate\""));
    }
  }

  private static ApiException invalidTicket() {
    return ApiException.badRequest("invalid_ticket", "The ticket is unknown, expired or already used");
  }

  private static ApiException refusal(int status, String code, String message) {
    return new ApiException(status, code, message);
  }

  /** Runs a step that may refuse synchronously (validation) as a future. */
  private static <T> Future<T> attempt(java.util.function.Supplier<Future<T>> step) {
    try {
      return step.get();
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  private static String truncate(String s, int max) {
    if (s == null) return "";
    return s.length() <= max ? s : s.substring(0, max);
  }

  // ---- metrics: logins completed, by door (where the user's tokens or code were issued)

  private io.micrometer.core.instrument.MeterRegistry metrics;

  /** Counts completed logins in {@code scangate_logins_total{door}}: qr_exchange, authing_exchange, miniprogram, oidc. */
  public LoginPipeline countLoginsIn(io.micrometer.core.instrument.MeterRegistry registry) {
    this.metrics = registry;
    return this;
  }

  private void loggedIn(String door) {
    if (metrics != null) {
      io.micrometer.core.instrument.Counter.builder("scangate.logins").tag("door", door)
          .description("Completed logins by door").register(metrics).increment();
    }
  }
}
