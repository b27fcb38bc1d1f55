package io.scangate.webhook;

import io.scangate.wechat.WeChatMessageCrypto;
import io.scangate.wechat.WeChatXml;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** Builds pushes the way WeChat's servers do (query string and body), for hand-made tests. */
final class Pushes {

  enum Mode { PLAIN, COMPATIBLE, SAFE }

  /** One push: the path's query string and the body. */
  record Push(String query, String body) {
    Push withBody(String other) {
      return new Push(query, other);
    }

    Push withQuery(String other) {
      return new Push(other, body);
    }
  }

  private Pushes() {}

  static Map<String, Object> event(String openid, String event, String eventKey, long createTime) {
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("ToUserName", "gh_0123456789ab");
    fields.put("FromUserName", openid);
    fields.put("CreateTime", createTime);
    fields.put("MsgType", "event");
    fields.put("Event", event);
    if (eventKey != null) fields.put("EventKey", eventKey);
    if (eventKey != null) fields.put("Ticket", "gQticket" + eventKey.hashCode());
    return fields;
  }

  static long now() {
    return System.currentTimeMillis() / 1000;
  }

  static Push build(Mode mode, String token, String aesKey, String appId, Map<String, Object> fields, long timestamp, String nonce) {
    return build(mode, token, aesKey, appId, WeChatXml.build(fields), timestamp, nonce);
  }

  static Push build(Mode mode, String token, String aesKey, String appId, String plain, long timestamp, String nonce) {
    WeChatMessageCrypto crypto = new WeChatMessageCrypto(token, mode == Mode.PLAIN ? null : aesKey, appId);
    String ts = String.valueOf(timestamp);
    StringBuilder query = new StringBuilder("signature=").append(crypto.sign(ts, nonce))
        .append("&timestamp=").append(ts).append("&nonce=").append(nonce).append("&openid=oSomeone");
    if (mode == Mode.PLAIN) return new Push(query.toString(), plain);
    String encrypt = crypto.encrypt(plain);
    query.append("&encrypt_type=aes&msg_signature=").append(crypto.sign(ts, nonce, encrypt));
    String body = mode == Mode.SAFE
        ? crypto.encryptedPush("gh_0123456789ab", encrypt)
        : plain.substring(0, plain.length() - "</xml>".length()) + "<Encrypt>" + WeChatXml.cdata(encrypt) + "</Encrypt></xml>";
    return new Push(query.toString(), body);
  }

  /** A signed compatible/safe push whose Encrypt element is {@code encrypt} as given (to test bad ciphertexts). */
  static Push withEncrypt(String token, long timestamp, String nonce, String encrypt) {
    String ts = String.valueOf(timestamp);
    String msgSignature = WeChatMessageCrypto.sha1Signature(token, ts, nonce, encrypt);
    String query = "signature=" + WeChatMessageCrypto.sha1Signature(token, ts, nonce) + "&timestamp=" + ts + "&nonce=" + nonce
        + "&encrypt_type=aes&msg_signature=" + msgSignature;
    return new Push(query, "<xml><ToUserName><![CDATA[gh_0123456789ab]]></ToUserName><Encrypt><![CDATA[" + encrypt
        + "]]></Encrypt></xml>");
  }

  static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
