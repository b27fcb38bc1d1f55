package io.scangate.token;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.OctetKeyPairGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import io.scangate.config.ScanGateConfig.SigningAlgorithm;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.text.ParseException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * The signing keys in PostgreSQL, shared by every instance: one or more per algorithm in use
 * (RS256 always). Creating keys takes a transaction lock, so instances starting together create
 * one key per algorithm, not one each. Private keys are sealed ({@link KeyEncryption}) as their
 * private JWK; rows written before RS256 support hold a PKCS#8 P-256 key instead.
 */
final class SigningKeyStore {

  /** Serialises key creation across instances (pg_advisory_xact_lock key, "scangate keys"). */
  private static final long KEY_LOCK = 0x5343_4b45_5953L;
  /** OIDC Discovery requires RS256; 2048 bits is the floor of RFC 7518 3.3. */
  static final int RSA_BITS = 2048;
  private static final String LOCK = "SELECT pg_advisory_xact_lock($1)";
  private static final String ALGORITHMS = "SELECT DISTINCT alg FROM signing_keys";
  private static final String INSERT =
      "INSERT INTO signing_keys (kid, alg, public_jwk, private_key_enc) VALUES ($1, $2, $3, $4)";
  private static final String SELECT_ALL =
      "SELECT kid, alg, public_jwk, private_key_enc, created_at FROM signing_keys ORDER BY created_at, kid";

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

  /** The algorithms that need a key: RS256 always, plus every configured one. */
  static Set<SigningAlgorithm> required(io.scangate.config.ScanGateConfig config) {
    Set<SigningAlgorithm> algorithms = EnumSet.of(SigningAlgorithm.RS256, config.tokens().signingAlgorithm());
    config.applications().forEach(a -> {
      if (a.signingAlgorithm() != null) algorithms.add(a.signingAlgorithm());
    });
    return algorithms;
  }

  /** Creates a key for each algorithm that has none; true when this call created any. */
  Future<Boolean> ensureKeys(Set<SigningAlgorithm> algorithms) {
    return pool.withTransaction(conn -> lock(conn)
        .compose(v -> conn.query(ALGORITHMS).execute())
        .compose(rows -> {
          Set<SigningAlgorithm> missing = EnumSet.copyOf(algorithms);
          for (Row row : rows) SigningAlgorithm.of(row.getString("alg")).ifPresent(missing::remove);
          Future<Void> chain = Future.succeededFuture();
          for (SigningAlgorithm algorithm : missing) chain = chain.compose(v -> insertNewKey(conn, algorithm).mapEmpty());
          return chain.map(!missing.isEmpty());
        }));
  }

  /**
   * Adds a new key for every algorithm in {@code algorithms} and every one already stored; the new
   * keys become the signing keys. Returns their kids.
   */
  Future<List<String>> rotate(Set<SigningAlgorithm> algorithms) {
    return pool.withTransaction(conn -> lock(conn)
        .compose(v -> conn.query(ALGORITHMS).execute())
        .compose(rows -> {
          Set<SigningAlgorithm> all = EnumSet.copyOf(algorithms);
          for (Row row : rows) SigningAlgorithm.of(row.getString("alg")).ifPresent(all::add);
          List<String> kids = new ArrayList<>();
          Future<Void> chain = Future.succeededFuture();
          for (SigningAlgorithm algorithm : all) chain = chain.compose(v -> insertNewKey(conn, algorithm).map(kid -> {
            kids.add(kid);
            return null;
          }));
          return chain.map(kids);
        }));
  }

  Future<List<StoredKey>> loadAll() {
    return pool.query(SELECT_ALL).execute().compose(rows -> {
      List<StoredKey> keys = new ArrayList<>();
      try {
        for (Row row : rows) keys.add(toStoredKey(row));
      } catch (ParseException | JOSEException | RuntimeException e) {
        return Future.failedFuture(new IllegalStateException("a stored signing key is unreadable: " + e.getMessage()));
      }
      return Future.succeededFuture(keys);
    });
  }

  /** Unseals a private key; fails when tokens.keyEncryptionKey is not the one it was sealed under. */
  Future<SigningKey> unseal(StoredKey stored) {
    return encryption.compose(enc -> vertx.executeBlocking(() -> {
      byte[] plain;
      try {
        plain = enc.decrypt(stored.sealedPrivateKey(), stored.key().kid());
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("tokens.keyEncryptionKey does not decrypt signing key " + stored.key().kid()
            + " stored in PostgreSQL (was the key-encryption key changed?)");
      }
      return stored.key().withPrivateKey(privateJwk(stored.key(), plain));
    }, false));
  }

  private static JWK privateJwk(SigningKey key, byte[] plain) throws Exception {
    if (plain.length > 0 && plain[0] == '{') return JWK.parse(new String(plain, StandardCharsets.UTF_8));
    // A V2 row: PKCS#8 of a P-256 key.
    ECPrivateKey ec = (ECPrivateKey) KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(plain));
    return new ECKey.Builder(key.publicJwk().toECKey()).privateKey(ec).build();
  }

  private static Future<Void> lock(SqlConnection conn) {
    return conn.preparedQuery(LOCK).execute(Tuple.of(KEY_LOCK)).mapEmpty();
  }

  private Future<String> insertNewKey(SqlConnection conn, SigningAlgorithm algorithm) {
    return encryption
        .compose(enc -> vertx.executeBlocking(() -> generate(enc, algorithm), false))
        .compose(row -> conn.preparedQuery(INSERT)
            .execute(Tuple.of(row.kid(), algorithm.jose, row.publicJwk(), Buffer.buffer(row.sealed())))
            .map(row.kid()));
  }

  private record NewKey(String kid, JsonObject publicJwk, byte[] sealed) {}

  /** RSA key generation takes tens of milliseconds: called on a worker. */
  static JWK generate(SigningAlgorithm algorithm) throws JOSEException {
    return switch (algorithm) {
      case RS256 -> new RSAKeyGenerator(RSA_BITS).generate();
      case ES256 -> new ECKeyGenerator(Curve.P_256).generate();
      case EDDSA -> new OctetKeyPairGenerator(Curve.Ed25519).generate();
    };
  }

  private static NewKey generate(KeyEncryption enc, SigningAlgorithm algorithm) throws Exception {
    JWK pair = generate(algorithm);
    String kid = pair.computeThumbprint().toString();
    JsonObject publicJwk = new JsonObject(pair.toPublicJWK().toJSONObject());
    byte[] sealed = enc.encrypt(pair.toJSONString().getBytes(StandardCharsets.UTF_8), kid);
    return new NewKey(kid, publicJwk, sealed);
  }

  private static StoredKey toStoredKey(Row row) throws ParseException, JOSEException {
    Object raw = row.getValue("public_jwk");
    String json = raw instanceof JsonObject o ? o.encode() : String.valueOf(raw);
    String alg = row.getString("alg");
    SigningAlgorithm algorithm = SigningAlgorithm.of(alg)
        .orElseThrow(() -> new IllegalStateException("signing key " + row.getString("kid") + " has unknown alg " + alg));
    SigningKey key = SigningKey.verifying(row.getString("kid"), algorithm,
        row.getOffsetDateTime("created_at").toInstant(), JWK.parse(json));
    return new StoredKey(key, row.getBuffer("private_key_enc").getBytes());
  }
}
