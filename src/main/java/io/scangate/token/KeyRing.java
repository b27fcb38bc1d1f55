package io.scangate.token;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * This instance's in-memory view of the signing keys: the newest key signs; every key that may
 * still have unexpired tokens verifies and is published. Verification never touches PostgreSQL;
 * the view reloads periodically, and on an unknown kid at most once every few seconds.
 */
public final class KeyRing {

  static final long REFRESH_INTERVAL_MS = 30_000;
  private static final long UNKNOWN_KID_RELOAD_INTERVAL_NANOS = Duration.ofSeconds(5).toNanos();

  private record Snapshot(SigningKey signer, Map<String, SigningKey> verifying, JsonObject jwks) {}

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

  /** Reads the keys from PostgreSQL and unseals the newest private key if it changed. */
  Future<Void> reload() {
    synchronized (this) {
      lastReloadNanos = System.nanoTime();
    }
    return store.loadAll().compose(keys -> {
      if (keys.isEmpty()) return Future.failedFuture(new IllegalStateException("no signing key in PostgreSQL"));
      SigningKeyStore.StoredKey newest = keys.get(keys.size() - 1);
      Snapshot current = snapshot;
      Future<SigningKey> signer = current != null && current.signer().kid().equals(newest.key().kid())
          ? Future.succeededFuture(current.signer())
          : store.unseal(newest);
      return signer.map(s -> {
        snapshot = build(s, keys, Instant.now());
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

  private Snapshot build(SigningKey signer, List<SigningKeyStore.StoredKey> keys, Instant now) {
    Map<String, SigningKey> verifying = new LinkedHashMap<>();
    JsonArray jwks = new JsonArray();
    // Newest first in the JWK set; a key stays while tokens it signed may be unexpired.
    for (int i = keys.size() - 1; i >= 0; i--) {
      SigningKey key = keys.get(i).key();
      Instant supersededAt = i == keys.size() - 1 ? null : keys.get(i + 1).key().createdAt();
      if (supersededAt != null && supersededAt.plus(retention).isBefore(now)) continue;
      verifying.put(key.kid(), key);
      jwks.add(key.jwk());
    }
    return new Snapshot(signer, Map.copyOf(verifying), new JsonObject().put("keys", jwks));
  }

  SigningKey signer() {
    return snapshot().signer();
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
