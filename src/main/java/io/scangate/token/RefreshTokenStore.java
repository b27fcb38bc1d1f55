package io.scangate.token;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;

import io.vertx.core.buffer.Buffer;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Opaque refresh tokens: 256 random bits for the client, only their SHA-256 in PostgreSQL. Using
 * one rotates it; presenting an already rotated one revokes its whole family (theft detection),
 * except a retry by the same client within the reuse interval while the successor is unused
 * (RFC 9700 4.14.2), which gets the same successor.
 */
final class RefreshTokenStore {


  private static final String INSERT = """
      INSERT INTO refresh_tokens (token_hash, family_id, user_id, app_id, scope, expires_at, access_jti, access_expires_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""";
  private static final String SELECT_FOR_UPDATE = """
      SELECT family_id, user_id, app_id, scope, expires_at, rotated_at, revoked_at, successor_hash, successor_enc,
             extract(epoch FROM now() - rotated_at) AS seconds_since_rotation
      FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE""";
  private static final String SELECT_SUCCESSOR = """
      SELECT rotated_at, revoked_at, expires_at, access_jti, access_expires_at
      FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE""";
  private static final String SELECT = """
      SELECT family_id, user_id, app_id, scope, created_at, expires_at, rotated_at, revoked_at
      FROM refresh_tokens WHERE token_hash = $1""";
  private static final String MARK_ROTATED =
      "UPDATE refresh_tokens SET rotated_at = now(), successor_hash = $2, successor_enc = $3 WHERE token_hash = $1";
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

    /**
     * The same client retried a just-rotated token within the reuse interval while its successor
     * is unused: it gets that successor again, with the access token issued alongside it.
     */
    record Retried(Grant grant, String successor, String accessJti, Instant accessExpiresAt) implements Rotation {}

    /** A rotated token came back: the family is revoked, these access tokens must be too. */
    record Reused(Grant grant, List<AccessJti> accessTokens) implements Rotation {}
  }

  private static final byte[] SUCCESSOR_KEY_LABEL = "scangate/refresh-successor/v1".getBytes(StandardCharsets.UTF_8);

  private final Pool pool;
  private final Duration reuseInterval;

  /** @param reuseInterval how long a rotated token may be retried for its successor (zero: never) */
  RefreshTokenStore(Pool pool, Duration reuseInterval) {
    this.pool = pool;
    this.reuseInterval = reuseInterval;
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
            return retry(conn, presented, grant, row).compose(retried -> retried != null
                ? Future.succeededFuture((Rotation) retried)
                : revokeFamily(conn, grant.familyId()).map(jtis -> (Rotation) new Rotation.Reused(grant, jtis)));
          }
          if (!row.getOffsetDateTime("expires_at").toInstant().isAfter(Instant.now())) {
            return refused("refresh token has expired");
          }
          NewRefresh successor = next.apply(grant);
          byte[] sealed;
          try {
            sealed = successorKey(presented).encrypt(successor.token().getBytes(StandardCharsets.US_ASCII), presentedHash);
          } catch (GeneralSecurityException e) {
            return Future.failedFuture(new IllegalStateException("sealing the successor refresh token failed", e));
          }
          return conn.preparedQuery(MARK_ROTATED)
              .execute(Tuple.of(presentedHash, hash(successor.token()), Buffer.buffer(sealed)))
              .compose(r -> insert(conn, successor))
              .map(v -> (Rotation) new Rotation.Rotated(grant));
        }));
  }

  /** The retry answer for a rotated token, or null when it is a reuse (too late, successor used). */
  private Future<Rotation.Retried> retry(SqlClient conn, String presented, Grant grant, Row row) {
    Object since = row.getValue("seconds_since_rotation");
    String successorHash = row.getString("successor_hash");
    io.vertx.core.buffer.Buffer sealed = row.getBuffer("successor_enc");
    if (reuseInterval.isZero() || successorHash == null || sealed == null || !(since instanceof Number n)
        || n.doubleValue() * 1000 >= reuseInterval.toMillis()) {
      return Future.succeededFuture();
    }
    return conn.preparedQuery(SELECT_SUCCESSOR).execute(Tuple.of(successorHash)).map(rows -> {
      if (rows.size() == 0) return null;
      Row s = rows.iterator().next();
      if (s.getOffsetDateTime("rotated_at") != null || s.getOffsetDateTime("revoked_at") != null
          || s.getString("access_jti") == null) {
        return null;
      }
      String successor;
      try {
        successor = new String(successorKey(presented).decrypt(sealed.getBytes(), hash(presented)), StandardCharsets.US_ASCII);
      } catch (GeneralSecurityException e) {
        return null;
      }
      if (!hash(successor).equals(successorHash)) return null;
      return new Rotation.Retried(grant, successor, s.getString("access_jti"),
          s.getOffsetDateTime("access_expires_at").toInstant());
    });
  }

  /** A key only the holder of the presented token can derive: HMAC-SHA256 keyed with the token. */
  private static KeyEncryption successorKey(String presented) throws GeneralSecurityException {
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(presented.getBytes(StandardCharsets.US_ASCII), "HmacSHA256"));
    return KeyEncryption.of(mac.doFinal(SUCCESSOR_KEY_LABEL));
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

  private static final String REVOKE_USER =
      "UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL";

  /** Revokes every refresh token of a user, of every application; answers how many. */
  static Future<Integer> revokeAllOf(Pool pool, UUID userId) {
    return pool.preparedQuery(REVOKE_USER).execute(Tuple.of(userId)).map(rows -> rows.rowCount());
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
