package io.scangate.qr;

import io.scangate.util.Hashes;
import io.scangate.util.Randoms;

/** Unguessable identifiers: session ids, scenes, scan tokens, tickets. */
public final class QrIds {

  private QrIds() {}

  /**
   * Length of the slot tag every id of one session starts with. The session hash, its scene key
   * and its ticket key are named with it as their Redis Cluster hash tag, so that one Lua script
   * can touch them together; each of the three ids can be looked up alone (the ticket by the
   * exchange, the scene by the scanner) and still names the session's slot. Three base64url
   * characters give 262,144 tags, spread over all 16,384 slots. The ids keep their lengths (43,
   * 22, 43 characters) and are random throughout, the tag included: a scene has 132 random bits;
   * the sessionId and the ticket have 240 bits besides the 18 they share with the scene.
   */
  public static final int TAG_LENGTH = 3;

  /** A new slot tag, for one session's ids. */
  public static String newTag() {
    return Randoms.urlSafe(3).substring(0, TAG_LENGTH);
  }

  /** The slot tag an id of this module starts with. */
  public static String tagOf(String id) {
    return id.substring(0, TAG_LENGTH);
  }

  /** The tag, then 240 random bits: 43 characters. */
  public static String sessionId(String tag) {
    return tag + Randoms.urlSafe(30);
  }

  /** The (random) tag, then 114 random bits: 132 bits in 22 characters, within WeChat's 32-character scene. */
  public static String scene(String tag) {
    return tag + Randoms.urlSafe(15).substring(0, 19);
  }

  /** A ticket for this session: its tag, then 240 random bits; 43 characters. */
  public static String ticket(String sessionId) {
    return tagOf(sessionId) + Randoms.urlSafe(30);
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
