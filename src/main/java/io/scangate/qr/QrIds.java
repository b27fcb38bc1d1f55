package io.scangate.qr;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;

/** Unguessable identifiers: session ids, scenes, scan tokens, tickets. */
final class QrIds {

  private static final SecureRandom RANDOM = new SecureRandom();

  private QrIds() {}

  /** {@code bytes} random bytes as base64url without padding: 16 bytes → 22 characters of [A-Za-z0-9_-]. */
  static String random(int bytes) {
    byte[] b = new byte[bytes];
    RANDOM.nextBytes(b);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  static String sessionId() {
    return random(32);
  }

  /** 128 bits in 22 characters: fits WeChat's 32-character scene for mini program codes. */
  static String scene() {
    return random(16);
  }

  static String ticket() {
    return random(32);
  }

  static String scanToken() {
    return random(32);
  }

  /** Only a hash of the scan token is kept, so reading Redis does not let anyone confirm. */
  static String hash(String token) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
      return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static boolean looksLikeId(String s) {
    return s != null && s.length() >= 16 && s.length() <= 64 && s.matches("[A-Za-z0-9_-]+");
  }
}
