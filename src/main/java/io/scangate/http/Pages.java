package io.scangate.http;

import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.RoutingContext;

/**
 * HTML pages the gateway serves, with the headers every page gets: a Content-Security-Policy
 * that forbids framing ({@code frame-ancestors 'none'}, plus {@code X-Frame-Options} for old
 * browsers), no referrer, no caching. {@code X-Content-Type-Options: nosniff} is on every
 * response already ({@link RequestLog}).
 */
public final class Pages {

  /** A static page without scripts (the QR landing page). */
  public static final String STATIC_CSP =
      "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

  /** A static page whose forms post back to this gateway (the Official Account confirm-link page). */
  public static final String FORM_CSP =
      "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

  /** A page with its own inline script that calls only this gateway (start-dev's home and phone pages). */
  public static final String SCRIPTED_CSP = "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
      + "img-src 'self' data: blob:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

  private Pages() {}

  public static void send(RoutingContext ctx, Buffer html, String csp) {
    ctx.response()
        .putHeader("Content-Type", "text/html; charset=utf-8")
        .putHeader("Cache-Control", "no-store")
        .putHeader("Content-Security-Policy", csp)
        .putHeader("X-Frame-Options", "DENY")
        .putHeader("Referrer-Policy", "no-referrer")
        .end(html);
  }
}
