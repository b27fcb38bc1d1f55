package io.scangate.token;

import io.scangate.config.ScanGateConfig.SigningAlgorithm;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * This instance's in-memory view of the signing keys: the newest key of each algorithm signs; every key that may
 * still have unexpired tokens verifies and is published. Verification never touches PostgreSQL;
 * the view reloads periodically, and on an unknown kid at most once every few seconds.
 */
public final class KeyRing {

  static final long REFRESH_INTERVAL_MS = 30_000;
  private static final long UNKNOWN_KID_RELOAD_INTERVAL_NANOS = Duration.ofSeconds(5).toNanos();

  private record Snapshot(Map<SigningAlgorithm, SigningKey> signers, Map<String, SigningKey> verifying, JsonObject jwks) {}

  private final SigningKeyStore store;
  private final Duration retention;
  private volatile Snapshot snapshot;
  private long lastReloadNanos;
  private Future<Void> reloading;

  /**
   * @param retention how long a key that is no longer the newest stays published: the longest
   *                  token lifetime plus margins for instances that have not reloaded yet
   */
  KeyRing(SigningKeyStore store, Duration retention) {
    this.store = store;
    this.retention = retention;
  }

  /** Reads the keys from PostgreSQL and unseals the newest private key of each algorithm if it changed. */
  Future<Void> reload() {
    synchronized (this) {
      lastReloadNanos = System.nanoTime();
    }
    return store.loadAll().compose(keys -> {
      if (keys.isEmpty()) return Future.failedFuture(new IllegalStateException("no signing key in PostgreSQL"));
      Map<SigningAlgorithm, SigningKeyStore.StoredKey> newest = new EnumMap<>(SigningAlgorithm.class);
      for (SigningKeyStore.StoredKey k : keys) newest.put(k.key().algorithm(), k);
      Snapshot current = snapshot;
      Map<SigningAlgorithm, SigningKey> signers = new EnumMap<>(SigningAlgorithm.class);
      List<Future<SigningKey>> unsealing = new ArrayList<>();
      newest.forEach((algorithm, stored) -> {
        SigningKey known = current == null ? null : current.signers().get(algorithm);
        unsealing.add(known != null && known.kid().equals(stored.key().kid())
            ? Future.succeededFuture(known) : store.unseal(stored));
      });
      return Future.all(unsealing).map(all -> {
        for (Future<SigningKey> f : unsealing) signers.put(f.result().algorithm(), f.result());
        snapshot = build(signers, keys, Instant.now());
        return null;
      });
    });
  }

  /** After an unknown kid: reloads unless a reload happened in the last few seconds. */
  Future<Void> reloadForUnknownKid() {
    synchronized (this) {
      if (reloading != null) return reloading;
      if (System.nanoTime() - lastReloadNanos < UNKNOWN_KID_RELOAD_INTERVAL_NANOS) return Future.succeededFuture();
      Future<Void> started = reload();
      reloading = started;
      started.onComplete(done -> {
        synchronized (this) {
          reloading = null;
        }
      });
      return started;
    }
  }

  private Snapshot build(Map<SigningAlgorithm, SigningKey> signers, List<SigningKeyStore.StoredKey> keys, Instant now) {
    Map<String, SigningKey> verifying = new LinkedHashMap<>();
    JsonArray jwks = new JsonArray();
    // Newest first in the JWK set; a key stays while tokens it signed may be unexpired, that is
    // until the retention after a newer key of its algorithm superseded it.
    Map<SigningAlgorithm, Instant> supersededAt = new EnumMap<>(SigningAlgorithm.class);
    for (int i = keys.size() - 1; i >= 0; i--) {
      SigningKey key = keys.get(i).key();
      Instant superseded = supersededAt.put(key.algorithm(), key.createdAt());
      if (superseded != null && superseded.plus(retention).isBefore(now)) continue;
      verifying.put(key.kid(), key);
      jwks.add(key.jwk());
    }
    return new Snapshot(Map.copyOf(signers), Map.copyOf(verifying), new JsonObject().put("keys", jwks));
  }

  /** The current signing key of an algorithm (every configured algorithm has one after start). */
  SigningKey signer(SigningAlgorithm algorithm) {
    SigningKey key = snapshot().signers().get(algorithm);
    if (key == null) throw new IllegalStateException("no " + algorithm.jose + " signing key loaded");
    return key;
  }

  /** The algorithms with a published key, for discovery. */
  Set<SigningAlgorithm> algorithms() {
    Set<SigningAlgorithm> algorithms = EnumSet.noneOf(SigningAlgorithm.class);
    snapshot().verifying().values().forEach(k -> algorithms.add(k.algorithm()));
    return algorithms;
  }

  /** The published key with this kid, or null. */
  SigningKey verifyingKey(String kid) {
    return snapshot().verifying().get(kid);
  }

  /** {@code {"keys": [...]}}, newest first. */
  public JsonObject jwks() {
    return snapshot().jwks();
  }

  private Snapshot snapshot() {
    Snapshot s = snapshot;
    if (s == null) throw new IllegalStateException("signing keys not loaded yet");
    return s;
  }
}
