package io.scangate.admin;

import io.scangate.login.SsoSessions;
import io.scangate.config.ScanGateConfig;
import io.scangate.error.ApiException;
import io.scangate.error.Failures;
import io.scangate.identity.LoginContext;
import io.scangate.identity.UserStore;
import io.scangate.redis.RedisKeys;
import io.scangate.token.TokenManager;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Redis;
import io.vertx.sqlclient.Pool;

/**
 * {@link AdminService} itself, the one implementation the API, the page and the command line
 * share. Blocking and log out everywhere: PostgreSQL first (the block, the refresh families),
 * then the revocation by user and issue time (Redis, announced to every instance), then the
 * user's single sign-on sessions ({@link SsoSessions#endAllOf}), then the audit row.
 */
public final class Administration implements AdminService {

  public static final int DEFAULT_USERS_LIMIT = 20;
  public static final int MAX_USERS_LIMIT = 100;

  private final ScanGateConfig config;
  private final Pool pool;
  private final Redis redis;
  private final RedisKeys keys;
  private final UserStore users;
  private final AuditLog audit;
  private final SsoSessions sessions;

  public Administration(ScanGateConfig config, Pool pool, Redis redis, RedisKeys keys, UserStore users, SsoSessions sessions) {
    this.config = config;
    this.pool = pool;
    this.redis = redis;
    this.keys = keys;
    this.users = users;
    this.audit = new AuditLog(pool);
    this.sessions = sessions;
  }

  public AuditLog auditLog() {
    return audit;
  }

  @Override
  public Future<JsonObject> listUsers(String query, int limit, String cursor, JsonObject actor) {
    return Failures.forBus(attempt(() -> {
      if (limit < 1 || limit > MAX_USERS_LIMIT) {
        throw ApiException.badRequest("invalid_request", "limit must be a whole number from 1 to " + MAX_USERS_LIMIT);
      }
      if (query != null && query.length() > 200) throw ApiException.badRequest("invalid_request", "query is longer than 200 characters");
      return users.list(query, limit, cursor).compose(page -> {
        JsonArray list = new JsonArray();
        page.users().forEach(u -> list.add(u.toAdminJson()));
        JsonObject answer = new JsonObject().put("users", list);
        if (page.nextCursor() != null) answer.put("nextCursor", page.nextCursor());
        // A search is a look into personal data: recorded (a plain listing is not).
        if (query == null || query.isBlank()) return Future.succeededFuture(answer);
        return record("search_users", actor, null, new JsonObject().put("query", query)).map(answer);
      });
    }));
  }

  @Override
  public Future<JsonObject> showUser(String userId, JsonObject actor) {
    return Failures.forBus(users.find(userId)
        .compose(user -> record("show_user", actor, user.id(), null).map(v -> user.toAdminJson())));
  }

  @Override
  public Future<Void> block(String userId, JsonObject actor) {
    return Failures.forBus(users.setBlocked(userId, true)
        .compose(v -> TokenManager.revokeEverything(pool, redis, keys, config, userId))
        .compose(revoked -> sessions.endAllOf(userId).map(revoked))
        .compose(revoked -> users.audit("user_blocked", "success", userId, null, context(actor),
            by(actor).put("revokedRefreshTokens", revoked))));
  }

  @Override
  public Future<Void> unblock(String userId, JsonObject actor) {
    return Failures.forBus(users.setBlocked(userId, false)
        .compose(v -> users.audit("user_unblocked", "success", userId, null, context(actor), by(actor))));
  }

  @Override
  public Future<Void> logout(String userId, JsonObject actor) {
    return Failures.forBus(users.find(userId)
        .compose(user -> TokenManager.revokeEverything(pool, redis, keys, config, user.id()))
        .compose(revoked -> sessions.endAllOf(userId).map(revoked))
        .compose(revoked -> users.audit("user_logout", "success", userId, null, context(actor),
            by(actor).put("revokedRefreshTokens", revoked))));
  }

  @Override
  public Future<JsonObject> audit(JsonObject filter) {
    return Failures.forBus(attempt(() -> audit.read(AuditLog.Filter.of(filter == null ? new JsonObject() : filter))));
  }

  @Override
  public Future<Void> recordAction(String action, JsonObject actor, String userId) {
    return Failures.forBus(record(action, actor, userId, null));
  }

  @Override
  public Future<Boolean> isAdmin(String userId) {
    return Failures.forBus(users.isAdmin(userId, config.admin().users()));
  }

  private Future<Void> record(String action, JsonObject actor, String userId, JsonObject more) {
    JsonObject detail = by(actor).put("action", action);
    if (more != null) detail.mergeIn(more);
    return users.audit("admin_action", "success", userId, null, context(actor), detail);
  }

  private static JsonObject by(JsonObject actor) {
    return new JsonObject().put("by", actor == null ? "unknown" : actor.getString("by", "unknown"));
  }

  private static LoginContext context(JsonObject actor) {
    return new LoginContext(null, actor == null ? null : actor.getString("ip"));
  }

  /** An actor for the audit log. */
  public static JsonObject actor(String by, String ip) {
    JsonObject actor = new JsonObject().put("by", by);
    if (ip != null) actor.put("ip", ip);
    return actor;
  }

  private static <T> Future<T> attempt(java.util.function.Supplier<Future<T>> step) {
    try {
      return step.get();
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }
}
