package io.scangate.wechat;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The per-push cost of an Official Account webhook in safe mode: what WeChat POSTs is
 * {@code <xml><ToUserName/><Encrypt/></xml>} with {@code msg_signature}, {@code timestamp} and
 * {@code nonce} in the query; the gateway checks the SHA-1 signature, then AES-decrypts. An
 * answer with a welcome message is an encrypted passive reply.
 *
 * <p>The push is the SCAN event the sandbox sends (same fields, same sizes); the keys are those of
 * conf/dev.yaml (but see AES_KEY).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class MessageCryptoBench {

  static final String TOKEN = "sandboxToken";
  /**
   * Not conf/dev.yaml's key: WxJava (commons-codec's strict Base64) refuses keys whose last
   * character has non-zero spare bits, as dev.yaml's does ("...FG"); this one ends in a character
   * whose spare bits are zero, so both libraries can run on it.
   */
  static final String AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFA";
  static final String APP_ID = "wxsandboxmp000001";

  WeChatMessageCrypto crypto;
  me.chanjar.weixin.common.util.crypto.WxCryptUtil wxJava;
  String timestamp;
  String nonce;
  String msgSignature;
  String body;
  String reply;

  @Setup
  public void setUp() {
    crypto = new WeChatMessageCrypto(TOKEN, AES_KEY, APP_ID);
    wxJava = new me.chanjar.weixin.common.util.crypto.WxCryptUtil(TOKEN, AES_KEY, APP_ID);
    long now = System.currentTimeMillis() / 1000;
    timestamp = Long.toString(now);
    nonce = "1384726519";
    Map<String, Object> push = new LinkedHashMap<>();
    push.put("ToUserName", "gh_0123456789ab");
    push.put("FromUserName", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o");
    push.put("CreateTime", now);
    push.put("MsgType", "event");
    push.put("Event", "SCAN");
    push.put("EventKey", "Vd3kXq9mR2tLp8sZb4nY1w");
    push.put("Ticket", "gQH47joAAAAAAAAAASxodHRwOi8vd2VpeGluLnFxLmNvbS9xLzAyVnQ0aDVwYkE");
    String encrypt = crypto.encrypt(WeChatXml.build(push));
    body = crypto.encryptedPush("gh_0123456789ab", encrypt);
    msgSignature = crypto.sign(timestamp, nonce, encrypt);

    Map<String, Object> text = new LinkedHashMap<>();
    text.put("ToUserName", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o");
    text.put("FromUserName", "gh_0123456789ab");
    text.put("CreateTime", now);
    text.put("MsgType", "text");
    text.put("Content", "You are now logged in");
    reply = WeChatXml.build(text);

    // Fail here, not with a silently wrong number, if the inputs are not what the gateway accepts.
    String plain = crypto.decryptEnvelope(msgSignature, timestamp, nonce, body);
    if (!"SCAN".equals(WeChatXml.parse(plain).get("Event"))) throw new IllegalStateException("round trip failed");
    if (!wxJava.decryptXml(msgSignature, timestamp, nonce, body).equals(plain)) throw new IllegalStateException("WxJava disagrees");
    if (!"SCAN".equals(me.chanjar.weixin.mp.bean.message.WxMpXmlMessage.fromXml(plain).getEvent())) {
      throw new IllegalStateException("WxJava cannot read the event");
    }
    if (!reply.equals(crypto.decryptReply(crypto.encryptedReply(reply, timestamp, nonce)))) {
      throw new IllegalStateException("reply round trip failed");
    }
  }

  /** Signature check + AES-256-CBC decryption of the push: {@code decryptEnvelope}. */
  @Benchmark
  public String decryptEnvelope() {
    return crypto.decryptEnvelope(msgSignature, timestamp, nonce, body);
  }

  /** decryptEnvelope plus reading the decrypted event's fields: what a webhook does before acting on a push. */
  @Benchmark
  public Map<String, String> decryptEnvelopeAndParseEvent() {
    return WeChatXml.parse(crypto.decryptEnvelope(msgSignature, timestamp, nonce, body));
  }

  /** Only the envelope's XML parse (hardened DOM parser): the share of decryptEnvelope that is XML, not crypto. */
  @Benchmark
  public Map<String, String> parseEnvelopeXmlOnly() {
    return WeChatXml.parse(body);
  }

  /** An encrypted passive reply (welcome text): random IV bytes, AES encryption, signature, XML. */
  @Benchmark
  public String encryptedReply() {
    return crypto.encryptedReply(reply, timestamp, nonce);
  }

  /** WxJava's {@code WxCryptUtil.decryptXml} on the same push: signature check + decryption (the comparison for decryptEnvelope). */
  @Benchmark
  public String wxJavaDecryptXml() {
    return wxJava.decryptXml(msgSignature, timestamp, nonce, body);
  }

  /** WxJava's decryptXml, then {@code WxMpXmlMessage.fromXml} (XStream): what a WxJava webhook does (the comparison for decryptEnvelopeAndParseEvent). */
  @Benchmark
  public Object wxJavaDecryptXmlAndParseEvent() {
    return me.chanjar.weixin.mp.bean.message.WxMpXmlMessage.fromXml(wxJava.decryptXml(msgSignature, timestamp, nonce, body));
  }
}
