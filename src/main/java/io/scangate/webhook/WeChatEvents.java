package io.scangate.webhook;

import io.vertx.core.json.JsonObject;

import java.util.Map;

/**
 * The event-bus face of verified WeChat pushes. Every accepted push (event or message) is
 * published once at {@value #ADDRESS} as a JSON object:
 * {@code {connection, msgType, event, openid, toUserName, createTime, eventKey, scene, ticket,
 * msgId, fields}} ({@code event} as WeChat spells it: {@code subscribe}, {@code SCAN},
 * {@code unsubscribe}, {@code CLICK}...; {@code scene} is the QR scene of a {@code subscribe}
 * with {@code qrscene_<scene>} or of a {@code SCAN}; {@code fields} holds every element of the
 * decrypted message). Publishing is fire-and-forget; the acting on it is {@link WebhookVerticle}'s.
 */
public final class WeChatEvents {

  /** Where every accepted push is published (any number of consumers, in any verticle). */
  public static final String ADDRESS = "scangate.wechat.event";

  private WeChatEvents() {}

  /** The bus message of a decrypted, verified push. */
  static JsonObject of(String connection, Map<String, String> fields) {
    String msgType = fields.get("MsgType");
    String event = fields.get("Event");
    String eventKey = fields.get("EventKey");
    JsonObject json = new JsonObject()
        .put("connection", connection)
        .put("msgType", msgType)
        .put("openid", fields.get("FromUserName"))
        .put("toUserName", fields.get("ToUserName"))
        .put("createTime", parseLong(fields.get("CreateTime")));
    if (event != null) json.put("event", event);
    if (eventKey != null) json.put("eventKey", eventKey);
    String scene = scene(event, eventKey);
    if (scene != null) json.put("scene", scene);
    if (fields.get("Ticket") != null) json.put("ticket", fields.get("Ticket"));
    if (fields.get("MsgId") != null) json.put("msgId", fields.get("MsgId"));
    JsonObject all = new JsonObject();
    fields.forEach(all::put);
    return json.put("fields", all);
  }

  /** The QR scene of a follow-by-scan ({@code qrscene_<scene>}) or of a scan by a follower ({@code <scene>}); else null. */
  static String scene(String event, String eventKey) {
    if (eventKey == null || eventKey.isEmpty()) return null;
    if ("subscribe".equals(event)) return eventKey.startsWith("qrscene_") ? eventKey.substring("qrscene_".length()) : null;
    if ("SCAN".equals(event)) return eventKey;
    return null;
  }

  private static Long parseLong(String text) {
    if (text == null || !text.matches("[0-9]{1,18}")) return null;
    return Long.parseLong(text);
  }
}
