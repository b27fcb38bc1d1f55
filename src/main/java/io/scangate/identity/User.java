package io.scangate.identity;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.List;

/** A user as CONTRACT section 3 shows it. Optional fields are null when unknown. */
public record User(
    String id,
    String nickname,
    String avatarUrl,
    String phone,
    String unionid,
    List<Identity> identities,
    Instant createdAt,
    Instant lastLoginAt) {

  /** One WeChat identity linked to the user. */
  public record Identity(String connection, String openid) {}

  public User {
    identities = List.copyOf(identities);
  }

  /** {@code {"id","nickname"?,"avatarUrl"?,"phone"?,"unionid"?,"identities":[...],"createdAt","lastLoginAt"}}. */
  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("id", id);
    putIfPresent(json, "nickname", nickname);
    putIfPresent(json, "avatarUrl", avatarUrl);
    putIfPresent(json, "phone", phone);
    putIfPresent(json, "unionid", unionid);
    JsonArray ids = new JsonArray();
    identities.forEach(i -> ids.add(new JsonObject().put("connection", i.connection()).put("openid", i.openid())));
    json.put("identities", ids);
    json.put("createdAt", iso(createdAt));
    json.put("lastLoginAt", lastLoginAt == null ? null : iso(lastLoginAt));
    return json;
  }

  /** ISO-8601 UTC to the second, e.g. {@code 2026-11-21T15:04:05Z}. */
  public static String iso(Instant instant) {
    return io.scangate.util.Times.iso(instant);
  }

  private static void putIfPresent(JsonObject json, String name, String value) {
    if (value != null) json.put(name, value);
  }
}
