package io.scangate.officialaccount;

import io.scangate.config.ScanGateConfig;
import io.scangate.error.ApiException;
import io.scangate.http.Pages;
import io.scangate.http.Routes;
import io.scangate.login.LoginPipeline;
import io.scangate.login.LoginService;
import io.scangate.util.Hashes;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.CSRFHandler;

/**
 * The page behind a confirm link ({@code confirmMode: link}), opened in WeChat by the user who
 * scanned: GET shows which application and which browser asked and changes nothing; Confirm and
 * Cancel are POSTs from that page, carrying the page's CSRF token (Vert.x's double-submit
 * {@link CSRFHandler}: a signed cookie plus the same value in the form). Every step is the login
 * pipeline's; this class only renders pages.
 */
public final class ConfirmLinkRoutes implements Routes {

  private static final String PATH = LoginPipeline.CONFIRM_LINK_PATH;
  private static final String CSRF_FIELD = CSRFHandler.DEFAULT_HEADER_NAME;

  private final LoginService login;
  private final CSRFHandler csrf;

  public ConfirmLinkRoutes(Vertx vertx, ScanGateConfig config, LoginService login) {
    this.login = login;
    // Every instance derives the same signing secret, so a page from one instance posts to another.
    String secret = Hashes.sha256Hex("scangate confirm-link csrf:" + config.tokens().keyEncryptionKey());
    this.csrf = CSRFHandler.create(vertx, secret)
        .setCookiePath(PATH)
        .setCookieHttpOnly(true)
        .setTimeout(config.qr().sessionTtl().toMillis());
  }

  @Override
  public void mount(Router router) {
    router.route(PATH + "*").handler(csrf);
    router.get(PATH + ":secret").handler(this::show);
    router.post(PATH + ":secret/confirm").handler(ctx -> act(ctx, login.confirmOfficialAccountLink(ctx.pathParam("secret"))
        .map(done -> "FAILED".equals(done.getString("status"))
            ? page("Login refused", "<p>" + esc(done.getString("message")) + "</p>")
            : page("Logged in", "<p>You are logged in. You can return to the browser.</p>"))));
    router.post(PATH + ":secret/cancel").handler(ctx -> act(ctx, login.cancelOfficialAccountLink(ctx.pathParam("secret"))
        .map(v -> page("Login canceled", "<p>The browser was not logged in.</p>"))));
  }

  private void show(RoutingContext ctx) {
    String secret = ctx.pathParam("secret");
    String token = ctx.get(CSRF_FIELD);
    act(ctx, login.readOfficialAccountLink(secret).map(asked -> page("Log in to " + asked.getString("appName") + "?", """
        <p>A browser asks to log in to <b>%s</b> with your WeChat account.</p>
        <table>
          <tr><th>Asked at</th><td>%s</td></tr>
          <tr><th>From address</th><td>%s</td></tr>
          <tr><th>Browser</th><td>%s</td></tr>
        </table>
        <p>Confirm only if you started this login yourself, on a screen in front of you.</p>
        <form method="post" action="%s/confirm"><input type="hidden" name="%s" value="%s"><button type="submit">Confirm</button></form>
        <form method="post" action="%s/cancel"><input type="hidden" name="%s" value="%s"><button type="submit">Cancel</button></form>
        """.formatted(esc(asked.getString("appName")), esc(asked.getString("createdAt")), esc(asked.getString("ip")),
        esc(asked.getString("userAgent")), esc(PATH + secret), CSRF_FIELD, esc(token), esc(PATH + secret), CSRF_FIELD, esc(token)))));
  }

  private static void act(RoutingContext ctx, Future<String> page) {
    page.onSuccess(html -> Pages.send(ctx, Buffer.buffer(html), Pages.FORM_CSP)).onFailure(e -> {
      ApiException refused = ApiException.from(e);
      if (refused == null || refused.status() >= 500) {
        ctx.fail(e);
        return;
      }
      ctx.response().setStatusCode(refused.status());
      Pages.send(ctx, Buffer.buffer(page("This link cannot be used", "<p>" + esc(refused.getMessage()) + "</p>")), Pages.FORM_CSP);
    });
  }

  private static String page(String title, String body) {
    return "<!doctype html><html><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">"
        + "<title>" + esc(title) + "</title><style>body{font-family:sans-serif;margin:1.5em}th{text-align:left;padding-right:1em}"
        + "form{display:inline-block;margin:1em 1em 0 0}button{font-size:1.1em;padding:.5em 1.5em}</style></head><body>"
        + "<h1>" + esc(title) + "</h1>" + body + "</body></html>";
  }

  /** HTML text escaping for the five characters that matter in element text and quoted attributes. */
  static String esc(String text) {
    if (text == null) return "";
    StringBuilder sb = new StringBuilder(text.length());
    for (char c : text.toCharArray()) {
      switch (c) {
        case '&' -> sb.append("&amp;");
        case '<' -> sb.append("&lt;");
        case '>' -> sb.append("&gt;");
        case '"' -> sb.append("&quot;");
        case '\'' -> sb.append("&#39;");
        default -> sb.append(c);
      }
    }
    return sb.toString();
  }
}
