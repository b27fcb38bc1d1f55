package io.scangate.token;

import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.Ed25519Signer;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWK;
import io.scangate.ScanGate;
import io.scangate.config.ScanGateConfig.SigningAlgorithm;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;

import static io.scangate.testing.Await.await;

/** Makes tokens an attacker (or a test of expiry, issuer, audience) would present. */
final class Forge {

  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

  private Forge() {}

  /** The gateway's real current signing key of an algorithm, read from PostgreSQL and unsealed as an instance would. */
  static SigningKey realKey(Vertx vertx, ScanGate gateway, SigningAlgorithm algorithm) {
    SigningKeyStore store = new SigningKeyStore(vertx, gateway.infrastructure().postgres(),
        gateway.infrastructure().config().tokens().keyEncryptionKey());
    List<SigningKeyStore.StoredKey> keys = await(store.loadAll()).stream()
        .filter(k -> k.key().algorithm() == algorithm).toList();
    return await(store.unseal(keys.get(keys.size() - 1)));
  }

  /** A signer of the same algorithm with a key the gateway never saw. */
  static JWSSigner otherSigner(SigningAlgorithm algorithm) throws Exception {
    return signer(SigningKeyStore.generate(algorithm), algorithm);
  }

  static JWSSigner signer(JWK key, SigningAlgorithm algorithm) throws Exception {
    return switch (algorithm) {
      case RS256 -> new RSASSASigner(key.toRSAKey());
      case ES256 -> new ECDSASigner(key.toECKey());
      case EDDSA -> new Ed25519Signer(key.toOctetKeyPair());
    };
  }

  /** Signs exactly this header (any alg the signer supports, any kid or none) and these claims. */
  static String sign(JsonObject header, JsonObject claims, JWSSigner signer) throws Exception {
    JWSObject jws = new JWSObject(JWSHeader.parse(header.getMap()), new Payload(claims.encode()));
    jws.sign(signer);
    return jws.serialize();
  }

  static String hs256(JsonObject header, JsonObject claims, byte[] secret) throws Exception {
    String input = part(header) + "." + part(claims);
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(secret, "HmacSHA256"));
    return input + "." + B64.encodeToString(mac.doFinal(input.getBytes(StandardCharsets.US_ASCII)));
  }

  static String unsigned(JsonObject header, JsonObject claims) {
    return part(header) + "." + part(claims) + ".";
  }

  static String part(JsonObject json) {
    return B64.encodeToString(json.encode().getBytes(StandardCharsets.UTF_8));
  }

  static JsonObject decodePart(String token, int index) {
    return new JsonObject(new String(Base64.getUrlDecoder().decode(token.split("\\.")[index]), StandardCharsets.UTF_8));
  }

  static JsonObject accessHeader(SigningAlgorithm algorithm, String kid) {
    JsonObject header = new JsonObject().put("alg", algorithm.jose).put("typ", "at+jwt");
    return kid == null ? header : header.put("kid", kid);
  }
}
