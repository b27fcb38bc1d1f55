package io.scangate.webhook;

import io.scangate.ScanGate;
import io.scangate.config.ScanGateConfig;
import io.scangate.testing.Gateways;
import io.scangate.testing.TestConfigs;
import io.scangate.testing.TestHttp;
import io.scangate.webhook.Pushes.Mode;
import io.scangate.webhook.Pushes.Push;
import io.scangate.wechat.WeChatClient;
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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static io.scangate.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/** The webhook of CONTRACT section 5 against real Redis and PostgreSQL, with pushes from the sandbox and hand-built ones. */
@ExtendWith(VertxExtension.class)
class WebhookTest {

  static final String SAFE_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
  /** WeChat's own sample key: its last character has non-zero spare bits. */
  static final String COMPAT_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";
  static final String YAML = """
      redis: { url: "${TEST_REDIS_URL}", keyPrefix: "${TEST_KEY_PREFIX}" }
      postgres: { url: "${TEST_POSTGRES_URL}", poolSize: 2 }
      userPoolId: "pool1"
      webhook: { maxClockSkew: PT5M, maxBodyBytes: 8192 }
      tokens: { keyEncryptionKey: "test-key-encryption-key-0123456789abcdef" }
      """ + TestConfigs.officialAccountsInEveryMode(SAFE_KEY, COMPAT_KEY);

  record Account(String id, Mode mode, String token, String key, String appId) {}

  static final Account SAFE = new Account("mp-safe", Mode.SAFE, "tokenSafe1", SAFE_KEY, "wxmpsafe0000001");
  static final Account COMPAT = new Account("mp-compat", Mode.COMPATIBLE, "tokenCompat1", COMPAT_KEY, "wxmpcompat00001");
  static final Account PLAIN = new Account("mp-plain", Mode.PLAIN, "tokenPlain1", null, "wxmpplain000001");

  final Gateways gateways = new Gateways();
  final List<JsonObject> events = new CopyOnWriteArrayList<>();
  ScanGate gateway;
  WebClient http;
  Vertx vertx;
  int nonces;

  @BeforeEach
  void start(Vertx vertx) {
    this.vertx = vertx;
    ScanGateConfig config = TestConfigs.parse(YAML);
    gateway = gateways.start(vertx, config);
    http = TestHttp.client(vertx, gateway.port());
    vertx.eventBus().<JsonObject>consumer(WeChatEvents.ADDRESS, m -> events.add(m.body()));
  }

  @AfterEach
  void stop() {
    http.close();
    gateways.closeAll();
  }

  static Account account(String id) {
    return switch (id) {
      case "mp-safe" -> SAFE;
      case "mp-compat" -> COMPAT;
      default -> PLAIN;
    };
  }

  String nonce() {
    return "n" + System.nanoTime() + "x" + (nonces++);
  }

  Push push(Account a, Map<String, Object> fields) {
    return Pushes.build(a.mode(), a.token(), a.key(), a.appId(), fields, Pushes.now(), nonce());
  }

  HttpResponse<Buffer> post(String id, Push push) {
    return post(id, "pool1", push);
  }

  HttpResponse<Buffer> post(String id, String pool, Push push) {
    return await(http.post("/connections/social/" + id + "/" + pool + "/events?" + push.query())
        .putHeader("Content-Type", "text/xml").sendBuffer(Buffer.buffer(push.body())));
  }

  HttpResponse<Buffer> get(String path) {
    return await(http.get(path).send());
  }

  long webhookKeys() {
    String prefix = gateway.infrastructure().keys().prefix();
    return await(gateway.infrastructure().redis().send(Request.cmd(Command.KEYS).arg(prefix + "{webhook:*"))).size();
  }

  /** A refused push: the status, a short plain-text body (the code), and nothing recorded or published. */
  void assertRefused(HttpResponse<Buffer> r, int status, String code) {
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(status);
    assertThat(r.getHeader("Content-Type")).startsWith("text/plain");
    assertThat(r.bodyAsString()).isEqualTo(code);
    assertThat(events).as("nothing published").isEmpty();
    assertThat(webhookKeys()).as("nothing recorded").isZero();
  }

  void awaitEvents(int n) throws InterruptedException {
    long deadline = System.currentTimeMillis() + 5000;
    while (events.size() < n && System.currentTimeMillis() < deadline) Thread.sleep(20);
    assertThat(events).hasSize(n);
  }

  // ---- URL verification ----

  @Test
  void urlVerificationEchoesOnlyForTheToken() {
    String ts = String.valueOf(Pushes.now());
    String sig = WeChatMessageCrypto.sha1Signature("tokenSafe1", ts, "nonce1");
    HttpResponse<Buffer> ok = get("/connections/social/mp-safe/pool1/events?signature=" + sig + "&timestamp=" + ts
        + "&nonce=nonce1&echostr=4917394735489");
    assertThat(ok.statusCode()).isEqualTo(200);
    assertThat(ok.bodyAsString()).isEqualTo("4917394735489");

    String other = WeChatMessageCrypto.sha1Signature("tokenPlain1", ts, "nonce1");
    assertThat(get("/connections/social/mp-safe/pool1/events?signature=" + other + "&timestamp=" + ts
        + "&nonce=nonce1&echostr=1").statusCode()).isEqualTo(401);
    assertThat(get("/connections/social/mp-safe/pool1/events?timestamp=" + ts + "&nonce=nonce1&echostr=1").statusCode())
        .isEqualTo(401);
    HttpResponse<Buffer> unknown = get("/connections/social/nope/pool1/events?signature=" + sig + "&timestamp=" + ts
        + "&nonce=nonce1&echostr=1");
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(unknown.bodyAsString()).doesNotContain("{");
    assertThat(get("/connections/social/mp-safe/otherpool/events?signature=" + sig + "&timestamp=" + ts
        + "&nonce=nonce1&echostr=1").statusCode()).isEqualTo(404);
    // A mini program connection is not a webhook.
    assertThat(get("/connections/social/wechat-mini/pool1/events?signature=" + sig + "&timestamp=" + ts
        + "&nonce=nonce1&echostr=1").statusCode()).isEqualTo(404);
  }

  // ---- end to end from the sandbox ----

  @ParameterizedTest
  @CsvSource({"mp-safe, true", "mp-safe, false", "mp-compat, true", "mp-compat, false", "mp-plain, true", "mp-plain, false"})
  void sandboxScansArriveAsEventsOnTheBus(String identifier, boolean subscribe) {
    var connection = gateway.infrastructure().config().connection(identifier).orElseThrow();
    WeChatClient client = new WeChatClient(gateway.infrastructure());
    String scene = "scene_" + identifier.replace('-', '_');
    WeChatClient.QrTicket qr = await(client.createQrCode(connection, scene, Duration.ofMinutes(5)));

    var r = await(http.post("/sandbox/control/mp/scan").sendJsonObject(new JsonObject().put("connection", identifier)
        .put("qrContent", qr.url()).put("openid", "oScanner42").put("subscribe", subscribe)));
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
    assertThat(r.bodyAsJsonObject().getInteger("status")).isEqualTo(200);
    assertThat(r.bodyAsJsonObject().getString("body")).isEqualTo("success");

    long deadline = System.currentTimeMillis() + 5000;
    while (events.isEmpty() && System.currentTimeMillis() < deadline) Thread.onSpinWait();
    assertThat(events).hasSize(1);
    JsonObject event = events.get(0);
    assertThat(event.getString("connection")).isEqualTo(identifier);
    assertThat(event.getString("event")).isEqualTo(subscribe ? "subscribe" : "SCAN");
    assertThat(event.getString("eventKey")).isEqualTo(subscribe ? "qrscene_" + scene : scene);
    assertThat(event.getString("scene")).isEqualTo(scene);
    assertThat(event.getString("ticket")).isEqualTo(qr.ticket());
    assertThat(event.getString("openid")).isEqualTo("oScanner42");
    assertThat(event.getLong("createTime")).isPositive();
  }

  // ---- forged, wrong, hostile ----

  @Test
  void wrongSignaturesAreRefused() {
    Map<String, Object> fields = Pushes.event("oA", "subscribe", "qrscene_s1", Pushes.now());
    for (Account a : List.of(SAFE, COMPAT, PLAIN)) {
      Push genuine = push(a, fields);
      Push forged = Pushes.build(a.mode(), "someOtherToken", a.key(), a.appId(), fields, Pushes.now(), nonce());
      assertRefused(post(a.id(), forged), 401, "invalid_signature");
      if (a.mode() == Mode.PLAIN) {
        assertRefused(post(a.id(), genuine.withQuery(genuine.query().replaceFirst("signature=[0-9a-f]{40}", "signature=" + "1".repeat(40)))),
            401, "invalid_signature");
      } else {
        assertRefused(post(a.id(), genuine.withQuery(genuine.query().replaceFirst("msg_signature=[0-9a-f]{40}", "msg_signature=" + "1".repeat(40)))),
            401, "invalid_signature");
      }
    }
  }

  @Test
  void wrongAppidBadKeyTamperedAndTruncatedCiphertextsAreRefused() {
    Map<String, Object> fields = Pushes.event("oA", "SCAN", "s1", Pushes.now());
    // Signed with our token and key, but encrypted for another appid.
    assertRefused(post("mp-safe", Pushes.build(Mode.SAFE, SAFE.token(), SAFE.key(), "wxanotherapp0001", fields, Pushes.now(), nonce())),
        401, "wrong_appid");
    // Signed with our token, encrypted with another key: the padding or appid check catches it.
    HttpResponse<Buffer> badKey = post("mp-safe", Pushes.build(Mode.SAFE, SAFE.token(), COMPAT_KEY, SAFE.appId(), fields, Pushes.now(), nonce()));
    assertThat(badKey.statusCode()).isIn(400, 401);
    assertRefused(badKey, badKey.statusCode(), badKey.bodyAsString());
    // Tampered ciphertext, re-signed (as only someone with the token could): still refused by the padding/appid checks.
    String encrypt = new WeChatMessageCrypto(SAFE.token(), SAFE.key(), SAFE.appId()).encrypt(WeChatXml.build(fields));
    char[] chars = encrypt.toCharArray();
    chars[10] = chars[10] == 'A' ? 'B' : 'A';
    HttpResponse<Buffer> tampered = post("mp-safe", Pushes.withEncrypt(SAFE.token(), Pushes.now(), nonce(), new String(chars)));
    assertThat(tampered.statusCode()).isIn(400, 401);
    assertRefused(tampered, tampered.statusCode(), tampered.bodyAsString());
    // Truncated ciphertext (not a whole block) and a truncated body.
    assertRefused(post("mp-safe", Pushes.withEncrypt(SAFE.token(), Pushes.now(), nonce(), encrypt.substring(0, 40))), 400, "invalid_message");
    Push genuine = push(SAFE, fields);
    assertRefused(post("mp-safe", genuine.withBody(genuine.body().substring(0, genuine.body().length() / 2))), 400, "invalid_message");
    assertRefused(post("mp-safe", genuine.withBody("")), 400, "invalid_message");
  }

  @Test
  void aPushMustUseTheConnectionsMode() {
    Map<String, Object> fields = Pushes.event("oA", "SCAN", "s1", Pushes.now());
    // Perfectly signed plain pushes (with the right token) to encrypted connections, and the other way round.
    assertRefused(post("mp-safe", Pushes.build(Mode.PLAIN, SAFE.token(), null, SAFE.appId(), fields, Pushes.now(), nonce())),
        400, "wrong_message_mode");
    assertRefused(post("mp-compat", Pushes.build(Mode.PLAIN, COMPAT.token(), null, COMPAT.appId(), fields, Pushes.now(), nonce())),
        400, "wrong_message_mode");
    assertRefused(post("mp-plain", Pushes.build(Mode.SAFE, PLAIN.token(), SAFE_KEY, PLAIN.appId(), fields, Pushes.now(), nonce())),
        400, "wrong_message_mode");
    Push genuine = push(SAFE, fields);
    assertRefused(post("mp-safe", genuine.withQuery(genuine.query().replace("encrypt_type=aes", "encrypt_type=des"))),
        400, "wrong_message_mode");
    assertRefused(post("mp-safe", "otherpool", genuine), 404, "connection_not_found");
  }

  @Test
  void compatibleModeActsOnTheDecryptedMessageOnly() {
    Map<String, Object> real = Pushes.event("oReal", "SCAN", "realScene", Pushes.now());
    Push genuine = push(COMPAT, real);
    // Someone rewrites the unsigned plaintext elements beside Encrypt.
    String forged = genuine.body().replace("oReal", "oForged").replace("realScene", "forgedScene");
    assertThat(forged).contains("oForged").contains("<Encrypt>");
    HttpResponse<Buffer> r = post("mp-compat", genuine.withBody(forged));
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.bodyAsString()).isEqualTo("success");
    assertThat(events).hasSize(1);
    assertThat(events.get(0).getString("openid")).isEqualTo("oReal");
    assertThat(events.get(0).getString("scene")).isEqualTo("realScene");
  }

  @Test
  void hostileXmlIsRefused() {
    String xxe = "<?xml version=\"1.0\"?><!DOCTYPE xml [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
        + "<xml><ToUserName>gh</ToUserName><FromUserName>&x;</FromUserName><MsgType>event</MsgType><Event>SCAN</Event></xml>";
    String laughs = "<?xml version=\"1.0\"?><!DOCTYPE xml [<!ENTITY a \"lol\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">"
        + "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\"><!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">]>"
        + "<xml><FromUserName>&d;</FromUserName><MsgType>event</MsgType></xml>";
    String deep = "<xml><FromUserName>o</FromUserName><MsgType>event</MsgType>" + "<a>".repeat(20) + "</a>".repeat(20) + "</xml>";
    String wide = "<xml><FromUserName>o</FromUserName><MsgType>event</MsgType>" + "<a/>".repeat(520) + "</xml>";
    for (String body : List.of(xxe, laughs, deep, wide, "not xml", "<root><FromUserName>o</FromUserName></root>")) {
      for (Account a : List.of(PLAIN, SAFE, COMPAT)) {
        assertRefused(post(a.id(), Pushes.build(a.mode(), a.token(), a.key(), a.appId(), body, Pushes.now(), nonce())),
            400, "invalid_message");
      }
    }
  }

  @Test
  void oversizedBodiesAreRefusedWith413() {
    String big = "<xml><FromUserName>o</FromUserName><MsgType>text</MsgType><Content>" + "x".repeat(9000) + "</Content></xml>";
    assertRefused(post("mp-plain", Pushes.build(Mode.PLAIN, PLAIN.token(), null, PLAIN.appId(), big, Pushes.now(), nonce())),
        413, "body_too_large");
    // Over the HTTP front's own limit too (64 KB).
    String huge = "<xml>" + "x".repeat(100_000) + "</xml>";
    assertRefused(post("mp-plain", Pushes.build(Mode.PLAIN, PLAIN.token(), null, PLAIN.appId(), huge, Pushes.now(), nonce())),
        413, "body_too_large");
  }

  // ---- replays, retries, duplicates ----

  @Test
  void aStaleTimestampIsRefused() {
    Map<String, Object> fields = Pushes.event("oA", "SCAN", "s1", Pushes.now());
    long stale = Pushes.now() - 301;
    assertRefused(post("mp-safe", Pushes.build(Mode.SAFE, SAFE.token(), SAFE.key(), SAFE.appId(), fields, stale, nonce())),
        401, "stale_timestamp");
    assertRefused(post("mp-plain", Pushes.build(Mode.PLAIN, PLAIN.token(), null, PLAIN.appId(), fields, Pushes.now() + 301, nonce())),
        401, "stale_timestamp");
  }

  @ParameterizedTest
  @CsvSource({"mp-safe", "mp-compat", "mp-plain"})
  void aRetriedPushActsOnceAndAReusedSignatureWithAnotherBodyIsRefused(String id) throws Exception {
    Account a = account(id);
    long created = Pushes.now();
    Push first = push(a, Pushes.event("oA", "SCAN", "s1", created));
    assertThat(post(id, first).bodyAsString()).isEqualTo("success");
    // WeChat's retry: the same query, the same body.
    HttpResponse<Buffer> retry = post(id, first);
    assertThat(retry.statusCode()).isEqualTo(200);
    assertThat(retry.bodyAsString()).isEqualTo("success");
    // WeChat's re-send with a new signature: the same event (sender, time, event, key).
    assertThat(post(id, push(a, Pushes.event("oA", "SCAN", "s1", created))).bodyAsString()).isEqualTo("success");
    // The same signature with another body.
    Push other = Pushes.build(a.mode(), a.token(), a.key(), a.appId(), Pushes.event("oB", "SCAN", "s2", created), Pushes.now(), "x");
    HttpResponse<Buffer> reused = post(id, first.withBody(other.body()));
    assertThat(reused.statusCode()).isIn(400, 401);
    if (a.mode() == Mode.PLAIN) {
      // Plain mode's signature covers no body: only the ledger can tell.
      assertThat(reused.bodyAsString()).isEqualTo("replayed_signature");
    }
    Thread.sleep(200);
    assertThat(events).hasSize(1);
    assertThat(events.get(0).getString("openid")).isEqualTo("oA");
  }

  @Test
  void messagesAreDeduplicatedByMsgId() throws Exception {
    Map<String, Object> text = new java.util.LinkedHashMap<>(Map.of("ToUserName", "gh_1", "FromUserName", "oA", "MsgType", "text"));
    text.put("CreateTime", Pushes.now());
    text.put("Content", "hi");
    text.put("MsgId", 1234567890123456L);
    assertThat(post("mp-safe", push(SAFE, text)).bodyAsString()).isEqualTo("success");
    text.put("CreateTime", Pushes.now() + 1);
    assertThat(post("mp-safe", push(SAFE, text)).bodyAsString()).isEqualTo("success");
    Thread.sleep(200);
    assertThat(events).hasSize(1);
    assertThat(events.get(0).getString("msgId")).isEqualTo("1234567890123456");
  }

  @Test
  void aForgedBodySentFirstCannotUseUpTheGenuinePush() throws Exception {
    Push genuine = push(SAFE, Pushes.event("oReal", "SCAN", "s1", Pushes.now()));
    Push forgedBody = push(SAFE, Pushes.event("oForged", "SCAN", "s1", Pushes.now()));
    assertRefused(post("mp-safe", genuine.withBody(forgedBody.body())), 401, "invalid_signature");
    assertThat(post("mp-safe", genuine).bodyAsString()).isEqualTo("success");
    awaitEvents(1);
    assertThat(events.get(0).getString("openid")).isEqualTo("oReal");
  }

  @Test
  void unsubscribeIsAudited() throws Exception {
    assertThat(post("mp-safe", push(SAFE, Pushes.event("oLeaving", "unsubscribe", null, Pushes.now()))).bodyAsString())
        .isEqualTo("success");
    awaitEvents(1);
    assertThat(events.get(0).getString("event")).isEqualTo("unsubscribe");
    var rows = await(gateway.infrastructure().postgres()
        .preparedQuery("SELECT connection, detail->>'openid' FROM audit_log WHERE event = 'wechat_unsubscribe'").execute());
    assertThat(rows.size()).isEqualTo(1);
    var row = rows.iterator().next();
    assertThat(row.getString(0)).isEqualTo("mp-safe");
    assertThat(row.getString(1)).isEqualTo("oLeaving");
  }
}
