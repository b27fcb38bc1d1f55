package io.scangate.token;

import io.scangate.config.ScanGateConfig;
import io.scangate.config.ScanGateConfig.Application;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The pages of {@code /oidc/auth}: the error page (no redirect can be trusted) and the hosted
 * login page (CONTRACT section 7; docs/hosted-page-and-sdk.md), whose script
 * ({@code web/login/login.js}, through the SDK) creates a QR session through the public API,
 * follows it (SSE, long-poll fallback) and, once confirmed, trades the ticket for the client's
 * redirect at {@code /oidc/auth/complete}. The authorization request itself stays server-side;
 * the page only carries its random id.
 */
final class AuthorizePage {

  private AuthorizePage() {}

  static String error(String error, String description) {
    return """
        <!doctype html><html lang="en"><head><meta charset="utf-8"><title>Login error</title>
        <meta name="viewport" content="width=device-width,initial-scale=1"></head>
        <body style="font-family:sans-serif;max-width:32em;margin:3em auto">
        <h1>This login link is not valid</h1><p><code id="error">%s</code>: %s</p>
        <p>Go back to the site you came from and try again.</p></body></html>
        """.formatted(escape(error), escape(description));
  }

  static String loggedOut() {
    return """
        <!doctype html><html lang="en"><head><meta charset="utf-8"><title>Logged out</title>
        <meta name="viewport" content="width=device-width,initial-scale=1"></head>
        <body style="font-family:sans-serif;max-width:32em;margin:3em auto">
        <h1>You are logged out</h1><p>You can close this page.</p></body></html>
        """;
  }

  /** One tab of the login page: a QR connection, its kind ({@code mp} or {@code mini}) and its hint. */
  record Tab(String connection, String kind, String hint) {

    static Tab of(ScanGateConfig.QrConnection c) {
      return new Tab(c.identifier(), c instanceof ScanGateConfig.OfficialAccountConnection ? "mp" : "mini", c.displayName());
    }
  }

  /**
   * The hosted login page for a saved authorization request, with its headers: a tab per QR
   * connection the application enables ({@code requested}: only the one {@code connection=}
   * named), {@code chosen} open first, in the language {@code Accept-Language} prefers.
   */
  static void show(RoutingContext ctx, ScanGateConfig config, Application app, String requested, String chosen, String requestId) {
    send(ctx, app, login(app, tabs(config, app, requested, chosen), chosen, requestId,
        language(ctx.request().getHeader("Accept-Language"))));
  }

  static List<Tab> tabs(ScanGateConfig config, Application app, String requested, String chosen) {
    List<String> ids = requested != null ? List.of(requested) : app.connections();
    List<Tab> tabs = new ArrayList<>();
    for (String id : ids) {
      config.connection(id, ScanGateConfig.QrConnection.class).filter(c -> app.enables(c.identifier())).map(Tab::of).ifPresent(tabs::add);
    }
    if (tabs.isEmpty()) tabs.add(new Tab(chosen, "mini", null));
    return tabs;
  }

  /**
   * The page: a small HTML shell in the chosen language, with the settings (and both languages'
   * strings) as a JSON data block; all script and style are the gateway's static files
   * ({@code /static/login/}, {@code /sdk/scangate.js}). Stable hooks for tests and integrators:
   * {@code meta[name=scangate-auth-request]}, {@code #login[data-state]}, {@code #qr} (with
   * {@code data-scene}, {@code data-qr-content}, {@code data-connection}), {@code #status},
   * {@code #again}, {@code [role=tab][data-connection]}, {@code #qr-link}, {@code #lang-zh}/{@code #lang-en}.
   */
  static String login(Application app, List<Tab> tabs, String chosen, String requestId, String lang) {
    JsonObject strings = STRINGS.getJsonObject(lang);
    JsonArray connections = new JsonArray();
    StringBuilder tabButtons = new StringBuilder();
    String selectedTab = "tab-" + escape(chosen);
    for (Tab tab : tabs) {
      connections.add(new JsonObject().put("id", tab.connection()).put("kind", tab.kind()).put("hint", tab.hint()));
      boolean selected = tab.connection().equals(chosen);
      tabButtons.append("<button type=\"button\" role=\"tab\" id=\"tab-").append(escape(tab.connection()))
          .append("\" data-connection=\"").append(escape(tab.connection())).append("\" data-kind=\"").append(tab.kind())
          .append("\" aria-controls=\"panel\" aria-selected=\"").append(selected).append("\" tabindex=\"")
          .append(selected ? "0" : "-1").append("\">").append(escape(strings.getString(tab.kind()))).append("</button>");
    }
    String hint = tabs.stream().filter(t -> t.connection().equals(chosen)).map(Tab::hint).filter(h -> h != null).findFirst().orElse("");
    // JSON in a script element: '<' escaped so no value can close the element.
    String settings = new JsonObject().put("authRequest", requestId).put("appId", app.appId()).put("appName", app.name())
        .put("connection", chosen).put("connections", connections).put("lang", lang).put("complete", "/oidc/auth/complete")
        .put("strings", STRINGS).encode().replace("<", "\\u003c");
    String appName = escape(app.name());
    return """
        <!doctype html>
        <html lang="%s"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
        <title>%s</title>
        <meta name="scangate-auth-request" content="%s">
        <link rel="stylesheet" href="%s">
        <link rel="modulepreload" href="%s">
        <script type="module" src="%s"></script>
        </head><body>
        <main id="login" data-state="loading">
        <p class="app" id="app-name">%s</p>
        <h1 id="heading">%s</h1>
        <div id="tabs" role="tablist" aria-label="%s">%s</div>
        <section id="panel" role="tabpanel" aria-labelledby="%s" tabindex="-1">
        <div class="code"><img id="qr" width="200" height="200" alt="%s" hidden><div class="spinner" aria-hidden="true"></div>
        <button id="again" type="button" hidden>%s</button></div>
        <p id="status" role="status" aria-live="polite">%s</p>
        <p id="hint" class="hint">%s</p>
        <p id="alt" class="alt" hidden><span id="alt-intro">%s</span> <a id="qr-link" href="#" rel="noreferrer"></a></p>
        <noscript><p>%s</p></noscript>
        </section>
        <div id="langs" class="langs" role="group" aria-label="%s"><button type="button" id="lang-zh" lang="zh-CN" data-lang="zh" aria-pressed="%s">中文</button><button type="button" id="lang-en" lang="en" data-lang="en" aria-pressed="%s">English</button></div>
        </main>
        <script type="application/json" id="settings">%s</script>
        </body></html>
        """.formatted(lang.equals("zh") ? "zh-CN" : "en", escape(text(strings, "title", app.name())), escape(requestId),
        FILE_URLS[0], FILE_URLS[1], FILE_URLS[2], appName,
        escape(strings.getString("heading")), escape(strings.getString("tabs")), tabButtons, selectedTab,
        escape(text(strings, "qrAlt", app.name())), escape(strings.getString("again")), escape(strings.getString("loading")),
        escape(hint), escape(strings.getString("linkIntro")), escape(strings.getString("noscript")),
        escape(strings.getString("language")), lang.equals("zh"), lang.equals("en"), settings);
  }

  private static String text(JsonObject strings, String key, String app) {
    return strings.getString(key).replace("{app}", app);
  }

  /** Both languages' strings of the page (web/login/i18n.json); the page's script switches between them. */
  static final JsonObject STRINGS = new JsonObject(resource("/web/login/i18n.json"));

  /** The page's style, the SDK (modulepreloaded) and its script, by versioned (immutable) URLs. */
  static final String[] FILE_URLS = {io.scangate.web.WebAssets.versioned("/static/login/login.css"),
      io.scangate.web.WebAssets.versioned("/sdk/scangate.js"), io.scangate.web.WebAssets.versioned("/static/login/login.js")};

  private static String resource(String path) {
    try (var in = AuthorizePage.class.getResourceAsStream(path)) {
      if (in == null) throw new IllegalStateException(path + " is missing from the jar");
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /**
   * {@code zh} or {@code en}: the first of the two that {@code Accept-Language} ranks highest
   * (quality values honoured, {@code q=0} meaning "not this one"); English when it names neither.
   */
  static String language(String acceptLanguage) {
    if (acceptLanguage == null || acceptLanguage.isBlank()) return "en";
    String best = "en";
    double bestQ = -1;
    int order = 0;
    for (String part : acceptLanguage.split(",")) {
      order++;
      String[] pieces = part.trim().split(";");
      String tag = pieces[0].trim().toLowerCase(java.util.Locale.ROOT);
      double q = 1;
      for (int i = 1; i < pieces.length; i++) {
        String p = pieces[i].trim();
        if (p.startsWith("q=")) {
          try {
            q = Double.parseDouble(p.substring(2));
          } catch (NumberFormatException e) {
            q = 0;
          }
        }
      }
      String lang = tag.equals("zh") || tag.startsWith("zh-") ? "zh" : tag.equals("en") || tag.startsWith("en-") ? "en" : null;
      if (lang != null && q > 0 && q > bestQ) {
        best = lang;
        bestQ = q;
      }
    }
    return best;
  }

  /** An origin fit for a CSP source list (scheme://host[:port], nothing else). */
  private static final Pattern ORIGIN = Pattern.compile("https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?|https?://\\[[0-9A-Fa-f:.]+\\](:[0-9]{1,5})?");

  /**
   * The login page's policy: only the gateway's own script, style and connections (no inline
   * script), images from itself, data: and https (WeChat avatars), and framing only by the
   * application's {@code allowedOrigins} (the embedded component), else by nobody.
   */
  static String csp(Application app) {
    return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; connect-src 'self'; "
        + "base-uri 'none'; form-action 'self'; frame-ancestors " + frameAncestors(app);
  }

  static String frameAncestors(Application app) {
    List<String> origins = app.allowedOrigins().stream().filter(o -> ORIGIN.matcher(o).matches()).toList();
    return origins.isEmpty() ? "'none'" : String.join(" ", origins);
  }

  static void send(RoutingContext ctx, Application app, String html) {
    var response = ctx.response()
        .putHeader("Content-Type", "text/html; charset=utf-8")
        .putHeader("Cache-Control", "no-store")
        .putHeader("Content-Security-Policy", csp(app))
        .putHeader("Referrer-Policy", "no-referrer")
        .putHeader("Vary", "Accept-Language");
    // Old browsers without frame-ancestors: no framing at all unless some origin may frame the page.
    if (frameAncestors(app).equals("'none'")) response.putHeader("X-Frame-Options", "DENY");
    response.end(html);
  }

  static String escape(String s) {
    if (s == null) return "";
    StringBuilder out = new StringBuilder(s.length());
    for (char c : s.toCharArray()) {
      switch (c) {
        case '<' -> out.append("&lt;");
        case '>' -> out.append("&gt;");
        case '&' -> out.append("&amp;");
        case '"' -> out.append("&quot;");
        case '\'' -> out.append("&#39;");
        default -> out.append(c);
      }
    }
    return out.toString();
  }
}
