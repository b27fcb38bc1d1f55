package io.scangate.identity;

import io.scangate.Infrastructure;
import io.scangate.config.ScanGateConfig;
import io.scangate.config.ScanGateConfig.LinkingField;
import io.scangate.config.ScanGateConfig.LinkingMode;
import io.scangate.error.ApiException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.DatabaseException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * Users and their WeChat identities in PostgreSQL. Resolving an identity to a user is one
 * transaction; the unique (connection, openid) constraint makes concurrent first logins of one
 * person collide, and the loser retries and finds the winner's user.
 */
public final class UserStore {

  private static final int MAX_ATTEMPTS = 5;
  private static final String UNIQUE_VIOLATION = "23505";

  private static final String LOCK = "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))";
  private static final String FIND_IDENTITY = "SELECT user_id FROM identities WHERE connection = $1 AND openid = $2";
  private static final String FIND_BY_UNIONID = "SELECT id FROM users WHERE unionid = $1 ORDER BY created_at, id LIMIT 1";
  private static final String FIND_BY_PHONE = "SELECT id FROM users WHERE phone = $1 ORDER BY created_at, id LIMIT 1";
  private static final String INSERT_USER =
      "INSERT INTO users (id, nickname, avatar_url, phone, unionid) VALUES ($1, $2, $3, $4, $5)";
  private static final String INSERT_IDENTITY =
      "INSERT INTO identities (user_id, connection, wechat_app_id, openid, unionid) VALUES ($1, $2, $3, $4, $5)";
  private static final String RECORD_LOGIN = """
      UPDATE users SET last_login_at = now(), login_count = login_count + 1,
        unionid = COALESCE(unionid, $2), phone = COALESCE($3, phone),
        nickname = COALESCE(nickname, $4), avatar_url = COALESCE(avatar_url, $5)
      WHERE id = $1""";
  private static final String LEARN_IDENTITY_UNIONID =
      "UPDATE identities SET unionid = $3 WHERE connection = $1 AND openid = $2 AND unionid IS NULL";
  private static final String UPDATE_PROFILE = """
      UPDATE users SET nickname = COALESCE($2, nickname), avatar_url = COALESCE($3, avatar_url)
      WHERE id = $1 RETURNING id""";
  private static final String SELECT_USER = """
      SELECT u.id, u.nickname, u.avatar_url, u.phone, u.unionid, u.created_at, u.last_login_at,
        COALESCE(json_agg(json_build_object('connection', i.connection, 'openid', i.openid) ORDER BY i.id)
          FILTER (WHERE i.id IS NOT NULL), '[]'::json) AS identities
      FROM users u LEFT JOIN identities i ON i.user_id = u.id
      WHERE u.id = $1 GROUP BY u.id""";
  private static final String INSERT_AUDIT = """
      INSERT INTO audit_log (event, outcome, user_id, app_id, connection, client_ip, detail)
      VALUES ($1, $2, $3, $4, $5, $6, $7)""";

  private final Pool pool;

  public UserStore(Pool pool) {
    this.pool = pool;
  }

  public UserStore(Infrastructure infra) {
    this(infra.postgres());
  }

  /**
   * Finds or creates the user behind a WeChat identity and records the login. Fails with
   * {@code 403 login_only} (creating nothing, auditing the refusal) when the connection admits only
   * existing accounts and none matches.
   */
  public Future<User> resolve(WeChatIdentity identity, ScanGateConfig.Connection connection, LoginContext context) {
    if (identity.openid() == null || identity.openid().isBlank()) {
      return Future.failedFuture(ApiException.badRequest("invalid_identity", "The WeChat identity has no openid"));
    }
    if (!connection.identifier().equals(identity.connection())) {
      return Future.failedFuture(new IllegalArgumentException(
          "identity of connection " + identity.connection() + " resolved with connection " + connection.identifier()));
    }
    return attempt(identity, connection, context, 1);
  }

  private Future<User> attempt(WeChatIdentity identity, ScanGateConfig.Connection connection, LoginContext context,
                               int attempt) {
    return pool.withTransaction(conn -> resolveIn(conn, identity, connection, context))
        .recover(e -> {
          if (isUniqueViolation(e) && attempt < MAX_ATTEMPTS) return attempt(identity, connection, context, attempt + 1);
          if (e instanceof LoginOnlyRefusal) {
            return audit("login_refused", "refused", null, connection.identifier(), context,
                new JsonObject().put("reason", "login_only").put("wechatAppId", identity.wechatAppId())
                    .put("openid", identity.openid()))
                .transform(ignored -> Future.failedFuture(new ApiException(403, "login_only",
                    "Connection " + connection.identifier() + " only lets existing accounts log in, and this WeChat user has none")));
          }
          return Future.failedFuture(e);
        });
  }

  private Future<User> resolveIn(SqlConnection conn, WeChatIdentity identity, ScanGateConfig.Connection connection,
                                 LoginContext context) {
    boolean linking = connection.accountLinking().mode() == LinkingMode.MATCH;
    return (linking ? lockLinkingValues(conn, identity, connection) : Future.<Void>succeededFuture())
        .compose(v -> conn.preparedQuery(FIND_IDENTITY).execute(Tuple.of(identity.connection(), identity.openid())))
        .compose(rows -> {
          if (rows.size() > 0) {
            return Future.succeededFuture(new Resolution(rows.iterator().next().getUUID("user_id"), false, null));
          }
          Future<Optional<Resolution>> linked = linking
              ? findLinkable(conn, identity, connection.accountLinking().fields(), 0)
              : Future.succeededFuture(Optional.empty());
          return linked.compose(found -> {
            if (found.isPresent()) {
              return insertIdentity(conn, found.get().userId(), identity).map(found.get());
            }
            if (connection.loginOnly()) return Future.failedFuture(new LoginOnlyRefusal());
            UUID id = UUID.randomUUID();
            return conn.preparedQuery(INSERT_USER)
                .execute(Tuple.of(id, identity.nickname(), identity.avatarUrl(), identity.phone(), identity.unionid()))
                .compose(r -> insertIdentity(conn, id, identity))
                .map(new Resolution(id, true, null));
          });
        })
        .compose(resolution -> conn.preparedQuery(RECORD_LOGIN)
            .execute(Tuple.of(resolution.userId(), identity.unionid(), identity.phone(), identity.nickname(),
                identity.avatarUrl()))
            .compose(r -> identity.unionid() == null ? Future.succeededFuture()
                : conn.preparedQuery(LEARN_IDENTITY_UNIONID)
                    .execute(Tuple.of(identity.connection(), identity.openid(), identity.unionid())))
            .compose(r -> {
              JsonObject detail = new JsonObject().put("wechatAppId", identity.wechatAppId())
                  .put("openid", identity.openid()).put("created", resolution.created());
              if (resolution.linkedBy() != null) detail.put("linkedBy", resolution.linkedBy());
              return auditIn(conn, "login", "success", resolution.userId(), connection.identifier(), context, detail);
            })
            .compose(v -> select(conn, resolution.userId())));
  }

  /**
   * Serialises logins that could link to (or create) the same person: two first logins through
   * different connections with one unionid must not both create a user. Always in the same order.
   */
  private Future<Void> lockLinkingValues(SqlConnection conn, WeChatIdentity identity, ScanGateConfig.Connection connection) {
    List<String> locks = new ArrayList<>();
    List<LinkingField> fields = connection.accountLinking().fields();
    if (fields.contains(LinkingField.UNIONID) && identity.unionid() != null) locks.add("scangate:link:unionid:" + identity.unionid());
    if (fields.contains(LinkingField.PHONE) && identity.phone() != null) locks.add("scangate:link:phone:" + identity.phone());
    Future<Void> chain = Future.succeededFuture();
    for (String lock : locks) {
      chain = chain.compose(v -> conn.preparedQuery(LOCK).execute(Tuple.of(lock)).mapEmpty());
    }
    return chain;
  }

  private Future<Optional<Resolution>> findLinkable(SqlConnection conn, WeChatIdentity identity, List<LinkingField> fields,
                                                    int index) {
    if (index >= fields.size()) return Future.succeededFuture(Optional.empty());
    LinkingField field = fields.get(index);
    String value = field == LinkingField.UNIONID ? identity.unionid() : identity.phone();
    if (value == null || value.isBlank()) return findLinkable(conn, identity, fields, index + 1);
    String sql = field == LinkingField.UNIONID ? FIND_BY_UNIONID : FIND_BY_PHONE;
    return conn.preparedQuery(sql).execute(Tuple.of(value)).compose(rows -> rows.size() > 0
        ? Future.succeededFuture(Optional.of(new Resolution(rows.iterator().next().getUUID("id"), false,
            field.name().toLowerCase())))
        : findLinkable(conn, identity, fields, index + 1));
  }

  private static Future<Void> insertIdentity(SqlConnection conn, UUID userId, WeChatIdentity identity) {
    return conn.preparedQuery(INSERT_IDENTITY)
        .execute(Tuple.of(userId, identity.connection(), identity.wechatAppId(), identity.openid(), identity.unionid()))
        .mapEmpty();
  }

  /** The user with this id; fails with {@code 404 user_not_found}. */
  public Future<User> find(String userId) {
    UUID id = parseId(userId);
    if (id == null) return Future.failedFuture(userNotFound());
    return pool.withConnection(conn -> select(conn, id));
  }

  /** Sets the given (non-null) fields, audits the change and returns the updated user. */
  public Future<User> updateProfile(String userId, String nickname, String avatarUrl, LoginContext ctx) {
    UUID id = parseId(userId);
    if (id == null) return Future.failedFuture(userNotFound());
    return pool.withTransaction(conn -> conn.preparedQuery(UPDATE_PROFILE).execute(Tuple.of(id, nickname, avatarUrl))
        .compose(rows -> {
          if (rows.size() == 0) return Future.failedFuture(userNotFound());
          JsonArray fields = new JsonArray();
          if (nickname != null) fields.add("nickname");
          if (avatarUrl != null) fields.add("avatarUrl");
          return auditIn(conn, "profile_updated", "success", id, null, ctx, new JsonObject().put("fields", fields));
        })
        .compose(v -> select(conn, id)));
  }

  /**
   * Writes one audit_log row. {@code event}: login, login_refused, token_revoked, profile_updated,
   * refresh_token_reuse...; {@code outcome}: success, refused, failed. Any argument but the first
   * two may be null.
   */
  public Future<Void> audit(String event, String outcome, String userId, String connection, LoginContext context,
                            JsonObject detail) {
    return pool.withConnection(conn -> auditIn(conn, event, outcome, parseId(userId), connection, context, detail));
  }

  private static Future<Void> auditIn(SqlConnection conn, String event, String outcome, UUID userId, String connection,
                                      LoginContext context, JsonObject detail) {
    return conn.preparedQuery(INSERT_AUDIT)
        .execute(Tuple.from(new Object[] {event, outcome, userId,
            context == null ? null : context.appId(), connection, context == null ? null : context.clientIp(),
            detail == null ? new JsonObject() : detail}))
        .mapEmpty();
  }

  private static Future<User> select(SqlConnection conn, UUID id) {
    return conn.preparedQuery(SELECT_USER).execute(Tuple.of(id)).compose(rows -> rows.size() == 0
        ? Future.failedFuture(userNotFound())
        : Future.succeededFuture(toUser(rows.iterator().next())));
  }

  private static User toUser(Row row) {
    List<User.Identity> identities = new ArrayList<>();
    Object raw = row.getValue("identities");
    JsonArray array = raw instanceof JsonArray a ? a : new JsonArray(String.valueOf(raw));
    for (int i = 0; i < array.size(); i++) {
      JsonObject o = array.getJsonObject(i);
      identities.add(new User.Identity(o.getString("connection"), o.getString("openid")));
    }
    OffsetDateTime created = row.getOffsetDateTime("created_at");
    OffsetDateTime lastLogin = row.getOffsetDateTime("last_login_at");
    return new User(row.getUUID("id").toString(), row.getString("nickname"), row.getString("avatar_url"),
        row.getString("phone"), row.getString("unionid"), identities, created.toInstant(),
        lastLogin == null ? null : lastLogin.toInstant());
  }

  private static UUID parseId(String userId) {
    if (userId == null) return null;
    try {
      return UUID.fromString(userId);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private static ApiException userNotFound() {
    return ApiException.notFound("user_not_found", "No such user");
  }

  private static boolean isUniqueViolation(Throwable e) {
    return e instanceof DatabaseException db && UNIQUE_VIOLATION.equals(db.getSqlState());
  }

  private record Resolution(UUID userId, boolean created, String linkedBy) {}

  /** Rolls the transaction back; turned into {@code 403 login_only} after the refusal is audited. */
  private static final class LoginOnlyRefusal extends RuntimeException {
    LoginOnlyRefusal() {
      super("login_only", null, false, false);
    }
  }
}
