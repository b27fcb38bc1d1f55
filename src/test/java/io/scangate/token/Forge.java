package io.scangate.token;

import io.scangate.ScanGate;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.KeyPairGenerator;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.ECGenParameterSpec;
import java.util.Base64;
import java.util.List;

import static io.scangate.testing.Await.await;

/** Makes tokens an attacker (or a test of expiry, issuer, audience) would present. */
final class Forge {

  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

  private Forge() {}

  /** The gateway's real current signing key, read from PostgreSQL and unsealed as an instance would. */
  static SigningKey realKey(Vertx vertx, ScanGate gateway) {
    SigningKeyStore store = new SigningKeyStore(vertx, gateway.infrastructure().postgres(),
        gateway.infrastructure().config().tokens().keyEncryptionKey());
    List<SigningKeyStore.StoredKey> keys = await(store.loadAll());
    return await(store.unseal(keys.get(keys.size() - 1)));
  }

  static ECPrivateKey otherKey() throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"));
    return (ECPrivateKey) generator.generateKeyPair().getPrivate();
  }

  static String es256(JsonObject header, JsonObject claims, java.security.PrivateKey key) {
    return Jwt.sign(header, claims, key);
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

  static JsonObject accessHeader(String kid) {
    return new JsonObject().put("alg", "ES256").put("typ", "at+jwt").put("kid", kid);
  }
}
