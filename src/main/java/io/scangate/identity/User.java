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
    Instant lastLoginAt,
    boolean blocked) {

  /** One WeChat identity linked to the user; {@code lastLoginAt} (null: never recorded) is shown to administrators only. */
  public record Identity(String connection, String openid, Instant lastLoginAt) {
    public Identity(String connection, String openid) {
      this(connection, openid, null);
    }
  }

  public User {
    identities = List.copyOf(identities);
  }

  /**
   * What administrators see (CONTRACT section 11): {@link #toJson()} plus {@code blocked} and each
   * identity's {@code lastLoginAt}.
   */
  public JsonObject toAdminJson() {
    JsonObject json = toJson().put("blocked", blocked);
    JsonArray ids = new JsonArray();
    identities.forEach(i -> ids.add(new JsonObject().put("connection", i.connection()).put("openid", i.openid())
        .put("lastLoginAt", i.lastLoginAt() == null ? null : iso(i.lastLoginAt()))));
    return json.put("identities", ids);
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

  /**
   * The OIDC standard claims of this user (OpenID Connect Core 5.1): {@code sub}, {@code nickname},
   * {@code picture}, {@code phone_number}, {@code phone_number_verified}, {@code updated_at}. The
   * profile is refreshed from WeChat at each login, so {@code updated_at} is the last login.
   */
  public JsonObject standardClaims() {
    JsonObject json = new JsonObject().put("sub", id);
    putIfPresent(json, "nickname", nickname);
    putIfPresent(json, "picture", avatarUrl);
    if (phone != null) json.put("phone_number", phone).put("phone_number_verified", true);
    Instant updated = lastLoginAt != null && createdAt != null && lastLoginAt.isAfter(createdAt) ? lastLoginAt : createdAt;
    if (updated != null) json.put("updated_at", updated.getEpochSecond());
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
