package io.scangate.token;

import io.vertx.core.json.JsonObject;

import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.time.Instant;

/** One ES256 key pair; {@code privateKey} is null for keys that only verify. */
record SigningKey(String kid, Instant createdAt, ECPublicKey publicKey, JsonObject publicJwk, ECPrivateKey privateKey) {

  /** The JWK as published in the JWK set. */
  JsonObject jwk() {
    return publicJwk.copy().put("kid", kid).put("use", "sig").put("alg", Jwt.ALG);
  }

  SigningKey withPrivateKey(ECPrivateKey key) {
    return new SigningKey(kid, createdAt, publicKey, publicJwk, key);
  }
}
