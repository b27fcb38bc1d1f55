package io.scangate.sandbox;

import io.scangate.config.ScanGateConfig;
import io.scangate.config.ScanGateConfig.Connection;
import io.scangate.config.ScanGateConfig.OfficialAccountConnection;
import io.scangate.config.ScanGateConfig.MessageMode;
import io.scangate.error.ApiException;
import io.scangate.http.Responses;
import io.scangate.wechat.WeChatMessageCrypto;
import io.scangate.wechat.WeChatXml;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.WebClient;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The control endpoints of CONTRACT section 9: what a test or a person at {@code /sandbox/phone}
 * uses to play WeChat users. Here {@code appId} is the WeChat app id.
 */
final class SandboxControl {

  private static final Pattern OPENID = Pattern.compile("[A-Za-z0-9_-]{1,64}");
  private static final Pattern PHONE = Pattern.compile("(?:\\+(\\d{1,4})[ -]?)?(\\d{5,15})");

  private final ScanGateConfig config;
  private final SandboxApps apps;
  private final SandboxStore store;
  private final WebClient web;

  SandboxControl(ScanGateConfig config, SandboxApps apps, SandboxStore store, WebClient web) {
    this.config = config;
    this.apps = apps;
    this.store = store;
    this.web = web;
  }

  // POST /sandbox/control/miniprogram/code {appId, openid?, unionid?, phone?} -> {code, phoneCode, openid}
  void miniProgramCode(RoutingContext ctx) {
    JsonObject body = body(ctx);
    String appId = text(body, "appId");
    if (appId == null) throw ApiException.badRequest("invalid_request", "appId (the WeChat app id) is required");
    var app = apps.find(appId).orElseThrow(() -> ApiException.badRequest("unknown_app",
        "No connection of this configuration has wechatAppId " + appId));
    if (!app.miniProgram()) throw ApiException.badRequest("unknown_app", appId + " is not a mini program in this configuration");
    String openid = optionalId(body, "openid");
    String unionid = optionalId(body, "unionid");
    if (openid == null) openid = "o" + SandboxStore.randomToken(21).substring(0, 27);
    String phone = text(body, "phone");
    JsonObject phoneRecord = phone(phone == null ? "138" + String.format("%08d", io.scangate.util.Randoms.nextInt(100_000_000)) : phone)
        .put("appId", appId);
    String code = SandboxStore.randomToken(24);
    String phoneCode = SandboxStore.randomToken(24);
    JsonObject session = new JsonObject().put("appId", appId).put("openid", openid).put("unionid", unionid)
        .put("sessionKey", java.util.Base64.getEncoder().encodeToString(randomBytes(16)));
    String finalOpenid = openid;
    store.saveCode("jscode", code, session)
        .compose(v -> store.saveCode("phonecode", phoneCode, phoneRecord))
        .compose(v -> Responses.json(ctx, 200, new JsonObject().put("code", code).put("phoneCode", phoneCode).put("openid", finalOpenid)))
        .onFailure(ctx::fail);
  }

  /** WeChat's phone_info for "13800138000", "+86 13800138000" or "+852 61234567". */
  static JsonObject phone(String phone) {
    var m = PHONE.matcher(phone.trim());
    if (!m.matches()) throw ApiException.badRequest("invalid_request", "phone must look like 13800138000 or +852 61234567");
    String country = m.group(1) == null ? "86" : m.group(1);
    String pure = m.group(2);
    return new JsonObject().put("countryCode", country).put("purePhoneNumber", pure)
        .put("phoneNumber", "86".equals(country) ? pure : "+" + country + " " + pure);
  }

  // GET /sandbox/control/qrcodes[?appId] -> [{ticket, sceneStr, url, appId, expireSeconds, expiresAt}]
  void qrCodes(RoutingContext ctx) {
    String appId = ctx.request().getParam("appId");
    store.listQrCodes().compose(list -> {
      JsonArray out = new JsonArray();
      for (Object o : list) {
        JsonObject qr = (JsonObject) o;
        if (appId != null && !appId.equals(qr.getString("appId"))) continue;
        out.add(new JsonObject().put("ticket", qr.getString("ticket")).put("sceneStr", qr.getString("sceneStr"))
            .put("url", qr.getString("url")).put("appId", qr.getString("appId")).put("expireSeconds", qr.getInteger("expireSeconds"))
            .put("expiresAt", io.scangate.util.Times.iso(qr.getLong("expiresAt"))));
      }
      return Responses.json(ctx, 200, out);
    }).onFailure(ctx::fail);
  }

  // GET /sandbox/control/connections -> [{identifier, type, wechatAppId, messageMode?}]: what the phone page offers.
  void connections(RoutingContext ctx) {
    JsonArray out = new JsonArray();
    for (Connection c : config.connections()) {
      JsonObject item = new JsonObject().put("identifier", c.identifier()).put("type", c.type().id).put("wechatAppId", c.wechatAppId())
          .put("displayName", c.displayName());
      if (c instanceof OfficialAccountConnection oa) item.put("messageMode", oa.messageMode().name().toLowerCase());
      out.add(item);
    }
    Responses.json(ctx, 200, new JsonObject().put("publicUrl", config.server().publicUrl()).put("connections", out));
  }

  // POST /sandbox/control/tokens/expire {appId}: the account's current access tokens expire now.
  void expireTokens(RoutingContext ctx) {
    String appId = knownApp(body(ctx));
    store.expireTokens(appId).compose(n -> Responses.json(ctx, 200, new JsonObject().put("expired", n))).onFailure(ctx::fail);
  }

  // POST /sandbox/control/tokens/revoke {appId}: current tokens are rejected (40001) until a forced refresh.
  void revokeTokens(RoutingContext ctx) {
    String appId = knownApp(body(ctx));
    store.revokeTokens(appId).compose(n -> Responses.json(ctx, 200, new JsonObject().put("revoked", n))).onFailure(ctx::fail);
  }

  // POST /sandbox/control/mp/scan {connection, qrContent, openid, unionid?, subscribe}
  void mpScan(RoutingContext ctx) {
    JsonObject body = body(ctx);
    String identifier = text(body, "connection");
    Connection named = identifier == null ? null : config.connection(identifier).orElse(null);
    if (!(named instanceof OfficialAccountConnection connection)) {
      throw ApiException.badRequest("unknown_connection", "connection must name a wechat-mp-qrcode connection of this configuration");
    }
    String openid = optionalId(body, "openid");
    if (openid == null) throw ApiException.badRequest("invalid_request", "openid is required (1-64 characters [A-Za-z0-9_-])");
    String unionid = optionalId(body, "unionid");
    if (!(body.getValue("subscribe") instanceof Boolean subscribe)) {
      throw ApiException.badRequest("invalid_request", "subscribe must be true (follows by scanning) or false (already follows)");
    }
    String qrContent = text(body, "qrContent");
    if (qrContent == null) throw ApiException.badRequest("invalid_request", "qrContent (the URL the QR code carries) is required");

    resolveQr(qrContent.trim()).compose(qr -> {
      if (qr == null) throw ApiException.notFound("qr_not_found", "No live Official Account QR code carries this content");
      if (!connection.wechatAppId().equals(qr.getString("appId"))) {
        throw ApiException.badRequest("qr_wrong_account", "This QR code belongs to another Official Account");
      }
      String scene = qr.getString("sceneStr");
      long now = System.currentTimeMillis() / 1000;
      JsonObject follower = new JsonObject().put("openid", openid).put("unionid", unionid).put("subscribe", 1)
          .put("subscribeTime", now).put("qrSceneStr", scene);
      String event = subscribe ? "subscribe" : "SCAN";
      Map<String, Object> fields = new LinkedHashMap<>();
      fields.put("ToUserName", originalId(connection.wechatAppId()));
      fields.put("FromUserName", openid);
      fields.put("CreateTime", now);
      fields.put("MsgType", "event");
      fields.put("Event", event);
      fields.put("EventKey", subscribe ? "qrscene_" + scene : scene);
      fields.put("Ticket", qr.getString("ticket"));
      return store.saveFollower(connection.wechatAppId(), follower)
          .compose(v -> push(connection, openid, fields, String.valueOf(now)))
          .map(answer -> answer.put("event", event).put("eventKey", fields.get("EventKey")));
    }).compose(answer -> Responses.json(ctx, 200, answer)).onFailure(ctx::fail);
  }

  /** WeChat sends a push up to three times, each time it gets no answer within 5 seconds. */
  static final int WECHAT_TRIES = 3;
  static volatile long webhookTimeoutMillis = 5_000;

  /** The same request again while no answer comes (a timeout or a dropped connection); any HTTP answer ends it. */
  private static Future<io.vertx.ext.web.client.HttpResponse<Buffer>> sendLikeWeChat(HttpRequest<Buffer> request, Buffer body, int attempt) {
    return request.sendBuffer(body).recover(e -> attempt >= WECHAT_TRIES
        ? Future.failedFuture(e)
        : sendLikeWeChat(request, body, attempt + 1));
  }

  /** Signs (and encrypts) the event for the connection's message mode and POSTs it to the webhook, as WeChat does. */
  private Future<JsonObject> push(OfficialAccountConnection c, String openid, Map<String, Object> fields, String timestamp) {
    String nonce = String.valueOf(1_000_000_000L + (io.scangate.util.Randoms.nextLong() & Long.MAX_VALUE) % 9_000_000_000L);
    String plain = WeChatXml.build(fields);
    MessageMode mode = c.messageMode();
    WeChatMessageCrypto crypto = new WeChatMessageCrypto(c.token(), mode == MessageMode.PLAIN ? null : c.encodingAesKey(),
        c.wechatAppId());
    String url = config.server().publicUrl() + "/connections/social/" + enc(c.identifier()) + "/" + enc(config.userPoolId()) + "/events";
    HttpRequest<Buffer> request = web.postAbs(url).timeout(webhookTimeoutMillis)
        .putHeader("Content-Type", "text/xml")
        .addQueryParam("signature", crypto.sign(timestamp, nonce))
        .addQueryParam("timestamp", timestamp)
        .addQueryParam("nonce", nonce)
        .addQueryParam("openid", openid);
    String body;
    if (mode == MessageMode.PLAIN) {
      body = plain;
    } else {
      String encrypt = crypto.encrypt(plain);
      request.addQueryParam("encrypt_type", "aes").addQueryParam("msg_signature", crypto.sign(timestamp, nonce, encrypt));
      if (mode == MessageMode.SAFE) {
        body = crypto.encryptedPush(String.valueOf(fields.get("ToUserName")), encrypt);
      } else {
        // Compatible mode: the plaintext fields and the Encrypt element side by side.
        body = plain.substring(0, plain.length() - "</xml>".length()) + "<Encrypt>" + WeChatXml.cdata(encrypt) + "</Encrypt></xml>";
      }
    }
    return sendLikeWeChat(request, Buffer.buffer(body), 1)
        .recover(e -> Future.failedFuture(new ApiException(502, "webhook_unreachable",
            "The gateway's webhook at " + url + " did not answer in " + WECHAT_TRIES + " tries (" + e.getClass().getSimpleName() + ")")))
        .map(response -> {
          String text = response.bodyAsString() == null ? "" : response.bodyAsString();
          JsonObject answer = new JsonObject().put("status", response.statusCode()).put("body", text)
              .put("mode", mode.name().toLowerCase());
          String contentType = response.getHeader("Content-Type");
          if (contentType != null) answer.put("contentType", contentType);
          answer.put("reply", readableReply(crypto, mode, text));
          return answer;
        });
  }

  /** The passive reply as the user would see it: decrypted in compatible/safe mode; null when empty or "success". */
  private static String readableReply(WeChatMessageCrypto crypto, MessageMode mode, String text) {
    if (text.isBlank() || "success".equals(text.trim()) || !text.trim().startsWith("<")) return null;
    try {
      return mode != MessageMode.PLAIN && WeChatXml.parse(text).containsKey("Encrypt") ? crypto.decryptReply(text) : text;
    } catch (RuntimeException e) {
      return null;
    }
  }

  private Future<JsonObject> resolveQr(String content) {
    if (content.startsWith(SandboxWeChatApi.QR_URL_PREFIX)) return store.qrByUrlId(content.substring(SandboxWeChatApi.QR_URL_PREFIX.length()));
    if (content.startsWith("https://weixin.qq.com/q/")) return store.qrByUrlId(content.substring("https://weixin.qq.com/q/".length()));
    int ticketAt = content.indexOf("showqrcode?ticket=");
    if (ticketAt >= 0) {
      String ticket = java.net.URLDecoder.decode(content.substring(ticketAt + "showqrcode?ticket=".length()), StandardCharsets.UTF_8);
      return store.qrByTicket(ticket);
    }
    return store.qrByTicket(content); // a bare ticket
  }

  /** The account's "original id" (gh_...), which WeChat puts in ToUserName; derived, as the config has none. */
  static String originalId(String appId) {
    return "gh_" + HexFormat.of().formatHex(io.scangate.util.Hashes.sha256(appId), 0, 6);
  }

  private String knownApp(JsonObject body) {
    String appId = text(body, "appId");
    if (appId == null) throw ApiException.badRequest("invalid_request", "appId (the WeChat app id) is required");
    apps.find(appId).orElseThrow(() -> ApiException.badRequest("unknown_app", "No connection of this configuration has wechatAppId " + appId));
    return appId;
  }

  private static JsonObject body(RoutingContext ctx) {
    return io.scangate.http.JsonInput.body(ctx);
  }

  private static String text(JsonObject body, String field) {
    Object v = body.getValue(field);
    if (v != null && !(v instanceof String)) throw ApiException.badRequest("invalid_request", field + " must be a string");
    String s = (String) v;
    return s == null || s.isBlank() ? null : s;
  }

  private static String optionalId(JsonObject body, String field) {
    String v = text(body, field);
    if (v != null && !OPENID.matcher(v).matches()) {
      throw ApiException.badRequest("invalid_request", field + " must be 1-64 characters [A-Za-z0-9_-]");
    }
    return v;
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  private static byte[] randomBytes(int n) {
    return io.scangate.util.Randoms.bytes(n);
  }
}
