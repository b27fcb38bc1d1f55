package io.scangate.util;

import java.security.SecureRandom;
import java.util.Base64;

/** The one source of randomness for ids, secrets, nonces and IVs: a shared {@link SecureRandom}. */
public final class Randoms {

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Base64.Encoder URL_SAFE = Base64.getUrlEncoder().withoutPadding();

  private Randoms() {}

  public static byte[] bytes(int count) {
    byte[] b = new byte[count];
    RANDOM.nextBytes(b);
    return b;
  }

  /** {@code count} random bytes as base64url without padding: 16 bytes → 22 characters of [A-Za-z0-9_-]. */
  public static String urlSafe(int count) {
    return URL_SAFE.encodeToString(bytes(count));
  }

  /** A uniformly random int in [0, bound). */
  public static int nextInt(int bound) {
    return RANDOM.nextInt(bound);
  }

  public static long nextLong() {
    return RANDOM.nextLong();
  }

  /** For APIs that take a {@link SecureRandom} (cipher IVs). */
  public static SecureRandom secureRandom() {
    return RANDOM;
  }
}
