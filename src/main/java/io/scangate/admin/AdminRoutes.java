package io.scangate.admin;

import io.scangate.config.ScanGateConfig;
import io.scangate.config.ScanGateConfig.Application;
import io.scangate.error.ApiException;
import io.scangate.http.ClientIp;
import io.scangate.http.ErrorHandlers;
import io.scangate.http.Pages;
import io.scangate.http.Responses;
import io.scangate.http.Routes;
import io.scangate.token.OAuthRequests;
import io.scangate.token.TokenVerifier;
import io.scangate.util.Hashes;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.util.List;
import java.util.Map;

/**
 * {@code /admin/api/*} (CONTRACT section 11) and the {@code /admin} page. Thin adapters: each
 * request is authenticated here (an API key, compared in constant time, or an access token of
 * the {@code scangate-admin} client whose user is an administrator), then handed to
 * {@code scangate.admin}.
 */
public final class AdminRoutes implements Routes {

  /** The page's own script and style only; it calls only this gateway. */
  static final String PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
      + "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

  private final ScanGateConfig config;
  private final AdminService admin;
  private final TokenVerifier verifier;
  private final List<byte[]> keyHashes;
  private final Buffer page = resource("/admin/index.html");
  private final Buffer script = resource("/admin/admin.js");
  private final Buffer style = resource("/admin/admin.css");

  public AdminRoutes(ScanGateConfig config, AdminService admin, TokenVerifier verifier) {
    this.config = config;
    this.admin = admin;
    this.verifier = verifier;
    this.keyHashes = config.admin().apiKeys().stream().map(AdminRoutes::sha256).toList();
  }

  @Override
  public void mount(Router router) {
    // A route for /admin also matches /admin/: the page lives at /admin/ (its OIDC redirect URI).
    router.get("/admin").handler(ctx -> {
      if (ctx.request().path().endsWith("/")) Pages.send(ctx, page, PAGE_CSP);
      else ctx.response().setStatusCode(301).putHeader("Location", "/admin/").end();
    });
    router.get("/admin/admin.js").handler(ctx -> asset(ctx, script, "text/javascript; charset=utf-8"));
    router.get("/admin/admin.css").handler(ctx -> asset(ctx, style, "text/css; charset=utf-8"));
    router.get("/admin/api/users").handler(ctx -> authenticated(ctx, this::listUsers));
    router.get("/admin/api/users/:id").handler(ctx -> authenticated(ctx, this::showUser));
    router.post("/admin/api/users/:id/block").handler(ctx -> authenticated(ctx, (c, actor) -> done(c, admin.block(id(c), actor))));
    router.post("/admin/api/users/:id/unblock").handler(ctx -> authenticated(ctx, (c, actor) -> done(c, admin.unblock(id(c), actor))));
    router.post("/admin/api/users/:id/logout").handler(ctx -> authenticated(ctx, (c, actor) -> done(c, admin.logout(id(c), actor))));
    router.get("/admin/api/audit").handler(ctx -> authenticated(ctx, this::audit));
    router.get("/admin/api/audit/export").handler(ctx -> authenticated(ctx, this::export));
  }

  private interface Handler {
    Future<?> handle(RoutingContext ctx, JsonObject actor);
  }

  /** Authenticates, then runs {@code handler} with who is acting; failures go to the API's error shape. */
  private void authenticated(RoutingContext ctx, Handler handler) {
    authenticate(ctx).compose(actor -> handler.handle(ctx, actor)).onFailure(ctx::fail);
  }

  private Future<JsonObject> authenticate(RoutingContext ctx) {
    String ip = ClientIp.of(ctx, config.server().trustedProxies());
    String bearer;
    try {
      bearer = OAuthRequests.bearer(ctx);
    } catch (ApiException e) {
      return Future.failedFuture(e);
    }
    if (bearer == null) return Future.failedFuture(unauthorized("An admin API key or an administrator's access token is required"));
    int key = apiKey(bearer);
    if (key > 0) return Future.succeededFuture(Administration.actor("api-key:" + key, ip));
    if (bearer.chars().filter(c -> c == '.').count() != 2) return Future.failedFuture(unauthorized("The API key is not valid"));
    return verifier.verifyAccess(bearer, null)
        .recover(e -> Future.failedFuture(e instanceof io.scangate.token.InvalidTokenException invalid
            ? ErrorHandlers.invalidToken(invalid.getMessage()) : e))
        .compose(token -> {
          if (!Application.ADMIN_CLIENT_ID.equals(token.audience())) {
            return Future.failedFuture(forbidden("This token was issued to another application; the admin API takes "
                + Application.ADMIN_CLIENT_ID + " tokens"));
          }
          return admin.isAdmin(token.subject()).compose(isAdmin -> isAdmin
              ? Future.succeededFuture(Administration.actor("user:" + token.subject(), ip))
              : Future.failedFuture(forbidden("This user is not an administrator (admin.users)")));
        });
  }

  /** The 1-based index of the matching API key, or 0; every key is compared, in constant time, by hash. */
  private int apiKey(String presented) {
    byte[] hash = sha256(presented);
    int found = 0;
    for (int i = 0; i < keyHashes.size(); i++) {
      if (MessageDigest.isEqual(hash, keyHashes.get(i)) && found == 0) found = i + 1;
    }
    return found;
  }

  private static byte[] sha256(String s) {
    return Hashes.sha256(s);
  }

  private static ApiException unauthorized(String message) {
    return new ApiException(401, "unauthorized", message, Map.of("WWW-Authenticate", "Bearer realm=\"scangate-admin\""));
  }

  private static ApiException forbidden(String message) {
    return new ApiException(403, "forbidden", message);
  }

  private static String id(RoutingContext ctx) {
    return ctx.pathParam("id");
  }

  private static Future<?> done(RoutingContext ctx, Future<Void> action) {
    return action.compose(v -> Responses.json(ctx, 200, new JsonObject()));
  }

  private Future<?> listUsers(RoutingContext ctx, JsonObject actor) {
    var params = ctx.request().params();
    int limit = AuditLog.limit(blankToNull(params.get("limit")), Administration.DEFAULT_USERS_LIMIT, Administration.MAX_USERS_LIMIT);
    return admin.listUsers(blankToNull(params.get("query")), limit, blankToNull(params.get("cursor")), actor)
        .compose(page -> Responses.json(ctx, 200, page));
  }

  private Future<?> showUser(RoutingContext ctx, JsonObject actor) {
    return admin.showUser(id(ctx), actor).compose(user -> Responses.json(ctx, 200, user));
  }

  private static JsonObject filter(RoutingContext ctx) {
    JsonObject filter = new JsonObject();
    for (String name : List.of("user", "type", "since", "until", "limit", "cursor")) {
      String value = blankToNull(ctx.request().params().get(name));
      if (value != null) filter.put(name, value);
    }
    return filter;
  }

  private Future<?> audit(RoutingContext ctx, JsonObject actor) {
    JsonObject filter = filter(ctx);
    // Checked here too, so that a bad filter is a 400 before anything is read.
    AuditLog.Filter.of(filter);
    return admin.audit(filter).compose(page -> Responses.json(ctx, 200, page));
  }

  /** Every matching event as JSON lines, newest first, read page by page. */
  private Future<?> export(RoutingContext ctx, JsonObject actor) {
    JsonObject filter = filter(ctx).put("limit", String.valueOf(AuditLog.MAX_LIMIT));
    filter.remove("cursor");
    AuditLog.Filter.of(filter);
    return admin.recordAction("export_audit", actor, null).compose(v -> {
      HttpServerResponse response = ctx.response().setChunked(true)
          .putHeader("Content-Type", "application/x-ndjson; charset=utf-8")
          .putHeader("Cache-Control", "no-store")
          .putHeader("Content-Disposition", "attachment; filename=\"scangate-audit.jsonl\"");
      return exportPage(response, filter).compose(done -> response.end())
          .recover(e -> {
            // Headers are gone: end the stream short rather than half-write an error.
            ctx.request().connection().close();
            return Future.failedFuture(e);
          });
    });
  }

  private Future<Void> exportPage(HttpServerResponse response, JsonObject filter) {
    return admin.audit(filter).compose(page -> {
      JsonArray events = page.getJsonArray("events");
      StringBuilder lines = new StringBuilder();
      for (int i = 0; i < events.size(); i++) lines.append(events.getJsonObject(i).encode()).append('\n');
      Future<Void> written = lines.isEmpty() ? Future.succeededFuture() : response.write(lines.toString());
      String next = page.getString("nextCursor");
      return next == null ? written : written.compose(v -> exportPage(response, filter.copy().put("cursor", next)));
    });
  }

  private static void asset(RoutingContext ctx, Buffer body, String type) {
    ctx.response().putHeader("Content-Type", type).putHeader("Cache-Control", "no-cache").end(body);
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s;
  }

  private static Buffer resource(String path) {
    try (InputStream in = AdminRoutes.class.getResourceAsStream(path)) {
      if (in == null) throw new IllegalStateException(path + " is missing from the jar");
      return Buffer.buffer(in.readAllBytes());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
