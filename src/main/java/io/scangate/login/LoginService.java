package io.scangate.login;

import io.vertx.codegen.annotations.Nullable;
import io.vertx.codegen.annotations.ProxyGen;
import io.vertx.codegen.annotations.VertxGen;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.serviceproxy.ServiceProxyBuilder;

/**
 * The one login pipeline, on the event bus at {@value #ADDRESS}. Every door — the browser's QR
 * session, the mini program's scan/confirm/cancel and silent login, the Authing-compatible API
 * and the OIDC code flow (with single sign-on) today; the Official Account webhook and the admin page next — calls these
 * methods and only shapes their answers. Results are the JSON the contract shows; refusals are
 * {@link io.scangate.error.ApiException}s with codes from {@code docs/errors.md}.
 */
@ProxyGen
@VertxGen
public interface LoginService {

  String ADDRESS = "scangate.login";

  static LoginService proxy(Vertx vertx) {
    return new ServiceProxyBuilder(vertx).setAddress(ADDRESS).build(LoginService.class);
  }

  /**
   * A new PENDING QR session for an application and one of its QR connections, after the origin
   * check and the rate limits: the session's state plus {@code qrcodeUrl} (CONTRACT section 3).
   * Control and invisible direction characters are dropped from {@code userAgent} (it is stored
   * and shown to the scanner).
   */
  Future<JsonObject> startQrSession(String appId, String connection, @Nullable String origin, String clientIp,
                                    @Nullable String userAgent);

  /** The mini program scanned a code: {@code {scanToken, session: {appName, createdAt, ip, userAgent}}}. */
  Future<JsonObject> scanMiniProgramQr(String scene, String connection, String code, String clientIp);

  /**
   * The scanner confirms: identity → user (linking, loginOnly), then CONFIRMED with a one-time
   * ticket. A refusal of the user (login_only) is an outcome: the session becomes FAILED and the
   * answer is {@code {status: FAILED, error, message}}; otherwise {@code {}}.
   */
  Future<JsonObject> confirmMiniProgramQr(String scene, String scanToken, @Nullable String phoneCode,
                                          @Nullable String nickname, @Nullable String avatarUrl);

  Future<Void> cancelMiniProgramQr(String scene, String scanToken);

  /**
   * Uses a one-time ticket up for {@code {user, tokens}}. With {@code exchangeAuth: secret} the
   * caller's Basic credentials ({@code clientId}, {@code clientSecret}) are checked before the
   * ticket is used, so a failed attempt by its owner does not burn it. A browser's {@code origin}
   * (its Origin header, null for server-to-server calls) must be the gateway's own or one the
   * ticket's application allows (403 {@code origin_not_allowed}, the ticket kept).
   */
  Future<JsonObject> exchangeTicket(String ticket, @Nullable String clientId, @Nullable String clientSecret,
                                    String clientIp, @Nullable String origin);

  /** Silent login inside the mini program: {@code wx.login} code (and phone code) → {@code {user, tokens}}. */
  Future<JsonObject> miniProgramLogin(@Nullable String appId, String connection, String code, @Nullable String phoneCode,
                                      String clientIp);

  /**
   * A new QR session for the application's first enabled connection of a kind, or the one named
   * (which must be of that kind): {@code kind} is {@code "miniprogram-qr"} or
   * {@code "official-account"}. Doors that name a kind of code rather than a connection (the
   * Authing-compatible API's {@code scene}) use it; the rest is {@link #startQrSession}.
   */
  Future<JsonObject> startQrSessionOfKind(String appId, String kind, @Nullable String connection, @Nullable String origin,
                                          String clientIp, @Nullable String userAgent);

  /**
   * The state of a session by its private id (CONTRACT section 3's read), after the Origin rule;
   * with {@code appId}, a session of another application is answered as unknown (404
   * {@code session_not_found}), so a door that names its application only sees its own sessions.
   */
  Future<JsonObject> readQrSession(String sessionId, @Nullable String appId, @Nullable String origin);

  /**
   * {@link #exchangeTicket} for a door that names its application: a ticket of another
   * application is {@code invalid_ticket} and is left unused.
   */
  Future<JsonObject> exchangeTicketOfApp(String appId, String ticket, String clientIp, @Nullable String origin);

  /**
   * The OIDC code flow's last step: a confirmed login's ticket, for the {@code /oidc/auth}
   * request saved under {@code requestId} (the ticket must be of that request's client), is used
   * up for an authorization code: {@code {"redirect": "<redirect_uri>?code=...&state=...&iss=..."}}
   * (RFC 9207's {@code iss}), plus {@code "ssoSession"}: the id of the single sign-on session the
   * scan starts ({@link SsoSessions}), for the browser's cookie only.
   */
  Future<JsonObject> authorizeWithTicket(String requestId, String ticket, String clientIp, @Nullable String origin);

  /**
   * Single sign-on: answers the {@code /oidc/auth} request saved under {@code requestId} from the
   * browser's single sign-on session, without a scan, with {@code {"redirect"}} as
   * {@link #authorizeWithTicket} does; the code's {@code auth_time} is the session's scan. Only
   * when the session is live, was made with a connection the request's application enables (the
   * one the request names, if it names one), its user may still log in, the request's
   * {@code redirect_uri} is not a loopback one (RFC 8252 8.6), and neither {@code prompt}
   * ({@code login}, {@code select_account}) nor {@code max_age} asks for a newer scan. Otherwise
   * 400 {@code login_required} (the message says why) and the request stays unused.
   */
  Future<JsonObject> authorizeFromSession(String requestId, String ssoSession, String clientIp);

  /**
   * The Official Account webhook's door: a {@code subscribe} (EventKey {@code qrscene_<scene>}) or
   * {@code SCAN} (EventKey {@code <scene>}) by {@code openid} at connection {@code connection}.
   * For a live PENDING session of that connection's scene, the openid (plus the unionid
   * {@code cgi-bin/user/info} returns) becomes a user — linking, loginOnly (refused: the session
   * becomes FAILED) — and the session CONFIRMED ({@code confirmMode: direct}). An unknown,
   * finished or already-taken scene changes nothing. Answers {@code {reply?}}: the text of the
   * passive reply to send the scanner ({@code welcomeMessage} after a login), absent for
   * {@code success}.
   */
  Future<JsonObject> officialAccountScan(String connection, String scene, String openid);

  /**
   * {@code confirmMode: link}: what a confirm link's page shows, by the link's secret (the last
   * path segment of the link the scanner was sent): {@code {appName, createdAt, ip (masked),
   * userAgent, expiresAt}} of the browser that asked. Changes nothing. An unknown, used or
   * expired link is 404 {@code confirm_link_invalid}.
   */
  Future<JsonObject> readOfficialAccountLink(String secret);

  /**
   * The scanner confirms on the link's page: identity → user (linking, loginOnly), then CONFIRMED
   * with a one-time ticket; the link is used up. A refusal of the user (login_only) makes the
   * session FAILED and is answered {@code {status: FAILED, error, message}}; otherwise {@code {}}.
   */
  Future<JsonObject> confirmOfficialAccountLink(String secret);

  /** The scanner declines on the link's page: the session becomes CANCELED; the link is used up. */
  Future<Void> cancelOfficialAccountLink(String secret);
}
