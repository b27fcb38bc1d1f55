package io.scangate.token;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.Ed25519Signer;
import com.nimbusds.jose.crypto.Ed25519Verifier;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.jwk.RSAKey;
import io.scangate.config.ScanGateConfig.SigningAlgorithm;
import io.vertx.core.json.JsonObject;

import java.time.Instant;

/**
 * One signing key of one algorithm, as Nimbus JWKs. The algorithm is fixed when the key is made
 * and is the only one it verifies: the key type decides the verifier, so an RSA key can never be
 * used as an HMAC secret and an EC key never verifies an RS256 signature. {@code signer} is null
 * for keys that only verify.
 */
record SigningKey(String kid, SigningAlgorithm algorithm, Instant createdAt, JWK publicJwk, JWSVerifier verifier,
                  JWSSigner signer) {

  static SigningKey verifying(String kid, SigningAlgorithm algorithm, Instant createdAt, JWK publicJwk)
      throws JOSEException {
    JWK published = withMetadata(publicJwk.toPublicJWK(), kid, algorithm);
    return new SigningKey(kid, algorithm, createdAt, published, verifierFor(published, algorithm), null);
  }

  SigningKey withPrivateKey(JWK privateJwk) throws JOSEException {
    if (!privateJwk.isPrivate() || !privateJwk.toPublicJWK().computeThumbprint().equals(publicJwk.computeThumbprint())) {
      throw new JOSEException("the private key does not match public key " + kid);
    }
    return new SigningKey(kid, algorithm, createdAt, publicJwk, verifier, signerFor(privateJwk, algorithm));
  }

  JWSAlgorithm jwsAlgorithm() {
    return JWSAlgorithm.parse(algorithm.jose);
  }

  /** The JWK as published in the JWK set (kid, use, alg set). */
  JsonObject jwk() {
    return new JsonObject(publicJwk.toJSONObject());
  }

  private static JWK withMetadata(JWK jwk, String kid, SigningAlgorithm algorithm) {
    JWSAlgorithm alg = JWSAlgorithm.parse(algorithm.jose);
    if (jwk instanceof RSAKey k) return new RSAKey.Builder(k).keyID(kid).algorithm(alg).keyUse(com.nimbusds.jose.jwk.KeyUse.SIGNATURE).build();
    if (jwk instanceof ECKey k) return new ECKey.Builder(k).keyID(kid).algorithm(alg).keyUse(com.nimbusds.jose.jwk.KeyUse.SIGNATURE).build();
    if (jwk instanceof OctetKeyPair k) return new OctetKeyPair.Builder(k).keyID(kid).algorithm(alg).keyUse(com.nimbusds.jose.jwk.KeyUse.SIGNATURE).build();
    throw new IllegalArgumentException("unsupported key type " + jwk.getKeyType());
  }

  private static JWSVerifier verifierFor(JWK jwk, SigningAlgorithm algorithm) throws JOSEException {
    return switch (algorithm) {
      case RS256 -> new RSASSAVerifier(jwk.toRSAKey());
      case ES256 -> new ECDSAVerifier(jwk.toECKey());
      case EDDSA -> new Ed25519Verifier(jwk.toOctetKeyPair());
    };
  }

  private static JWSSigner signerFor(JWK jwk, SigningAlgorithm algorithm) throws JOSEException {
    return switch (algorithm) {
      case RS256 -> new RSASSASigner(jwk.toRSAKey());
      case ES256 -> new ECDSASigner(jwk.toECKey());
      case EDDSA -> new Ed25519Signer(jwk.toOctetKeyPair());
    };
  }
}
