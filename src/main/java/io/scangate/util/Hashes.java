package io.scangate.util;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;

/** SHA-256 of secrets we keep only hashed (scan tokens, refresh tokens) and of canonical JSON. */
public final class Hashes {

  private Hashes() {}

  public static byte[] sha256(String text) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }

  /** SHA-256 as base64url without padding (43 characters). */
  public static String sha256UrlSafe(String text) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(sha256(text));
  }

  /** SHA-256 as lowercase hex (64 characters). */
  public static String sha256Hex(String text) {
    return HexFormat.of().formatHex(sha256(text));
  }
}
