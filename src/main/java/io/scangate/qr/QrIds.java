package io.scangate.qr;

import io.scangate.util.Hashes;
import io.scangate.util.Randoms;

/** Unguessable identifiers: session ids, scenes, scan tokens, tickets. */
public final class QrIds {

  private QrIds() {}

  public static String sessionId() {
    return Randoms.urlSafe(32);
  }

  /** 128 bits in 22 characters: fits WeChat's 32-character scene for mini program codes. */
  public static String scene() {
    return Randoms.urlSafe(16);
  }

  public static String ticket() {
    return Randoms.urlSafe(32);
  }

  public static String scanToken() {
    return Randoms.urlSafe(32);
  }

  /** Only a hash of the scan token is kept, so reading Redis does not let anyone confirm. */
  public static String hash(String token) {
    return Hashes.sha256UrlSafe(token);
  }

  public static boolean looksLikeId(String s) {
    return s != null && s.length() >= 16 && s.length() <= 64 && s.matches("[A-Za-z0-9_-]+");
  }
}
