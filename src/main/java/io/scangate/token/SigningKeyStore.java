package io.scangate.token;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.List;

/**
 * The signing keys in PostgreSQL, shared by every instance. Creating a key takes a transaction
 * lock, so instances starting together create one key, not one each.
 */
final class SigningKeyStore {

  /** Serialises key creation across instances (pg_advisory_xact_lock key, "scangate keys"). */
  private static final long KEY_LOCK = 0x5343_4b45_5953L;
  private static final String LOCK = "SELECT pg_advisory_xact_lock($1)";
  private static final String COUNT = "SELECT count(*) AS n FROM signing_keys";
  private static final String INSERT =
      "INSERT INTO signing_keys (kid, alg, public_jwk, private_key_enc) VALUES ($1, $2, $3, $4)";
  private static final String SELECT_ALL =
      "SELECT kid, public_jwk, private_key_enc, created_at FROM signing_keys ORDER BY created_at, kid";

  /** A row as stored: the private key still sealed. */
  record StoredKey(SigningKey key, byte[] sealedPrivateKey) {}

  private final Vertx vertx;
  private final Pool pool;
  private final Future<KeyEncryption> encryption;

  SigningKeyStore(Vertx vertx, Pool pool, String keyEncryptionKey) {
    this.vertx = vertx;
    this.pool = pool;
    this.encryption = KeyEncryption.derive(vertx, keyEncryptionKey);
  }

  /** Creates the first key unless one exists; true when this call created it. */
  Future<Boolean> ensureKey() {
    return pool.withTransaction(conn -> lock(conn)
        .compose(v -> conn.query(COUNT).execute())
        .compose(rows -> rows.iterator().next().getLong("n") > 0
            ? Future.succeededFuture(false)
            : insertNewKey(conn).map(true)));
  }

  /** Adds a key that becomes the signing key; returns its kid. */
  Future<String> rotate() {
    return pool.withTransaction(conn -> lock(conn).compose(v -> insertNewKey(conn)));
  }

  Future<List<StoredKey>> loadAll() {
    return pool.query(SELECT_ALL).execute().compose(rows -> {
      List<StoredKey> keys = new ArrayList<>();
      try {
        for (Row row : rows) keys.add(toStoredKey(row));
      } catch (GeneralSecurityException e) {
        return Future.failedFuture(new IllegalStateException("a stored signing key is unreadable: " + e.getMessage()));
      }
      return Future.succeededFuture(keys);
    });
  }

  /** Unseals a private key; fails when tokens.keyEncryptionKey is not the one it was sealed under. */
  Future<SigningKey> unseal(StoredKey stored) {
    return encryption.compose(enc -> vertx.executeBlocking(() -> {
      byte[] pkcs8;
      try {
        pkcs8 = enc.decrypt(stored.sealedPrivateKey(), stored.key().kid());
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("tokens.keyEncryptionKey does not decrypt signing key " + stored.key().kid()
            + " stored in PostgreSQL (was the key-encryption key changed?)");
      }
      ECPrivateKey key = (ECPrivateKey) KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
      return stored.key().withPrivateKey(key);
    }, false));
  }

  private static Future<Void> lock(SqlConnection conn) {
    return conn.preparedQuery(LOCK).execute(Tuple.of(KEY_LOCK)).mapEmpty();
  }

  private Future<String> insertNewKey(SqlConnection conn) {
    return encryption
        .compose(enc -> vertx.executeBlocking(() -> generate(enc), false))
        .compose(row -> conn.preparedQuery(INSERT)
            .execute(Tuple.of(row.kid(), Jwt.ALG, row.publicJwk(), Buffer.buffer(row.sealed())))
            .map(row.kid()));
  }

  private record NewKey(String kid, JsonObject publicJwk, byte[] sealed) {}

  private static NewKey generate(KeyEncryption enc) throws GeneralSecurityException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair pair = generator.generateKeyPair();
    JsonObject jwk = Jwt.publicJwk((ECPublicKey) pair.getPublic());
    String kid = Jwt.thumbprint(jwk);
    return new NewKey(kid, jwk, enc.encrypt(pair.getPrivate().getEncoded(), kid));
  }

  private static StoredKey toStoredKey(Row row) throws GeneralSecurityException {
    Object raw = row.getValue("public_jwk");
    JsonObject jwk = raw instanceof JsonObject o ? o : new JsonObject(String.valueOf(raw));
    SigningKey key = new SigningKey(row.getString("kid"), row.getOffsetDateTime("created_at").toInstant(),
        Jwt.publicKey(jwk), jwk, null);
    return new StoredKey(key, row.getBuffer("private_key_enc").getBytes());
  }
}
