package io.scangate.token;

import io.scangate.config.ScanGateConfig.Application;
import io.vertx.core.json.JsonObject;

/**
 * The minimal pages of {@code /oidc/auth}: the error page (no redirect can be trusted) and the
 * login page, which creates a QR session through the public API, waits for it by long poll and,
 * once confirmed, trades the ticket for the client's redirect at {@code /oidc/auth/complete}.
 * The hosted login page (issue 16) replaces the latter; the authorization request itself stays
 * server-side, the page only carries its random id.
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

  static String login(Application app, String connection, String requestId) {
    // JSON in a script element: '<' escaped so no value can close the element.
    String settings = new JsonObject().put("authRequest", requestId).put("appId", app.appId()).put("connection", connection)
        .encode().replace("<", "\\u003c");
    return """
        <!doctype html><html lang="en"><head><meta charset="utf-8"><title>Log in to %s</title>
        <meta name="viewport" content="width=device-width,initial-scale=1">
        <meta name="scangate-auth-request" content="%s"></head>
        <body style="font-family:sans-serif;max-width:32em;margin:3em auto;text-align:center">
        <h1>Log in to %s</h1>
        <p id="status">Loading the QR code…</p>
        <img id="qr" alt="QR code to scan with WeChat" width="240" height="240" hidden>
        <p><button id="again" type="button" hidden>Get a new code</button></p>
        <script type="application/json" id="settings">%s</script>
        <script>
        const settings = JSON.parse(document.getElementById('settings').textContent);
        const statusText = document.getElementById('status'), img = document.getElementById('qr'),
              again = document.getElementById('again');
        const say = (text) => { statusText.textContent = text; };
        async function json(response) { try { return await response.json(); } catch (e) { return {}; } }
        async function run() {
          again.hidden = true;
          const created = await fetch('/api/v1/qr/sessions', {method: 'POST', headers: {'Content-Type': 'application/json'},
            body: JSON.stringify({appId: settings.appId, connection: settings.connection})});
          const session = await json(created);
          if (!created.ok) { say(session.message || 'The QR code could not be created.'); again.hidden = false; return; }
          img.src = '/api/v1/qr/images/' + encodeURIComponent(session.scene) + '.png';
          img.hidden = false;
          say('Scan the code with WeChat.');
          let status = session.status;
          for (;;) {
            const polled = await fetch('/api/v1/qr/sessions/' + encodeURIComponent(session.sessionId)
              + '?waitSeconds=25&since=' + status);
            const state = await json(polled);
            if (!polled.ok) { say('The login was interrupted.'); again.hidden = false; return; }
            status = state.status;
            if (status === 'SCANNED') say('Scanned. Confirm on your phone.');
            if (status === 'CONFIRMED') {
              say('Logging you in…');
              const done = await fetch('/oidc/auth/complete', {method: 'POST', headers: {'Content-Type': 'application/json'},
                body: JSON.stringify({authRequest: settings.authRequest, ticket: state.ticket})});
              const answer = await json(done);
              if (done.ok) { location.assign(answer.redirect); return; }
              say(answer.error_description || 'The login could not be completed.');
              return;
            }
            if (status === 'EXPIRED' || status === 'CANCELED' || status === 'FAILED') {
              img.hidden = true;
              say(status === 'EXPIRED' ? 'The code has expired.' : status === 'CANCELED' ? 'The login was canceled.'
                : 'The login was refused.');
              again.hidden = false;
              return;
            }
          }
        }
        again.addEventListener('click', () => run().catch(() => say('Network error.')));
        run().catch(() => { say('Network error.'); again.hidden = false; });
        </script></body></html>
        """.formatted(escape(app.name()), escape(requestId), escape(app.name()), settings);
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
