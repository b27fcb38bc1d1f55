package io.scangate.token;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Opaque refresh tokens: 256 random bits for the client, only their SHA-256 in PostgreSQL. Using
 * one rotates it; presenting an already rotated one revokes its whole family (theft detection).
 */
final class RefreshTokenStore {


  private static final String INSERT = """
      INSERT INTO refresh_tokens (token_hash, family_id, user_id, app_id, scope, expires_at, access_jti, access_expires_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""";
  private static final String SELECT_FOR_UPDATE = """
      SELECT family_id, user_id, app_id, scope, expires_at, rotated_at, revoked_at
      FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE""";
  private static final String SELECT = """
      SELECT family_id, user_id, app_id, scope, created_at, expires_at, rotated_at, revoked_at
      FROM refresh_tokens WHERE token_hash = $1""";
  private static final String MARK_ROTATED = "UPDATE refresh_tokens SET rotated_at = now() WHERE token_hash = $1";
  private static final String REVOKE_FAMILY = """
      UPDATE refresh_tokens SET revoked_at = now()
      WHERE family_id = $1 AND revoked_at IS NULL
      RETURNING access_jti, access_expires_at""";

  /** A new refresh token and the access token issued with it. */
  record NewRefresh(String token, UUID familyId, String userId, String appId, String scope, Instant expiresAt,
                    String accessJti, Instant accessExpiresAt) {}

  /** What a valid refresh token grants. */
  record Grant(UUID familyId, String userId, String appId, String scope) {}

  /** A stored refresh token as introspection shows it. */
  record Stored(UUID familyId, String userId, String appId, String scope, Instant issuedAt, Instant expiresAt,
                boolean active) {}

  /** An access token to revoke along with its family. */
  record AccessJti(String jti, Instant expiresAt) {}

  /** The outcome of presenting a refresh token. */
  sealed interface Rotation {
    record Rotated(Grant grant) implements Rotation {}

    record Refused(String description) implements Rotation {}

    /** A rotated token came back: the family is revoked, these access tokens must be too. */
    record Reused(Grant grant, List<AccessJti> accessTokens) implements Rotation {}
  }

  private final Pool pool;

  RefreshTokenStore(Pool pool) {
    this.pool = pool;
  }

  static String newToken() {
    return io.scangate.util.Randoms.urlSafe(32);
  }

  static String hash(String token) {
    return io.scangate.util.Hashes.sha256Hex(token);
  }

  Future<Void> insert(NewRefresh refresh) {
    return insert(pool, refresh);
  }

  private static Future<Void> insert(SqlClient client, NewRefresh r) {
    return client.preparedQuery(INSERT).execute(Tuple.from(new Object[] {hash(r.token()), r.familyId(),
            UUID.fromString(r.userId()), r.appId(), r.scope(), utc(r.expiresAt()), r.accessJti(), utc(r.accessExpiresAt())}))
        .mapEmpty();
  }

  /**
   * Exchanges {@code presented} for {@code next} (whose family, user and scope are taken from the
   * presented token) in one transaction. A reuse revokes the family and commits that.
   */
  Future<Rotation> rotate(String presented, String clientAppId, java.util.function.Function<Grant, NewRefresh> next) {
    String presentedHash = hash(presented);
    return pool.withTransaction(conn -> conn.preparedQuery(SELECT_FOR_UPDATE).execute(Tuple.of(presentedHash))
        .compose(rows -> {
          if (rows.size() == 0) return refused("refresh token is unknown");
          Row row = rows.iterator().next();
          Grant grant = new Grant(row.getUUID("family_id"), row.getUUID("user_id").toString(), row.getString("app_id"),
              row.getString("scope"));
          if (!grant.appId().equals(clientAppId)) return refused("refresh token was issued to another application");
          if (row.getOffsetDateTime("revoked_at") != null) return refused("refresh token has been revoked");
          if (row.getOffsetDateTime("rotated_at") != null) {
            return revokeFamily(conn, grant.familyId()).map(jtis -> (Rotation) new Rotation.Reused(grant, jtis));
          }
          if (!row.getOffsetDateTime("expires_at").toInstant().isAfter(Instant.now())) {
            return refused("refresh token has expired");
          }
          NewRefresh successor = next.apply(grant);
          return conn.preparedQuery(MARK_ROTATED).execute(Tuple.of(presentedHash))
              .compose(r -> insert(conn, successor))
              .map(v -> (Rotation) new Rotation.Rotated(grant));
        }));
  }

  /** The stored token, or null when unknown. */
  Future<Stored> find(String token) {
    return pool.preparedQuery(SELECT).execute(Tuple.of(hash(token))).map(rows -> {
      if (rows.size() == 0) return null;
      Row row = rows.iterator().next();
      Instant expires = row.getOffsetDateTime("expires_at").toInstant();
      boolean active = row.getOffsetDateTime("rotated_at") == null && row.getOffsetDateTime("revoked_at") == null
          && expires.isAfter(Instant.now());
      return new Stored(row.getUUID("family_id"), row.getUUID("user_id").toString(), row.getString("app_id"),
          row.getString("scope"), row.getOffsetDateTime("created_at").toInstant(), expires, active);
    });
  }

  /** Revokes every refresh token of the family; returns the access tokens issued with them. */
  Future<List<AccessJti>> revokeFamily(UUID familyId) {
    return pool.withTransaction(conn -> revokeFamily(conn, familyId));
  }

  private static Future<List<AccessJti>> revokeFamily(SqlClient client, UUID familyId) {
    return client.preparedQuery(REVOKE_FAMILY).execute(Tuple.of(familyId)).map(rows -> {
      List<AccessJti> jtis = new ArrayList<>();
      for (Row row : rows) {
        String jti = row.getString("access_jti");
        OffsetDateTime exp = row.getOffsetDateTime("access_expires_at");
        if (jti != null && exp != null) jtis.add(new AccessJti(jti, exp.toInstant()));
      }
      return jtis;
    });
  }

  private static Future<Rotation> refused(String description) {
    return Future.succeededFuture(new Rotation.Refused(description));
  }

  private static OffsetDateTime utc(Instant instant) {
    return instant == null ? null : instant.atOffset(ZoneOffset.UTC);
  }
}
