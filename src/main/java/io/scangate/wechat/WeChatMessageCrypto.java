package io.scangate.wechat;

import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * WeChat's message push protocol (the official WXBizMsgCrypt sample), byte for byte:
 * <ul>
 *   <li>signature = hex SHA-1 of the sorted, concatenated token, timestamp, nonce (and, for
 *       {@code msg_signature}, the Base64 ciphertext);</li>
 *   <li>AES-256-CBC, key = Base64(EncodingAESKey + "="), IV = the key's first 16 bytes;</li>
 *   <li>plaintext = 16 random bytes + 4-byte big-endian length + message + appid, PKCS#7-padded
 *       to a multiple of 32 bytes.</li>
 * </ul>
 * Decryption is stricter than the sample: exact padding, exact length, the appid must match, and
 * signatures are compared in constant time. Instances are immutable and thread-safe.
 */
public final class WeChatMessageCrypto {

  /** Why a message was refused. Messages never contain keys, tokens or plaintext. */
  public static final class CryptoException extends RuntimeException {

    public enum Reason { BAD_SIGNATURE, BAD_CIPHERTEXT, BAD_PADDING, BAD_LENGTH, WRONG_APPID, MALFORMED_XML, NO_KEY }

    private final Reason reason;

    public CryptoException(Reason reason, String message) {
      super(message, null, false, false);
      this.reason = reason;
    }

    public Reason reason() {
      return reason;
    }
  }

  private static final int BLOCK = 32;
  private static final String ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

  private final String token;
  private final String appId;
  private final SecretKeySpec key;
  private final IvParameterSpec iv;

  /** {@code encodingAesKey} may be null or empty for plain mode (signatures only). */
  public WeChatMessageCrypto(String token, String encodingAesKey, String appId) {
    if (token == null || token.isEmpty()) throw new IllegalArgumentException("token is required");
    this.token = token;
    this.appId = appId;
    if (encodingAesKey == null || encodingAesKey.isEmpty()) {
      this.key = null;
      this.iv = null;
    } else {
      byte[] raw = decodeAesKey(encodingAesKey);
      this.key = new SecretKeySpec(raw, "AES");
      this.iv = new IvParameterSpec(Arrays.copyOf(raw, 16));
    }
  }

  /**
   * The 32-byte AES key in a 43-character EncodingAESKey. Decoded bit by bit, so that every
   * [A-Za-z0-9]{43} WeChat issues works even when its last character has non-zero spare bits
   * (which strict Base64 decoders reject).
   */
  static byte[] decodeAesKey(String encodingAesKey) {
    if (encodingAesKey.length() != 43) throw new IllegalArgumentException("encodingAesKey must be 43 characters");
    byte[] out = new byte[32];
    int buffer = 0;
    int bits = 0;
    int n = 0;
    for (int i = 0; i < 43; i++) {
      char c = encodingAesKey.charAt(i);
      int v = c < 128 ? ALPHABET.indexOf(c) : -1;
      if (v < 0 || v > 61) throw new IllegalArgumentException("encodingAesKey must be 43 characters [A-Za-z0-9]");
      buffer = (buffer << 6) | v;
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        if (n < 32) out[n++] = (byte) (buffer >> bits);
        buffer &= (1 << bits) - 1;
      }
    }
    return out;
  }

  public boolean canEncrypt() {
    return key != null;
  }

  public String appId() {
    return appId;
  }

  // ---- signatures ----

  /** Hex SHA-1 of the parts sorted and concatenated: WeChat's signature scheme. */
  public static String sha1Signature(String... parts) {
    String[] sorted = parts.clone();
    Arrays.sort(sorted);
    try {
      MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
      for (String p : sorted) sha1.update(p.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(sha1.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The {@code signature} query parameter (URL verification and every push). */
  public String sign(String timestamp, String nonce) {
    return sha1Signature(token, timestamp, nonce);
  }

  /** The {@code msg_signature} of an encrypted message. */
  public String sign(String timestamp, String nonce, String encrypt) {
    return sha1Signature(token, timestamp, nonce, encrypt);
  }

  public boolean verify(String signature, String timestamp, String nonce) {
    if (signature == null || timestamp == null || nonce == null) return false;
    return constantTimeEquals(signature, sign(timestamp, nonce));
  }

  public boolean verify(String msgSignature, String timestamp, String nonce, String encrypt) {
    if (msgSignature == null || timestamp == null || nonce == null || encrypt == null) return false;
    return constantTimeEquals(msgSignature, sign(timestamp, nonce, encrypt));
  }

  static boolean constantTimeEquals(String given, String expected) {
    // Case-insensitive hex, as the samples compare lower-case hex.
    return MessageDigest.isEqual(given.toLowerCase(java.util.Locale.ROOT).getBytes(StandardCharsets.US_ASCII),
        expected.getBytes(StandardCharsets.US_ASCII));
  }

  // ---- encryption ----

  /** Encrypts {@code message} with 16 fresh random bytes; returns the Base64 {@code Encrypt} value. */
  public String encrypt(String message) {
    return encrypt(message, io.scangate.util.Randoms.bytes(16));
  }

  /** Encrypts with the given 16 leading bytes (the sample takes 16 random characters); for known-answer tests. */
  public String encrypt(String message, byte[] random16) {
    requireKey();
    if (random16.length != 16) throw new IllegalArgumentException("16 random bytes are needed");
    byte[] msg = message.getBytes(StandardCharsets.UTF_8);
    byte[] id = appId.getBytes(StandardCharsets.UTF_8);
    int unpadded = 16 + 4 + msg.length + id.length;
    int pad = BLOCK - (unpadded % BLOCK);
    ByteBuffer plain = ByteBuffer.allocate(unpadded + pad);
    plain.put(random16).putInt(msg.length).put(msg).put(id);
    for (int i = 0; i < pad; i++) plain.put((byte) pad);
    try {
      Cipher cipher = Cipher.getInstance("AES/CBC/NoPadding");
      cipher.init(Cipher.ENCRYPT_MODE, key, iv);
      return Base64.getEncoder().encodeToString(cipher.doFinal(plain.array()));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES encryption failed", e);
    }
  }

  /**
   * Decrypts a Base64 {@code Encrypt} value and returns the message. Checks the padding exactly,
   * the length field, and that the trailing appid is this account's.
   */
  public String decrypt(String encrypt) {
    requireKey();
    byte[] cipherText;
    try {
      cipherText = Base64.getDecoder().decode(encrypt == null ? "" : encrypt.trim());
    } catch (IllegalArgumentException e) {
      throw new CryptoException(CryptoException.Reason.BAD_CIPHERTEXT, "the ciphertext is not Base64");
    }
    if (cipherText.length == 0 || cipherText.length % BLOCK != 0) {
      throw new CryptoException(CryptoException.Reason.BAD_CIPHERTEXT, "the ciphertext length is not a multiple of 32 bytes");
    }
    byte[] plain;
    try {
      Cipher cipher = Cipher.getInstance("AES/CBC/NoPadding");
      cipher.init(Cipher.DECRYPT_MODE, key, iv);
      plain = cipher.doFinal(cipherText);
    } catch (GeneralSecurityException e) {
      throw new CryptoException(CryptoException.Reason.BAD_CIPHERTEXT, "the ciphertext cannot be decrypted");
    }
    int pad = plain[plain.length - 1] & 0xFF;
    if (pad < 1 || pad > BLOCK) throw new CryptoException(CryptoException.Reason.BAD_PADDING, "bad PKCS#7 padding");
    int padErrors = 0;
    for (int i = plain.length - pad; i < plain.length; i++) padErrors |= (plain[i] & 0xFF) ^ pad;
    if (padErrors != 0) throw new CryptoException(CryptoException.Reason.BAD_PADDING, "bad PKCS#7 padding");
    int content = plain.length - pad;
    if (content < 20) throw new CryptoException(CryptoException.Reason.BAD_LENGTH, "the decrypted message is too short");
    int msgLength = ByteBuffer.wrap(plain, 16, 4).getInt();
    if (msgLength < 0 || msgLength > content - 20) {
      throw new CryptoException(CryptoException.Reason.BAD_LENGTH, "the message length field is out of range");
    }
    byte[] id = Arrays.copyOfRange(plain, 20 + msgLength, content);
    if (appId == null || !MessageDigest.isEqual(id, appId.getBytes(StandardCharsets.UTF_8))) {
      throw new CryptoException(CryptoException.Reason.WRONG_APPID, "the message is for another appid");
    }
    return new String(plain, 20, msgLength, StandardCharsets.UTF_8);
  }

  // ---- envelopes ----

  /**
   * The encrypted envelope of a passive reply (or of a push in safe mode without ToUserName):
   * {@code <xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml>}.
   */
  public String encryptedReply(String message, String timestamp, String nonce) {
    String encrypt = encrypt(message);
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("Encrypt", encrypt);
    fields.put("MsgSignature", sign(timestamp, nonce, encrypt));
    fields.put("TimeStamp", timestamp.matches("[0-9]{1,20}") ? new RawNumber(timestamp) : timestamp);
    fields.put("Nonce", nonce);
    return build(fields);
  }

  /** What WeChat POSTs in safe mode: {@code <xml><ToUserName/><Encrypt/></xml>}. */
  public String encryptedPush(String toUserName, String encrypt) {
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("ToUserName", toUserName);
    fields.put("Encrypt", encrypt);
    return build(fields);
  }

  /**
   * Verifies {@code msg_signature} over the body's {@code Encrypt} element BEFORE decrypting it,
   * then decrypts it. Works for pushes (safe and compatible mode) and for encrypted replies.
   */
  public String decryptEnvelope(String msgSignature, String timestamp, String nonce, String xml) {
    Map<String, String> fields;
    try {
      fields = WeChatXml.parse(xml);
    } catch (WeChatXml.MalformedXmlException e) {
      throw new CryptoException(CryptoException.Reason.MALFORMED_XML, e.getMessage());
    }
    String encrypt = fields.get("Encrypt");
    if (encrypt == null || encrypt.isBlank()) {
      throw new CryptoException(CryptoException.Reason.MALFORMED_XML, "the body has no Encrypt element");
    }
    if (!verify(msgSignature, timestamp, nonce, encrypt)) {
      throw new CryptoException(CryptoException.Reason.BAD_SIGNATURE, "msg_signature does not match");
    }
    return decrypt(encrypt);
  }

  /** {@link #decryptEnvelope} for a reply, whose signature, timestamp and nonce travel inside the XML. */
  public String decryptReply(String xml) {
    Map<String, String> fields;
    try {
      fields = WeChatXml.parse(xml);
    } catch (WeChatXml.MalformedXmlException e) {
      throw new CryptoException(CryptoException.Reason.MALFORMED_XML, e.getMessage());
    }
    return decryptEnvelope(fields.get("MsgSignature"), fields.get("TimeStamp"), fields.get("Nonce"), xml);
  }

  private void requireKey() {
    if (key == null) throw new CryptoException(CryptoException.Reason.NO_KEY, "no EncodingAESKey is configured (plain mode)");
  }

  private static String build(Map<String, Object> fields) {
    StringBuilder sb = new StringBuilder("<xml>");
    fields.forEach((name, value) -> {
      if (value instanceof RawNumber raw) sb.append('<').append(name).append('>').append(raw.text).append("</").append(name).append('>');
      else WeChatXml.appendElement(sb, name, value);
    });
    return sb.append("</xml>").toString();
  }

  private record RawNumber(String text) {}

  @Override
  public String toString() {
    return "WeChatMessageCrypto[appId=" + appId + ", token=***, encodingAesKey=***]";
  }
}
