package io.scangate.qr;

import io.vertx.core.json.JsonObject;

import java.util.Map;

/**
 * A QR login session as kept in a Redis hash. {@link #toJson()} is the browser's view
 * (CONTRACT section 3): no tokens, no profile beyond {@code scannedBy}, the ticket only when
 * CONFIRMED. The scanner's openid and the scan token hash stay inside.
 */
public record QrSession(
    String sessionId,
    Status status,
    String appId,
    String connection,
    String scene,
    String qrContent,
    long createdAt,
    long expiresAt,
    String ip,
    String userAgent,
    String openid,
    String unionid,
    String nickname,
    String avatarUrl,
    String scanTokenHash,
    String ticket,
    String error,
    String userId,
    long version) {

  public enum Status {
    PENDING, SCANNED, CONFIRMED, CANCELED, EXPIRED, FAILED;

    public boolean terminal() {
      return this != PENDING && this != SCANNED;
    }
  }

  public static QrSession fromHash(Map<String, String> h) {
    return new QrSession(
        h.get("sessionId"),
        Status.valueOf(h.get("status")),
        h.get("appId"),
        h.get("connection"),
        h.get("scene"),
        h.get("qrContent"),
        parseLong(h.get("createdAt")),
        parseLong(h.get("expiresAt")),
        h.get("ip"),
        h.get("userAgent"),
        blankToNull(h.get("openid")),
        blankToNull(h.get("unionid")),
        blankToNull(h.get("nickname")),
        blankToNull(h.get("avatarUrl")),
        blankToNull(h.get("scanTokenHash")),
        blankToNull(h.get("ticket")),
        blankToNull(h.get("error")),
        blankToNull(h.get("userId")),
        parseLong(h.get("version")));
  }

  /** A session from its stored fields (a Redis hash as JSON, as the event bus and pub/sub carry it). */
  public static QrSession fromStored(JsonObject stored) {
    return fromHash(QrSessionStore.jsonToMap(stored));
  }

  /** Every field, as stored in Redis: what crosses the event bus. Absent values are empty strings. */
  public JsonObject toStored() {
    return new JsonObject()
        .put("sessionId", sessionId).put("status", status.name()).put("appId", appId).put("connection", connection)
        .put("scene", scene).put("qrContent", qrContent).put("createdAt", Long.toString(createdAt))
        .put("expiresAt", Long.toString(expiresAt)).put("ip", nz(ip)).put("userAgent", nz(userAgent))
        .put("openid", nz(openid)).put("unionid", nz(unionid)).put("nickname", nz(nickname))
        .put("avatarUrl", nz(avatarUrl)).put("scanTokenHash", nz(scanTokenHash)).put("ticket", nz(ticket))
        .put("error", nz(error)).put("userId", nz(userId)).put("version", Long.toString(version));
  }

  private static String nz(String s) {
    return s == null ? "" : s;
  }

  /** The status as of {@code nowMillis}: a live session past its expiry is EXPIRED even before the sweeper marks it. */
  public Status statusAt(long nowMillis) {
    return !status.terminal() && nowMillis >= expiresAt ? Status.EXPIRED : status;
  }

  public JsonObject toJson() {
    return toJson(System.currentTimeMillis());
  }

  public JsonObject toJson(long nowMillis) {
    Status shown = statusAt(nowMillis);
    JsonObject json = new JsonObject()
        .put("sessionId", sessionId)
        .put("status", shown.name())
        .put("connection", connection)
        .put("scene", scene)
        .put("qrContent", qrContent)
        .put("expiresAt", iso(expiresAt));
    if (nickname != null || avatarUrl != null) {
      JsonObject by = new JsonObject();
      if (nickname != null) by.put("nickname", nickname);
      if (avatarUrl != null) by.put("avatarUrl", avatarUrl);
      json.put("scannedBy", by);
    }
    if (shown == Status.CONFIRMED && ticket != null) json.put("ticket", ticket);
    if (shown == Status.FAILED && error != null) json.put("error", error);
    return json;
  }

  static String iso(long epochMillis) {
    return io.scangate.util.Times.iso(epochMillis);
  }

  private static long parseLong(String s) {
    return s == null || s.isEmpty() ? 0 : Long.parseLong(s);
  }

  private static String blankToNull(String s) {
    return s == null || s.isEmpty() ? null : s;
  }
}
