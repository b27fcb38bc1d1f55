package io.scangate.token;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPublicKeySpec;
import java.util.Arrays;
import java.util.Base64;

/**
 * The JWS compact format with exactly one algorithm, ES256 (ECDSA P-256 with SHA-256), on
 * java.security. A verifier that knows only one algorithm and only EC keys cannot be talked into
 * {@code alg: none} or into an HMAC keyed with a public key.
 */
final class Jwt {

  static final String ALG = "ES256";
  static final String CURVE = "P-256";
  private static final String SIGNATURE = "SHA256withECDSAinP1363Format";
  private static final int SIGNATURE_BYTES = 64;
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder B64D = Base64.getUrlDecoder();

  private Jwt() {}

  /** A token split into its parts; nothing about it is trusted yet. */
  record Parsed(JsonObject header, JsonObject claims, byte[] signingInput, byte[] signature) {}

  static String sign(JsonObject header, JsonObject claims, PrivateKey key) {
    String input = B64.encodeToString(header.encode().getBytes(StandardCharsets.UTF_8)) + "."
        + B64.encodeToString(claims.encode().getBytes(StandardCharsets.UTF_8));
    try {
      Signature signer = Signature.getInstance(SIGNATURE);
      signer.initSign(key);
      signer.update(input.getBytes(StandardCharsets.US_ASCII));
      return input + "." + B64.encodeToString(signer.sign());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("ES256 signing failed", e);
    }
  }

  static Parsed parse(String token) throws InvalidTokenException {
    int first = token.indexOf('.');
    int second = first < 0 ? -1 : token.indexOf('.', first + 1);
    if (first <= 0 || second <= first + 1 || token.indexOf('.', second + 1) >= 0) {
      throw new InvalidTokenException("token is malformed: not a JWT of three dot-separated parts");
    }
    try {
      JsonObject header = new JsonObject(Buffer.buffer(B64D.decode(token.substring(0, first))));
      JsonObject claims = new JsonObject(Buffer.buffer(B64D.decode(token.substring(first + 1, second))));
      byte[] signature = B64D.decode(token.substring(second + 1));
      return new Parsed(header, claims, token.substring(0, second).getBytes(StandardCharsets.US_ASCII), signature);
    } catch (RuntimeException e) {
      throw new InvalidTokenException("token is malformed: its parts are not base64url-encoded JSON objects");
    }
  }

  static boolean verify(Parsed parsed, PublicKey key) {
    if (parsed.signature().length != SIGNATURE_BYTES) return false;
    try {
      Signature verifier = Signature.getInstance(SIGNATURE);
      verifier.initVerify(key);
      verifier.update(parsed.signingInput());
      return verifier.verify(parsed.signature());
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  /** The public JWK (RFC 7517) of a P-256 key, without kid/use/alg. */
  static JsonObject publicJwk(ECPublicKey key) {
    return new JsonObject().put("kty", "EC").put("crv", CURVE)
        .put("x", B64.encodeToString(unsigned(key.getW().getAffineX())))
        .put("y", B64.encodeToString(unsigned(key.getW().getAffineY())));
  }

  static ECPublicKey publicKey(JsonObject jwk) throws GeneralSecurityException {
    if (!"EC".equals(jwk.getString("kty")) || !CURVE.equals(jwk.getString("crv"))) {
      throw new GeneralSecurityException("not a P-256 JWK");
    }
    ECPoint point = new ECPoint(new BigInteger(1, B64D.decode(jwk.getString("x"))),
        new BigInteger(1, B64D.decode(jwk.getString("y"))));
    return (ECPublicKey) KeyFactory.getInstance("EC").generatePublic(new ECPublicKeySpec(point, p256()));
  }

  /** RFC 7638 JWK thumbprint: a key id that is a fingerprint of the key itself. */
  static String thumbprint(JsonObject jwk) {
    String canonical = "{\"crv\":\"" + jwk.getString("crv") + "\",\"kty\":\"EC\",\"x\":\"" + jwk.getString("x")
        + "\",\"y\":\"" + jwk.getString("y") + "\"}";
    return io.scangate.util.Hashes.sha256UrlSafe(canonical);
  }

  static ECParameterSpec p256() throws GeneralSecurityException {
    AlgorithmParameters parameters = AlgorithmParameters.getInstance("EC");
    parameters.init(new ECGenParameterSpec("secp256r1"));
    return parameters.getParameterSpec(ECParameterSpec.class);
  }

  private static byte[] unsigned(BigInteger value) {
    byte[] bytes = value.toByteArray();
    if (bytes.length == 32) return bytes;
    if (bytes.length > 32) return Arrays.copyOfRange(bytes, bytes.length - 32, bytes.length);
    byte[] padded = new byte[32];
    System.arraycopy(bytes, 0, padded, 32 - bytes.length, bytes.length);
    return padded;
  }
}
