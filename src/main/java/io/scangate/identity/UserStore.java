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
  private static final String INSERT_IDENTITY =
      "INSERT INTO identities (user_id, connection, wechat_app_id, openid, unionid) VALUES ($1, $2, $3, $4, $5)";
  /** Refuses (no row) a blocked user: the row lock orders it against a concurrent block. */
  private static final String RECORD_LOGIN = """
      UPDATE users SET last_login_at = now(), login_count = login_count + 1,
        unionid = COALESCE(unionid, $2), phone = COALESCE($3, phone),
        nickname = COALESCE(nickname, $4), avatar_url = COALESCE(avatar_url, $5)
      WHERE id = $1 AND blocked_at IS NULL RETURNING id""";
  /** Also learns the identity's unionid when it had none (WeChat may tell it only later). */
  private static final String RECORD_IDENTITY_LOGIN =
      "UPDATE identities SET last_login_at = now(), unionid = COALESCE(unionid, $3) WHERE connection = $1 AND openid = $2";
  /**
   * A first login: the user and the identity, already logged in, in one statement (one round
   * trip, no row written twice), where inserting then recording the login took four.
   */
  private static final String INSERT_USER_WITH_IDENTITY = """
      WITH u AS (INSERT INTO users (id, nickname, avatar_url, phone, unionid, last_login_at, login_count)
                 VALUES ($1, $2, $3, $4, $5, now(), 1) RETURNING id)
      INSERT INTO identities (user_id, connection, wechat_app_id, openid, unionid, last_login_at)
      SELECT id, $6, $7, $8, $5, now() FROM u""";
  private static final String UPDATE_PROFILE = """
      UPDATE users SET nickname = COALESCE($2, nickname), avatar_url = COALESCE($3, avatar_url)
      WHERE id = $1 RETURNING id""";
  private static final String SELECT_USER = """
      SELECT u.id, u.nickname, u.avatar_url, u.phone, u.unionid, u.created_at, u.last_login_at, u.blocked_at,
        COALESCE(json_agg(json_build_object('connection', i.connection, 'openid', i.openid,
            'lastLoginAt', floor(extract(epoch FROM i.last_login_at) * 1000)) ORDER BY i.id)
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
          if (e instanceof BlockedRefusal blocked) {
            return audit("login_refused", "refused", blocked.userId.toString(), connection.identifier(), context,
                new JsonObject().put("reason", "user_blocked").put("wechatAppId", identity.wechatAppId())
                    .put("openid", identity.openid()))
                .transform(ignored -> Future.failedFuture(userBlocked()));
          }
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
            return conn.preparedQuery(INSERT_USER_WITH_IDENTITY)
                .execute(Tuple.of(id, identity.nickname(), identity.avatarUrl(), identity.phone(), identity.unionid(),
                    identity.connection(), identity.wechatAppId(), identity.openid()))
                .map(new Resolution(id, true, null));
          });
        })
        // A new user is written logged in already; an existing one (found, or linked) records it.
        .compose(resolution -> (resolution.created() ? Future.<Void>succeededFuture() : recordLogin(conn, resolution, identity))
            .compose(r -> {
              JsonObject detail = new JsonObject().put("wechatAppId", identity.wechatAppId())
                  .put("openid", identity.openid()).put("created", resolution.created());
              if (resolution.linkedBy() != null) detail.put("linkedBy", resolution.linkedBy());
              return auditIn(conn, "login", "success", resolution.userId(), connection.identifier(), context, detail);
            })
            .compose(v -> select(conn, resolution.userId())));
  }

  /** An existing user's login: counted, and its identity's too; a blocked user is refused (the transaction rolls back). */
  private static Future<Void> recordLogin(SqlConnection conn, Resolution resolution, WeChatIdentity identity) {
    return conn.preparedQuery(RECORD_LOGIN)
        .execute(Tuple.of(resolution.userId(), identity.unionid(), identity.phone(), identity.nickname(), identity.avatarUrl()))
        .compose(r -> r.size() == 0 ? Future.failedFuture(new BlockedRefusal(resolution.userId()))
            : conn.preparedQuery(RECORD_IDENTITY_LOGIN).execute(Tuple.of(identity.connection(), identity.openid(), identity.unionid())))
        .mapEmpty();
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

  // ---- administration (CONTRACT section 11) ----

  /** The columns and identities of {@link #toUser}, for users {@code u} chosen by a sub-query. */
  private static final String USER_COLUMNS = """
      SELECT u.id, u.nickname, u.avatar_url, u.phone, u.unionid, u.created_at, u.last_login_at, u.blocked_at,
        (extract(epoch FROM u.created_at) * 1000000)::bigint AS created_us,
        COALESCE((SELECT json_agg(json_build_object('connection', i.connection, 'openid', i.openid,
            'lastLoginAt', floor(extract(epoch FROM i.last_login_at) * 1000)) ORDER BY i.id)
          FROM identities i WHERE i.user_id = u.id), '[]'::json) AS identities
      """;

  /** A page of users, newest first, and the position after its last one (null when there is no more). */
  public record Page(List<User> users, String nextCursor) {}

  /**
   * Users matching {@code query} (null: all): the id, phone, unionid or an identity's openid
   * exactly, or a nickname prefix (case-insensitive). Newest first; {@code cursor} continues
   * after a previous page (keyset pagination on {@code (created_at, id)}, btree indexes only).
   */
  public Future<Page> list(String query, int limit, String cursor) {
    List<Object> params = new ArrayList<>();
    StringBuilder where = new StringBuilder("TRUE");
    if (query != null && !query.isBlank()) {
      String q = query.trim();
      String prefix = q.toLowerCase(java.util.Locale.ROOT);
      params.add(q);
      params.add(prefix);
      params.add(prefix + "\uDBFF\uDFFF"); // U+10FFFF: above every continuation, bytewise
      where.append(" AND (u.phone = $1 OR u.unionid = $1")
          .append(" OR u.id IN (SELECT user_id FROM identities WHERE openid = $1 OR unionid = $1)")
          .append(" OR (lower(u.nickname) ~>=~ $2 AND lower(u.nickname) ~<~ $3)");
      UUID id = parseId(q);
      if (id != null) {
        params.add(id);
        where.append(" OR u.id = $").append(params.size());
      }
      where.append(')');
    }
    if (cursor != null) {
      Cursor c = Cursor.parse(cursor);
      params.add(c.createdMicros());
      params.add(c.id());
      where.append(" AND (u.created_at, u.id) < (timestamptz 'epoch' + $").append(params.size() - 1)
          .append(" * interval '1 microsecond', $").append(params.size()).append(')');
    }
    params.add(limit + 1);
    String sql = USER_COLUMNS + "FROM (SELECT * FROM users u WHERE " + where
        + " ORDER BY u.created_at DESC, u.id DESC LIMIT $" + params.size() + ") u ORDER BY u.created_at DESC, u.id DESC";
    return pool.preparedQuery(sql).execute(Tuple.from(params)).map(rows -> {
      List<User> users = new ArrayList<>();
      String next = null;
      for (Row row : rows) {
        if (users.size() == limit) {
          break;
        }
        users.add(toUser(row));
        next = new Cursor(row.getLong("created_us"), row.getUUID("id")).encode();
      }
      return new Page(users, rows.size() > limit ? next : null);
    });
  }

  /** Position in the user list: after the user created at this microsecond with this id. */
  private record Cursor(long createdMicros, UUID id) {
    String encode() {
      return java.util.Base64.getUrlEncoder().withoutPadding()
          .encodeToString((createdMicros + "," + id).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    }

    static Cursor parse(String cursor) {
      try {
        String text = new String(java.util.Base64.getUrlDecoder().decode(cursor), java.nio.charset.StandardCharsets.US_ASCII);
        int comma = text.indexOf(',');
        return new Cursor(Long.parseLong(text.substring(0, comma)), UUID.fromString(text.substring(comma + 1)));
      } catch (RuntimeException e) {
        throw ApiException.badRequest("invalid_cursor", "cursor is not one this API gave");
      }
    }
  }

  private static final String BLOCK = "UPDATE users SET blocked_at = COALESCE(blocked_at, now()) WHERE id = $1 RETURNING id";
  private static final String UNBLOCK = "UPDATE users SET blocked_at = NULL WHERE id = $1 RETURNING id";
  private static final String IS_ADMIN = """
      SELECT 1 FROM users u WHERE u.id = $1 AND u.blocked_at IS NULL
        AND (u.id = ANY($2) OR u.unionid = ANY($3) OR EXISTS (SELECT 1 FROM identities i
          WHERE i.user_id = u.id AND (i.openid = ANY($4) OR i.unionid = ANY($3))))""";

  /** Blocks ({@code true}) or unblocks a user; {@code 404 user_not_found} when there is none. */
  public Future<Void> setBlocked(String userId, boolean blocked) {
    UUID id = parseId(userId);
    if (id == null) return Future.failedFuture(userNotFound());
    return pool.preparedQuery(blocked ? BLOCK : UNBLOCK).execute(Tuple.of(id))
        .compose(rows -> rows.size() == 0 ? Future.failedFuture(userNotFound()) : Future.succeededFuture());
  }

  /**
   * Whether this user, not blocked, is one of {@code admin.users}: by id, or by a unionid or openid
   * of theirs.
   */
  public Future<Boolean> isAdmin(String userId, List<ScanGateConfig.AdminUser> admins) {
    UUID id = parseId(userId);
    if (id == null || admins.isEmpty()) return Future.succeededFuture(false);
    List<UUID> ids = new ArrayList<>();
    List<String> unionids = new ArrayList<>();
    List<String> openids = new ArrayList<>();
    for (ScanGateConfig.AdminUser a : admins) {
      switch (a.kind()) {
        case ID -> ids.add(UUID.fromString(a.value()));
        case UNIONID -> unionids.add(a.value());
        case OPENID -> openids.add(a.value());
      }
    }
    return pool.preparedQuery(IS_ADMIN).execute(Tuple.of(id, ids.toArray(new UUID[0]), unionids.toArray(new String[0]),
        openids.toArray(new String[0]))).map(rows -> rows.size() > 0);
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
   * refresh_reuse, token_refresh...; {@code outcome}: success, refused, failed. Any argument but the first
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
      Long lastLogin = o.getValue("lastLoginAt") instanceof Number n ? n.longValue() : null;
      identities.add(new User.Identity(o.getString("connection"), o.getString("openid"),
          lastLogin == null ? null : java.time.Instant.ofEpochMilli(lastLogin)));
    }
    OffsetDateTime created = row.getOffsetDateTime("created_at");
    OffsetDateTime lastLogin = row.getOffsetDateTime("last_login_at");
    return new User(row.getUUID("id").toString(), row.getString("nickname"), row.getString("avatar_url"),
        row.getString("phone"), row.getString("unionid"), identities, created.toInstant(),
        lastLogin == null ? null : lastLogin.toInstant(), row.getOffsetDateTime("blocked_at") != null);
  }

  private static UUID parseId(String userId) {
    if (userId == null) return null;
    try {
      return UUID.fromString(userId);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /** {@code 403 user_blocked}: an administrator blocked this user (CONTRACT section 11). */
  public static ApiException userBlocked() {
    return new ApiException(403, "user_blocked", "This user is blocked by an administrator");
  }

  private static ApiException userNotFound() {
    return ApiException.notFound("user_not_found", "No such user");
  }

  private static boolean isUniqueViolation(Throwable e) {
    return e instanceof DatabaseException db && UNIQUE_VIOLATION.equals(db.getSqlState());
  }

  private record Resolution(UUID userId, boolean created, String linkedBy) {}

  /** Rolls the transaction back; turned into {@code 403 user_blocked} after the refusal is audited. */
  private static final class BlockedRefusal extends RuntimeException {
    final UUID userId;

    BlockedRefusal(UUID userId) {
      super("user_blocked", null, false, false);
      this.userId = userId;
    }
  }

  /** Rolls the transaction back; turned into {@code 403 login_only} after the refusal is audited. */
  private static final class LoginOnlyRefusal extends RuntimeException {
    LoginOnlyRefusal() {
      super("login_only", null, false, false);
    }
  }
}
