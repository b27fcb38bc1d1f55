package io.scangate.wechat;

import io.scangate.wechat.WeChatMessageCrypto.CryptoException;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Known answers from WeChat's official WXBizMsgCrypt samples (the Java sample's test and the
 * Python sample's demo), which our implementation must reproduce byte for byte.
 */
class WeChatMessageCryptoTest {

  static final String KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

  // Official Java sample test: token "pamtest", appid wxb11529c136998cb6, random "aaaabbbbccccdddd".
  static final WeChatMessageCrypto JAVA_SAMPLE = new WeChatMessageCrypto("pamtest", KEY, "wxb11529c136998cb6");
  static final byte[] SAMPLE_RANDOM = "aaaabbbbccccdddd".getBytes(StandardCharsets.US_ASCII);
  static final String REPLY = "我是中文abcd123";
  static final String REPLY_ENCRYPTED = "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg==";
  static final String REPLY2 = "<xml><ToUserName><![CDATA[oia2Tj我是中文jewbmiOUlr6X-1crbLOvLw]]></ToUserName><FromUserName><![CDATA[gh_7f083739789a]]></FromUserName><CreateTime>1407743423</CreateTime><MsgType><![CDATA[video]]></MsgType><Video><MediaId><![CDATA[eYJ1MbwPRJtOvIEabaxHs7TX2D-HV71s79GUxqdUkjm6Gs2Ed1KF3ulAOA9H1xG0]]></MediaId><Title><![CDATA[testCallBackReplyVideo]]></Title><Description><![CDATA[testCallBackReplyVideo]]></Description></Video></xml>";
  static final String REPLY2_ENCRYPTED = "jn1L23DB+6ELqJ+6bruv23M2GmYfkv0xBh2h+XTBOKVKcgDFHle6gqcZ1cZrk3e1qjPQ1F4RsLWzQRG9udbKWesxlkupqcEcW7ZQweImX9+wLMa0GaUzpkycA8+IamDBxn5loLgZpnS7fVAbExOkK5DYHBmv5tptA9tklE/fTIILHR8HLXa5nQvFb3tYPKAlHF3rtTeayNf0QuM+UW/wM9enGIDIJHF7CLHiDNAYxr+r+OrJCmPQyTy8cVWlu9iSvOHPT/77bZqJucQHQ04sq7KZI27OcqpQNSto2OdHCoTccjggX5Z9Mma0nMJBU+jLKJ38YB1fBIz+vBzsYjrTmFQ44YfeEuZ+xRTQwr92vhA9OxchWVINGC50qE/6lmkwWTwGX9wtQpsJKhP+oS7rvTY8+VdzETdfakjkwQ5/Xka042OlUb1/slTwo4RscuQ+RdxSGvDahxAJ6+EAjLt9d8igHngxIbf6YyqqROxuxqIeIch3CssH/LqRs+iAcILvApYZckqmA7FNERspKA5f8GoJ9sv8xmGvZ9Yrf57cExWtnX8aCMMaBropU/1k+hKP5LVdzbWCG0hGwx/dQudYR/eXp3P0XxjlFiy+9DMlaFExWUZQDajPkdPrEeOwofJb";

  // Official Python sample demo: token "spamtest", appid wx2c2769f8efd9abc2, a real push and its msg_signature.
  static final WeChatMessageCrypto PY_SAMPLE = new WeChatMessageCrypto("spamtest", KEY, "wx2c2769f8efd9abc2");
  static final String PY_TIMESTAMP = "1409735669";
  static final String PY_NONCE = "1320562132";
  static final String PY_MSG_SIGNATURE = "5d197aaffba7e9b25a30732f161a50dee96bd5fa";
  static final String PY_ENCRYPT = "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE=";
  static final String PY_FROM_XML = "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName><FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName><CreateTime>1409735668</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[abcdteT]]></Content><MsgId>6054768590064713728</MsgId><Encrypt><![CDATA["
      + PY_ENCRYPT + "]]></Encrypt></xml>";

  @Test
  void encryptsLikeTheOfficialJavaSample() {
    assertThat(JAVA_SAMPLE.encrypt(REPLY, SAMPLE_RANDOM)).isEqualTo(REPLY_ENCRYPTED);
    assertThat(JAVA_SAMPLE.encrypt(REPLY2, SAMPLE_RANDOM)).isEqualTo(REPLY2_ENCRYPTED);
  }

  @Test
  void decryptsTheOfficialJavaSampleCiphertexts() {
    assertThat(JAVA_SAMPLE.decrypt(REPLY_ENCRYPTED)).isEqualTo(REPLY);
    assertThat(JAVA_SAMPLE.decrypt(REPLY2_ENCRYPTED)).isEqualTo(REPLY2);
  }

  @Test
  void verifiesAndDecryptsTheOfficialPythonSamplePush() {
    assertThat(PY_SAMPLE.sign(PY_TIMESTAMP, PY_NONCE, PY_ENCRYPT)).isEqualTo(PY_MSG_SIGNATURE);
    String message = PY_SAMPLE.decryptEnvelope(PY_MSG_SIGNATURE, PY_TIMESTAMP, PY_NONCE, PY_FROM_XML);
    Map<String, String> fields = WeChatXml.parse(message);
    assertThat(fields).containsEntry("ToUserName", "gh_10f6c3c3ac5a")
        .containsEntry("FromUserName", "oyORnuP8q7ou2gfYjqLzSIWZf0rs")
        .containsEntry("Content", "abcdteT")
        .containsEntry("MsgId", "6054768590064713728");
  }

  @Test
  void refusesABadSignatureBeforeDecrypting() {
    String wrong = "0" + PY_MSG_SIGNATURE.substring(1);
    assertThatThrownBy(() -> PY_SAMPLE.decryptEnvelope(wrong, PY_TIMESTAMP, PY_NONCE, PY_FROM_XML))
        .isInstanceOfSatisfying(CryptoException.class, e -> assertThat(e.reason()).isEqualTo(CryptoException.Reason.BAD_SIGNATURE));
    assertThat(PY_SAMPLE.verify(PY_MSG_SIGNATURE.toUpperCase(), PY_TIMESTAMP, PY_NONCE, PY_ENCRYPT)).isTrue();
    assertThat(PY_SAMPLE.verify(PY_MSG_SIGNATURE, PY_TIMESTAMP, "other", PY_ENCRYPT)).isFalse();
  }

  @Test
  void refusesAnotherAccountsAppid() {
    var other = new WeChatMessageCrypto("spamtest", KEY, "wxb11529c136998cb6");
    assertThatThrownBy(() -> other.decrypt(PY_ENCRYPT))
        .isInstanceOfSatisfying(CryptoException.class, e -> assertThat(e.reason()).isEqualTo(CryptoException.Reason.WRONG_APPID));
  }

  @Test
  void refusesInexactPadding() throws Exception {
    // Re-encrypt the sample's plaintext with a 16-byte-block padding (valid PKCS#7 for AES, wrong for WeChat's 32).
    byte[] key = WeChatMessageCrypto.decodeAesKey(KEY);
    var cipher = javax.crypto.Cipher.getInstance("AES/CBC/NoPadding");
    cipher.init(javax.crypto.Cipher.DECRYPT_MODE, new javax.crypto.spec.SecretKeySpec(key, "AES"),
        new javax.crypto.spec.IvParameterSpec(java.util.Arrays.copyOf(key, 16)));
    byte[] plain = cipher.doFinal(Base64.getDecoder().decode(REPLY_ENCRYPTED)); // 57 bytes + 7 x 0x07
    byte[] tampered = plain.clone();
    tampered[tampered.length - 2] = 6; // padding bytes that disagree
    assertThatThrownBy(() -> JAVA_SAMPLE.decrypt(reencrypt(key, tampered)))
        .isInstanceOfSatisfying(CryptoException.class, e -> assertThat(e.reason()).isEqualTo(CryptoException.Reason.BAD_PADDING));
    byte[] zeroPad = plain.clone();
    zeroPad[zeroPad.length - 1] = 0;
    assertThatThrownBy(() -> JAVA_SAMPLE.decrypt(reencrypt(key, zeroPad)))
        .isInstanceOfSatisfying(CryptoException.class, e -> assertThat(e.reason()).isEqualTo(CryptoException.Reason.BAD_PADDING));
    assertThatThrownBy(() -> JAVA_SAMPLE.decrypt(REPLY_ENCRYPTED.substring(0, 40)))
        .isInstanceOf(CryptoException.class);
    assertThatThrownBy(() -> JAVA_SAMPLE.decrypt("not base64 at all!"))
        .isInstanceOfSatisfying(CryptoException.class, e -> assertThat(e.reason()).isEqualTo(CryptoException.Reason.BAD_CIPHERTEXT));
  }

  private static String reencrypt(byte[] key, byte[] plain) throws Exception {
    var cipher = javax.crypto.Cipher.getInstance("AES/CBC/NoPadding");
    cipher.init(javax.crypto.Cipher.ENCRYPT_MODE, new javax.crypto.spec.SecretKeySpec(key, "AES"),
        new javax.crypto.spec.IvParameterSpec(java.util.Arrays.copyOf(key, 16)));
    return Base64.getEncoder().encodeToString(cipher.doFinal(plain));
  }

  @Test
  void plainSignatureIsSortedSha1OfTokenTimestampNonce() {
    // sha1("1409304348" + "pamtest" + "xxxxxx") in sorted order
    assertThat(JAVA_SAMPLE.sign("1409304348", "xxxxxx"))
        .isEqualTo(WeChatMessageCrypto.sha1Signature("xxxxxx", "pamtest", "1409304348"))
        .hasSize(40);
    assertThat(JAVA_SAMPLE.verify(JAVA_SAMPLE.sign("1409304348", "xxxxxx"), "1409304348", "xxxxxx")).isTrue();
  }

  @Test
  void roundTripsAnEncryptedReplyEnvelope() {
    String envelope = JAVA_SAMPLE.encryptedReply(REPLY2, "1409304348", "xxxxxx");
    Map<String, String> fields = WeChatXml.parse(envelope);
    assertThat(fields).containsKeys("Encrypt", "MsgSignature", "TimeStamp", "Nonce");
    assertThat(fields.get("TimeStamp")).isEqualTo("1409304348");
    assertThat(JAVA_SAMPLE.decryptReply(envelope)).isEqualTo(REPLY2);
  }

  @Test
  void decodesAnyFortyThreeCharacterKey() {
    // The last character carries 2 spare bits; strict Base64 would refuse "...Z" style endings.
    for (String k : new String[] {KEY, "z".repeat(43), "0123456789012345678901234567890123456789012"}) {
      var crypto = new WeChatMessageCrypto("t0ken", k, "wxappid");
      assertThat(crypto.decrypt(crypto.encrypt("hello"))).isEqualTo("hello");
    }
    byte[] raw = WeChatMessageCrypto.decodeAesKey(KEY);
    assertThat(raw).isEqualTo(java.util.Arrays.copyOf(Base64.getDecoder().decode(KEY + "="), 32));
    assertThatThrownBy(() -> new WeChatMessageCrypto("t0ken", "short", "wx")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new WeChatMessageCrypto("t0ken", "a".repeat(42) + "+", "wx")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void xmlParserRefusesDoctypeAndEntities() {
    String xxe = "<?xml version=\"1.0\"?><!DOCTYPE xml [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><xml><A>&x;</A></xml>";
    assertThatThrownBy(() -> WeChatXml.parse(xxe)).isInstanceOf(WeChatXml.MalformedXmlException.class);
    String bomb = "<!DOCTYPE xml [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;\">]><xml><A>&b;</A></xml>";
    assertThatThrownBy(() -> WeChatXml.parse(bomb)).isInstanceOf(WeChatXml.MalformedXmlException.class);
    assertThatThrownBy(() -> WeChatXml.parse("<notxml/>")).isInstanceOf(WeChatXml.MalformedXmlException.class);
    assertThat(WeChatXml.parse("<xml><A><![CDATA[x]]]]><![CDATA[>y]]></A><N>5</N></xml>"))
        .containsEntry("A", "x]]>y").containsEntry("N", "5");
    assertThat(WeChatXml.parse(WeChatXml.build(Map.of("A", "a]]>b")))).containsEntry("A", "a]]>b");
  }
}
