package io.scangate.util;

import java.time.Instant;
import java.time.temporal.ChronoUnit;

/** Times as the contract writes them: ISO-8601 UTC to the second, e.g. {@code 2026-11-21T15:04:05Z}. */
public final class Times {

  private Times() {}

  public static String iso(Instant instant) {
    return instant.truncatedTo(ChronoUnit.SECONDS).toString();
  }

  public static String iso(long epochMillis) {
    return iso(Instant.ofEpochMilli(epochMillis));
  }
}
