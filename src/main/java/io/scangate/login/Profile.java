package io.scangate.login;

import io.scangate.error.ApiException;

import java.net.URI;

/**
 * The one profile validation, for every door that takes a nickname or avatar from a client (a QR
 * confirm, {@code PATCH /api/v1/users/me}): what passes is safe to store in PostgreSQL and to
 * show in tokens and pages. Either field may be null (not given).
 */
public record Profile(String nickname, String avatarUrl) {

  public static final Profile NONE = new Profile(null, null);
  static final int MAX_NICKNAME = 64;
  static final int MAX_AVATAR_URL = 2048;

  /** Checks both values (strings, or null when not given); 400 {@code invalid_profile} naming the problem. */
  public static Profile of(Object nickname, Object avatarUrl) {
    return new Profile(nickname(nickname), avatarUrl(avatarUrl));
  }

  private static String nickname(Object value) {
    if (value == null) return null;
    if (!(value instanceof String s) || s.isBlank() || s.length() > MAX_NICKNAME || !printable(s)) {
      throw new ApiException(400, "invalid_profile", "nickname must be a non-empty string of at most " + MAX_NICKNAME
          + " characters without control characters");
    }
    return s.strip();
  }

  private static String avatarUrl(Object value) {
    if (value == null) return null;
    if (value instanceof String s && s.length() <= MAX_AVATAR_URL && printable(s) && s.indexOf(' ') < 0) {
      try {
        URI uri = URI.create(s);
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(java.util.Locale.ROOT);
        // http://tmp/... and wxfile://... are the mini program's temporary local paths: they mean nothing to anyone else.
        if ((scheme.equals("https") || scheme.equals("http")) && uri.getHost() != null && !uri.getHost().equalsIgnoreCase("tmp")) {
          return s;
        }
      } catch (IllegalArgumentException ignored) {
        // answered below
      }
    }
    throw new ApiException(400, "invalid_profile", "avatarUrl must be an http(s) URL of at most " + MAX_AVATAR_URL
        + " characters (not a temporary client path)");
  }

  /**
   * {@code s} without the characters {@link #printable} refuses (null stays null): for text that
   * is only shown, never an identifier, such as a browser's User-Agent.
   */
  public static String printableOnly(String s) {
    if (s == null || printable(s)) return s;
    StringBuilder out = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (printable(String.valueOf(c))) out.append(c);
    }
    return out.toString();
  }

  /** No control characters (C0, DEL, C1) and no invisible direction or format controls (U+200B-U+200F, U+202A-U+202E, U+2066-U+2069). */
  static boolean printable(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isISOControl(c) || (c >= '\u200B' && c <= '\u200F') || (c >= '\u202A' && c <= '\u202E')
          || (c >= '\u2066' && c <= '\u2069') || c == '\uFEFF') {
        return false;
      }
    }
    return true;
  }
}
