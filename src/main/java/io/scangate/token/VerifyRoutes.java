package io.scangate.token;

import io.scangate.error.ApiException;
import io.scangate.http.ErrorHandlers;
import io.scangate.http.ErrorShape;
import io.scangate.http.Routes;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * Forward-auth for reverse proxies (nginx auth_request, Traefik ForwardAuth, Envoy ext_authz):
 * {@code /auth/verify} and everything under it, any method. A valid access token gets
 * {@code 200} with {@code X-Auth-User-Id} / {@code X-Auth-App-Id}; anything else
 * {@code 401} with {@code WWW-Authenticate: Bearer error="invalid_token"}. Answered from memory.
 */
public final class VerifyRoutes implements Routes {

  /** Restricts the check to one application, like {@code ?aud=}; for proxies that cannot add a query (Envoy). */
  static final String AUDIENCE_HEADER = "X-ScanGate-Audience";

  private final TokenVerifier verifier;

  /** {@code scangate_token_verifications_total{outcome}}: valid, invalid (bad, expired, revoked, missing), error. */
  private final io.micrometer.core.instrument.Counter valid;
  private final io.micrometer.core.instrument.Counter invalid;
  private final io.micrometer.core.instrument.Counter error;

  public VerifyRoutes(TokenManager tokens, io.micrometer.core.instrument.MeterRegistry metrics) {
    this.verifier = tokens.verifier();
    this.valid = verifications(metrics, "valid");
    this.invalid = verifications(metrics, "invalid");
    this.error = verifications(metrics, "error");
  }

  private static io.micrometer.core.instrument.Counter verifications(io.micrometer.core.instrument.MeterRegistry metrics, String outcome) {
    return io.micrometer.core.instrument.Counter.builder("scangate.token.verifications").tag("outcome", outcome)
        .description("Forward-auth token verifications (/auth/verify) by outcome").register(metrics);
  }

  @Override
  public void mount(Router router) {
    router.route("/auth/verify").handler(this::verify);
    router.route("/auth/verify/*").handler(this::verify);
  }

  /** Written directly (no failure-handler round trip): this is the hottest path. */
  private void invalid(RoutingContext ctx, String description) {
    invalid.increment();
    ErrorHandlers.send(ctx, ErrorShape.API, ErrorHandlers.invalidToken(description));
  }

  private void verify(RoutingContext ctx) {
    // What this endpoint reads may not be repeated (the first one would silently win); anything
    // else the proxy passes through (other headers, other query parameters) is left alone.
    for (String read : new String[] {"Authorization", AUDIENCE_HEADER}) {
      if (ctx.request().headers().getAll(read).size() > 1) {
        ErrorHandlers.send(ctx, ErrorShape.API, ApiException.badRequest("invalid_request", "the " + read + " header is given more than once"));
        return;
      }
    }
    String token = OAuthRequests.bearer(ctx);
    if (token == null) {
      invalid(ctx, "no bearer token in the Authorization header");
      return;
    }
    var audiences = ctx.request().query() == null ? java.util.List.<String>of() : ctx.queryParam("aud");
    String fromHeader = ctx.request().getHeader(AUDIENCE_HEADER);
    if (audiences.size() > 1) {
      invalid(ctx, "aud is given more than once");
      return;
    }
    String aud = audiences.isEmpty() ? fromHeader : audiences.get(0);
    if (fromHeader != null && aud != null && !fromHeader.equals(aud)) {
      invalid(ctx, "aud and " + AUDIENCE_HEADER + " disagree");
      return;
    }
    verifier.verifyAccess(token, aud).onComplete(done -> {
      if (done.succeeded()) {
        VerifiedToken t = done.result();
        valid.increment();
        var response = ctx.response()
            .putHeader("X-Auth-User-Id", t.subject())
            .putHeader("X-Auth-App-Id", t.audience())
            .putHeader("Cache-Control", "no-store");
        if (t.scope() != null) response.putHeader("X-Auth-Scope", t.scope());
        response.end();
      } else if (done.cause() instanceof InvalidTokenException invalid) {
        invalid(ctx, invalid.getMessage());
      } else {
        error.increment();
        ctx.fail(done.cause());
      }
    });
  }
}
