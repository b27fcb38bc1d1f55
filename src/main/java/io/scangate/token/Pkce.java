package io.scangate.token;

import io.scangate.util.Hashes;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.regex.Pattern;

/** RFC 7636 (PKCE) with the S256 method only; "plain" would let a stolen challenge redeem the code. */
final class Pkce {

  /** RFC 7636 4.1 (verifier) and 4.2 (an S256 challenge is 43 base64url characters). */
  static final Pattern VERIFIER = Pattern.compile("[A-Za-z0-9._~-]{43,128}");
  static final Pattern S256_CHALLENGE = Pattern.compile("[A-Za-z0-9_-]{43}");

  private Pkce() {}

  /** Why {@code verifier} does not answer {@code challenge} (null: it does, or neither was used). */
  static String refusal(String challenge, String verifier) {
    if (challenge == null) {
      // RFC 9700 2.1.1: a verifier for a request that had no challenge is refused (PKCE downgrade).
      return verifier == null ? null : "code_verifier was sent but the authorization request had no code_challenge";
    }
    if (verifier == null) return "code_verifier is required: the authorization request had a code_challenge";
    if (!VERIFIER.matcher(verifier).matches()) return "code_verifier must be 43-128 characters of [A-Za-z0-9._~-]";
    byte[] computed = Hashes.sha256UrlSafe(verifier).getBytes(StandardCharsets.US_ASCII);
    if (!MessageDigest.isEqual(computed, challenge.getBytes(StandardCharsets.US_ASCII))) {
      return "code_verifier does not match the code_challenge";
    }
    return null;
  }
}
