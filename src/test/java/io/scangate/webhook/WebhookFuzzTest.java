package io.scangate.webhook;

import io.scangate.ScanGate;
import io.scangate.testing.Gateways;
import io.scangate.testing.TestConfigs;
import io.scangate.testing.TestHttp;
import io.scangate.webhook.Pushes.Mode;
import io.scangate.webhook.Pushes.Push;
import io.scangate.wechat.WeChatMessageCrypto;
import io.scangate.wechat.WeChatXml;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;

import static io.scangate.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * Random and mutated bodies, signatures and query strings (seeded, bounded): the parser only ever
 * refuses with its own exception, and the endpoint answers 4xx to anything not a valid signed push,
 * never 5xx, never hangs, and changes nothing. The seed is printed so a failure can be replayed.
 */
@ExtendWith(VertxExtension.class)
class WebhookFuzzTest {

  static final String[] FRAGMENTS = {"<xml>", "</xml>", "<FromUserName>", "</FromUserName>", "<MsgType>", "</MsgType>",
      "<![CDATA[", "]]>", "<!DOCTYPE xml [<!ENTITY e \"x\">]>", "&e;", "&amp;", "<?xml version=\"1.0\"?>", "<Encrypt>",
      "</Encrypt>", "<a>", "</a>", "<!--", "-->", "\u0000", "\uFFFF", "é", "&#0;", "<xml/>", "event", "subscribe", "qrscene_1"};

  final Gateways gateways = new Gateways();
  final List<JsonObject> events = new CopyOnWriteArrayList<>();
  final long seed = Long.getLong("webhook.fuzz.seed", System.nanoTime());
  final Random random = new Random(seed);
  ScanGate gateway;
  WebClient http;

  @BeforeEach
  void start(Vertx vertx) {
    System.out.println("WebhookFuzzTest seed: " + seed);
    gateway = gateways.start(vertx, TestConfigs.parse(WebhookTest.YAML));
    http = TestHttp.client(vertx, gateway.port());
    vertx.eventBus().<JsonObject>consumer(WeChatEvents.ADDRESS, m -> events.add(m.body()));
  }

  @AfterEach
  void stop() {
    http.close();
    gateways.closeAll();
  }

  String randomText(int maxLength) {
    StringBuilder sb = new StringBuilder();
    int n = random.nextInt(maxLength + 1);
    while (sb.length() < n) {
      sb.append(random.nextInt(3) == 0 ? String.valueOf((char) random.nextInt(0x3000)) : FRAGMENTS[random.nextInt(FRAGMENTS.length)]);
    }
    return sb.toString();
  }

  String mutate(String s) {
    StringBuilder sb = new StringBuilder(s);
    int edits = 1 + random.nextInt(4);
    for (int i = 0; i < edits && sb.length() > 0; i++) {
      int at = random.nextInt(sb.length());
      switch (random.nextInt(4)) {
        case 0 -> sb.setCharAt(at, (char) (sb.charAt(at) ^ (1 + random.nextInt(127))));
        case 1 -> sb.delete(at, Math.min(sb.length(), at + 1 + random.nextInt(20)));
        case 2 -> sb.insert(at, FRAGMENTS[random.nextInt(FRAGMENTS.length)]);
        default -> sb.setLength(at);
      }
    }
    return sb.toString();
  }

  String genuineMessage() {
    return WeChatXml.build(Pushes.event("o" + random.nextInt(1000), random.nextBoolean() ? "subscribe" : "SCAN",
        "qrscene_" + random.nextInt(1000), Pushes.now()));
  }

  @Test
  void theParserAndTheCryptoOnlyEverRefuseWithTheirOwnExceptions() {
    WeChatMessageCrypto crypto = new WeChatMessageCrypto(WebhookTest.SAFE.token(), WebhookTest.SAFE.key(), WebhookTest.SAFE.appId());
    assertTimeoutPreemptively(Duration.ofMinutes(2), () -> {
      for (int i = 0; i < 3000; i++) {
        String input = random.nextBoolean() ? randomText(400) : mutate(genuineMessage());
        assertThatCode(() -> {
          try {
            WeChatXml.parse(input);
          } catch (WeChatXml.MalformedXmlException expected) {
            // refused: fine
          }
        }).as("seed %d, input %s", seed, input).doesNotThrowAnyException();
        String encrypt = random.nextBoolean() ? mutate(crypto.encrypt(genuineMessage())) : randomText(200);
        assertThatCode(() -> {
          try {
            crypto.decrypt(encrypt);
          } catch (WeChatMessageCrypto.CryptoException expected) {
            // refused: fine
          }
        }).as("seed %d, Encrypt %s", seed, encrypt).doesNotThrowAnyException();
      }
    });
  }

  @Test
  void theEndpointAnswersHostileRequestsWith4xxAndChangesNothing() throws Exception {
    List<String> paths = List.of("mp-safe/pool1", "mp-compat/pool1", "mp-plain/pool1", "mp-safe/other", "nope/pool1", "mp-safe/pool1/x");
    for (int i = 0; i < 300; i++) {
      WebhookTest.Account a = List.of(WebhookTest.SAFE, WebhookTest.COMPAT, WebhookTest.PLAIN).get(random.nextInt(3));
      Push genuine = Pushes.build(a.mode(), a.token(), a.key(), a.appId(), genuineMessage(), Pushes.now(), "n" + i);
      String query = switch (random.nextInt(4)) {
        case 0 -> randomQuery();
        case 1 -> mutate(genuine.query());
        // A fresh random signature on an otherwise genuine query.
        case 2 -> genuine.query().replaceAll("signature=[0-9a-f]{40}", "signature=" + hex40());
        default -> genuine.query().replaceAll("timestamp=[0-9]+", "timestamp=" + random.nextInt(Integer.MAX_VALUE));
      };
      String body = switch (random.nextInt(3)) {
        case 0 -> randomText(2000);
        case 1 -> mutate(genuine.body());
        default -> genuine.body();
      };
      query = clientSafe(query);
      if (sameSignedParams(query, clientSafe(genuine.query()), a.mode() != Mode.PLAIN)) continue; // a mutation that changed nothing that counts
      String path = "/connections/social/" + (random.nextInt(5) == 0 ? paths.get(random.nextInt(paths.size())) : a.id() + "/pool1")
          + "/events";
      var request = random.nextInt(4) == 0 ? http.get(path + "?" + query) : http.post(path + "?" + query);
      HttpResponse<Buffer> r;
      try {
        r = await(request.timeout(10_000).sendBuffer(Buffer.buffer(body.getBytes(StandardCharsets.UTF_8))));
      } catch (IllegalStateException e) {
        throw new AssertionError("seed " + seed + ": no answer to " + path + "?" + query, e);
      }
      assertThat(r.statusCode()).as("seed %d: %s?%s with %s -> %s", seed, path, query, body, r.bodyAsString())
          .isBetween(400, 499);
      assertThat(r.bodyAsString()).doesNotContain("Exception").doesNotContain("{");
    }
    Thread.sleep(200);
    assertThat(events).as("seed %d: nothing published", seed).isEmpty();
    String prefix = gateway.infrastructure().keys().prefix();
    assertThat(await(gateway.infrastructure().redis().send(Request.cmd(Command.KEYS).arg(prefix + "{webhook:*"))).size())
        .as("seed %d: nothing recorded", seed).isZero();
  }

  /** The HTTP client refuses characters that cannot appear in a URI; a lone '%' (an escape that does not decode) stays. */
  static String clientSafe(String query) {
    StringBuilder sb = new StringBuilder();
    for (char c : query.toCharArray()) {
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || "-._~=&%+".indexOf(c) >= 0) sb.append(c);
      else sb.append(java.net.URLEncoder.encode(String.valueOf(c), StandardCharsets.UTF_8));
    }
    return sb.toString();
  }

  static final List<String> SIGNED = List.of("timestamp", "nonce", "signature", "msg_signature", "encrypt_type");

  /** Whether the webhook would see the same signed push (in compatible/safe mode a missing `signature` is allowed: msg_signature counts). */
  static boolean sameSignedParams(String a, String b, boolean encrypted) {
    try {
      var pa = new io.netty.handler.codec.http.QueryStringDecoder(a, false).parameters();
      var pb = new io.netty.handler.codec.http.QueryStringDecoder(b, false).parameters();
      return SIGNED.stream().allMatch(name -> java.util.Objects.equals(pa.get(name), pb.get(name))
          || (encrypted && name.equals("signature") && pa.get(name) == null));
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  String hex40() {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 40; i++) sb.append(Character.forDigit(random.nextInt(16), 16));
    return sb.toString();
  }

  String randomQuery() {
    String[] names = {"signature", "timestamp", "nonce", "encrypt_type", "msg_signature", "echostr", "openid", "", "%", "&&"};
    StringBuilder sb = new StringBuilder();
    int n = random.nextInt(8);
    for (int i = 0; i < n; i++) {
      if (i > 0) sb.append('&');
      sb.append(names[random.nextInt(names.length)]).append('=');
      sb.append(random.nextBoolean() ? hex40() : java.net.URLEncoder.encode(randomText(30), StandardCharsets.UTF_8));
    }
    return sb.toString();
  }
}
