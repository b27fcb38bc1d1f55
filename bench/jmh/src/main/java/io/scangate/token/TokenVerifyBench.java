package io.scangate.token;

import com.github.benmanes.caffeine.cache.Cache;
import io.scangate.config.ConfigLoader;
import io.scangate.config.ScanGateConfig;
import io.scangate.redis.RedisClients;
import io.scangate.redis.RedisKeys;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * What {@code /auth/verify} pays per request to check an access token, from memory: the real
 * {@link TokenVerifier} over an in-memory {@link KeyRing} and an empty {@link Revocations} view
 * (its Redis client is created but never connects). The configuration is conf/dev.yaml.
 *
 * <p>Per signing algorithm ({@code algorithm} parameter: RS256, ES256, EdDSA, on Nimbus).
 * {@code firstSeen}: a token this instance has not verified before: parse, signature check,
 * claim checks, then into the bounded cache (the synchronous form, so the worker hop taken for
 * ES256/EdDSA is not in the number). The cache is emptied before each
 * call (outside the timing). {@code repeated}: the same token again: a cache hit plus the expiry,
 * audience and revocation checks done every time.
 *
 * <p>The KeyRing is normally loaded from PostgreSQL; here its snapshot is set by reflection from a
 * key generated in memory (see {@link #inMemoryKeyRing}). If KeyRing's internals change, setup
 * fails loudly rather than measuring something else.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class TokenVerifyBench {

  static final String AUDIENCE = "demo";

  @Param({"RS256", "ES256", "EdDSA"})
  public String algorithm;

  Vertx vertx;
  SigningKey key;
  TokenVerifier verifier;
  Cache<?, ?> verifiedCache;
  String token;
  JsonObject claims;

  @Setup
  public void setUp() throws Exception {
    ScanGateConfig config = devConfig();
    key = generateKey(ScanGateConfig.SigningAlgorithm.of(algorithm).orElseThrow());
    vertx = Vertx.vertx();
    Revocations revocations = new Revocations(vertx, RedisClients.create(vertx, config.redis()), config.redis(),
        new RedisKeys(config.redis().keyPrefix()));
    verifier = new TokenVerifier(vertx, config, inMemoryKeyRing(key), revocations);
    Field cache = TokenVerifier.class.getDeclaredField("verified");
    cache.setAccessible(true);
    verifiedCache = (Cache<?, ?>) cache.get(verifier);

    // An access token shaped as TokenService issues it.
    long iat = Instant.now().getEpochSecond();
    claims = new JsonObject()
        .put("iss", config.tokens().issuer()).put("sub", UUID.randomUUID().toString()).put("aud", AUDIENCE)
        .put("iat", iat).put("exp", iat + Duration.ofDays(1).toSeconds()).put("jti", UUID.randomUUID().toString())
        .put("client_id", AUDIENCE).put("scope", TokenManager.DEFAULT_SCOPE).put("token_use", "access");
    token = TokenManager.sign(key, TokenVerifier.ACCESS_TYP, claims);

    VerifiedToken checked = verifier.verifyAccessNow(token, AUDIENCE);
    if (checked == null || !AUDIENCE.equals(checked.audience())) {
      throw new IllegalStateException("the benchmark token does not verify");
    }
  }

  @TearDown
  public void tearDown() {
    vertx.close().toCompletionStage().toCompletableFuture().join();
  }

  /** The verified-token cache, emptied before each firstSeen call (not timed). */
  @State(Scope.Thread)
  public static class EmptyCache {
    @Setup(Level.Invocation)
    public void empty(TokenVerifyBench bench) {
      bench.verifiedCache.invalidateAll();
    }
  }

  /** A token this instance has not seen: full signature verification, then cached. */
  @Benchmark
  public VerifiedToken firstSeen(EmptyCache empty) throws InvalidTokenException {
    return verifier.verifyAccessNow(token, AUDIENCE);
  }

  /** The same token again: answered from the cache plus expiry/audience/revocation checks. */
  @Benchmark
  public VerifiedToken repeated() {
    return verifier.verifyAccess(token, AUDIENCE).result();
  }

  /** Nimbus parse + verify alone (no claim checks, no cache): the floor under firstSeen. */
  @Benchmark
  public boolean jwtParseAndVerifyOnly() throws Exception {
    return com.nimbusds.jose.JWSObject.parse(token).verify(key.verifier());
  }

  /** Signing one token; a login issues two (access + id). */
  @Benchmark
  public String jwtSign() {
    return TokenManager.sign(key, TokenVerifier.ACCESS_TYP, claims);
  }

  // ---- setup helpers ----

  /** conf/dev.yaml as packed in scangate.jar, parsed as start-dev would (the servers are never contacted). */
  static ScanGateConfig devConfig() throws Exception {
    String yaml;
    try (InputStream in = TokenVerifyBench.class.getResourceAsStream("/conf/dev.yaml")) {
      if (in == null) throw new IOException("conf/dev.yaml is not on the class path (is target/scangate.jar built?)");
      yaml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    return ConfigLoader.parse(yaml, null, Map.of(), ConfigLoader.Profile.dev(null, 8080, () -> 8080))
        .withServers("redis://127.0.0.1:6379", "postgresql://postgres@127.0.0.1:5432/unused");
  }

  static SigningKey generateKey(ScanGateConfig.SigningAlgorithm algorithm) throws Exception {
    com.nimbusds.jose.jwk.JWK pair = SigningKeyStore.generate(algorithm);
    String kid = pair.computeThumbprint().toString();
    return SigningKey.verifying(kid, algorithm, Instant.now(), pair.toPublicJWK()).withPrivateKey(pair);
  }

  /** A KeyRing whose snapshot holds {@code key} (signer and only verifying key), as reload() would build it. */
  static KeyRing inMemoryKeyRing(SigningKey key) throws Exception {
    KeyRing ring = new KeyRing(null, Duration.ofHours(1));
    Class<?> snapshotType = Class.forName(KeyRing.class.getName() + "$Snapshot");
    Constructor<?> make = snapshotType.getDeclaredConstructor(Map.class, Map.class, JsonObject.class);
    make.setAccessible(true);
    Object snapshot = make.newInstance(Map.of(key.algorithm(), key), Map.of(key.kid(), key),
        new JsonObject().put("keys", new JsonArray().add(key.jwk())));
    Field field = KeyRing.class.getDeclaredField("snapshot");
    field.setAccessible(true);
    field.set(ring, snapshot);
    return ring;
  }
}
