package io.scangate.webhook;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.scangate.config.ScanGateConfig;
import io.scangate.dev.FreePort;
import io.scangate.http.HttpVerticle;
import io.scangate.ops.Lifecycle;
import io.scangate.redis.RedisClients;
import io.scangate.redis.RedisKeys;
import io.scangate.testing.TestConfigs;
import io.scangate.testing.TestHttp;
import io.scangate.webhook.Pushes.Mode;
import io.scangate.webhook.Pushes.Push;
import io.scangate.wechat.WeChatMessageCrypto;
import io.scangate.wechat.WeChatXml;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import io.vertx.redis.client.Redis;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import static io.scangate.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Forwarding (CONTRACT section 5, docs/forwarding.md) against a real Redis and a local HTTP server
 * that plays the owner: signed and encrypted with the target's own credentials, durable retries
 * (also across a restart), one delivery across two instances, the proxy mode's passive reply, and
 * the owner-in-front arrangement.
 */
@ExtendWith(VertxExtension.class)
class ForwardingTest {

  static final String WECHAT_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
  static final String OWNER_KEY = "OwnerKey0123456789abcdefghijklmnopqrstuvwxy";
  static final String APP_ID = "wxforward000001";
  static final String TOKEN = "tokenWeChat1";
  static final String OWNER_TOKEN = "ownerToken1";
  static final String PLAIN_OWNER_TOKEN = "ownerToken2";

  /** Short timings so retries and take-overs happen within a test. */
  static final class Policy {
    static Forwarder.Policy of(int attempts, Duration reclaimAfter) {
      Duration request = reclaimAfter.dividedBy(2).compareTo(Duration.ofSeconds(2)) < 0 ? reclaimAfter.dividedBy(2) : Duration.ofSeconds(2);
      return new Forwarder.Policy(request, Duration.ofSeconds(3), Duration.ofMillis(100), Duration.ofMillis(200),
          Duration.ofMillis(400), attempts, reclaimAfter);
    }
  }

  /** What the owner's server saw: path, query, body. */
  record Seen(String path, String rawQuery, MultiMap query, String body) {}

  final List<Seen> seen = new CopyOnWriteArrayList<>();
  final Map<String, Function<Seen, Future<String>>> behaviour = new ConcurrentHashMap<>();
  final List<String> deployments = new ArrayList<>();
  final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
  Vertx vertx;
  HttpServer owner;
  int ownerPort;
  ScanGateConfig config;
  Redis redis;
  WebClient http;
  int gatewayPort;
  int nonces;

  @BeforeEach
  void start(Vertx vertx) {
    this.vertx = vertx;
    ownerPort = FreePort.find();
    owner = await(vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> {
      Seen s = new Seen(req.path(), req.query(), MultiMap.caseInsensitiveMultiMap().addAll(req.params()), body.toString());
      seen.add(s);
      Function<Seen, Future<String>> b = behaviour.getOrDefault(req.path(), r -> Future.succeededFuture("success"));
      b.apply(s).onSuccess(answer -> {
        if (answer.startsWith("HTTP ")) req.response().setStatusCode(Integer.parseInt(answer.substring(5))).end();
        else req.response().end(answer);
      });
    })).listen(ownerPort, "127.0.0.1"));
    String base = "http://127.0.0.1:" + ownerPort;
    config = TestConfigs.parse("""
        redis: { url: "${TEST_REDIS_URL}", keyPrefix: "${TEST_KEY_PREFIX}" }
        postgres: { url: "${TEST_POSTGRES_URL}", poolSize: 2 }
        userPoolId: "pool1"
        tokens: { keyEncryptionKey: "test-key-encryption-key-0123456789abcdef" }
        applications:
          - { appId: "demo", appSecret: "demo-app-secret-for-tests", name: "Demo", redirectUris: ["http://127.0.0.1/callback"] }
        connections:
          - identifier: "mp"
            type: wechat-mp-qrcode
            wechatAppId: "%1$s"
            appSecret: "secret-forward-01"
            token: "%2$s"
            encodingAesKey: "%3$s"
            messageMode: safe
            forwardTo:
              - { url: "%4$s/owner/enc", token: "%5$s", encodingAesKey: "%6$s", mode: async }
              - { url: "%4$s/owner/plain", token: "%7$s", mode: async }
          - identifier: "mp-proxy"
            type: wechat-mp-qrcode
            wechatAppId: "%1$s"
            appSecret: "secret-forward-01"
            token: "%2$s"
            encodingAesKey: "%3$s"
            messageMode: safe
            forwardTo:
              - { url: "%4$s/owner/proxy", token: "%5$s", encodingAesKey: "%6$s", mode: proxy }
        """.formatted(APP_ID, TOKEN, WECHAT_KEY, base, OWNER_TOKEN, OWNER_KEY, PLAIN_OWNER_TOKEN));
    redis = RedisClients.create(vertx, config.redis());
    await(vertx.deployVerticle(new WebhookVerticle(config, null, PushReactor.PUBLISH_ONLY, true)));
    gatewayPort = FreePort.find();
    http = TestHttp.client(vertx, gatewayPort);
  }

  /** The webhook's HTTP door with a forwarder of the given policy; the queue workers run when {@code workers}. */
  Forwarder gateway(Forwarder.Policy policy, boolean workers) {
    Forwarder forwarder = new Forwarder(vertx, config, redis, keys(), metrics, policy);
    var routes = new WebhookRoutes(vertx, config, redis, keys(), WebhookRoutes.DEFAULT_HOLD, forwarder);
    deployments.add(await(vertx.deployVerticle(new HttpVerticle(
        new HttpVerticle.Settings("127.0.0.1", gatewayPort, 65536, null, Duration.ofSeconds(10)), List.of(routes), new Lifecycle()))));
    if (workers) workers(forwarder);
    return forwarder;
  }

  String workers(Forwarder forwarder) {
    String id = await(vertx.deployVerticle(new ForwardVerticle(forwarder)));
    deployments.add(id);
    return id;
  }

  RedisKeys keys() {
    return new RedisKeys(config.redis().keyPrefix());
  }

  @AfterEach
  void stop() {
    // Workers first: they must not touch Redis after it is closed.
    for (String id : deployments) await(vertx.undeploy(id));
    http.close();
    await(owner.close());
    redis.close();
  }

  Push push(Map<String, Object> fields) {
    return Pushes.build(Mode.SAFE, TOKEN, WECHAT_KEY, APP_ID, fields, Pushes.now(), "n" + (++nonces) + System.nanoTime());
  }

  static Map<String, Object> text(String msgId, String content) {
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("ToUserName", "gh_0123456789ab");
    fields.put("FromUserName", "oUser" + msgId);
    fields.put("CreateTime", Pushes.now());
    fields.put("MsgType", "text");
    fields.put("Content", content);
    fields.put("MsgId", msgId);
    return fields;
  }

  HttpResponse<Buffer> post(String connection, Push push) {
    return await(http.post("/connections/social/" + connection + "/pool1/events?" + push.query()).sendBuffer(Buffer.buffer(push.body())));
  }

  List<Seen> at(String path) {
    return seen.stream().filter(s -> s.path().equals(path)).toList();
  }

  static void eventually(Runnable assertion) {
    long deadline = System.currentTimeMillis() + 15_000;
    while (true) {
      try {
        assertion.run();
        return;
      } catch (AssertionError e) {
        if (System.currentTimeMillis() > deadline) throw e;
        try {
          Thread.sleep(50);
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          throw e;
        }
      }
    }
  }

  /** The message the owner's server got, decrypted with the owner's key after checking its own token's signatures. */
  static String openAsOwner(Seen s) {
    WeChatMessageCrypto ownerCrypto = new WeChatMessageCrypto(OWNER_TOKEN, OWNER_KEY, APP_ID);
    MultiMap q = s.query();
    assertThat(ownerCrypto.verify(q.get("signature"), q.get("timestamp"), q.get("nonce"))).isTrue();
    assertThat(q.get("encrypt_type")).isEqualTo("aes");
    return ownerCrypto.decryptEnvelope(q.get("msg_signature"), q.get("timestamp"), q.get("nonce"), s.body());
  }

  double count(String name, String mode) {
    var c = metrics.find(name).tag("target", "127.0.0.1").tag("mode", mode).counter();
    return c == null ? 0 : c.count();
  }

  @Test
  void eachTargetGetsThePushSignedAndEncryptedWithItsOwnCredentialsNeverTheConnections() {
    gateway(Policy.of(5, Duration.ofSeconds(30)), true);
    Map<String, Object> fields = text("1001", "hello owner");
    Push push = push(fields);
    assertThat(post("mp", push).bodyAsString()).isEqualTo("success");

    eventually(() -> assertThat(at("/owner/enc")).hasSize(1));
    eventually(() -> assertThat(at("/owner/plain")).hasSize(1));
    Seen enc = at("/owner/enc").get(0);
    assertThat(WeChatXml.parse(openAsOwner(enc))).containsEntry("Content", "hello owner").containsEntry("MsgId", "1001")
        .containsEntry("FromUserName", "oUser1001");
    assertThat(enc.query().get("openid")).isEqualTo("oUser1001");
    assertThat(WeChatXml.parse(enc.body())).containsOnlyKeys("ToUserName", "Encrypt");
    // Never the connection's: its token does not verify, its key does not decrypt, nothing of WeChat's query is reused.
    WeChatMessageCrypto connectionCrypto = new WeChatMessageCrypto(TOKEN, WECHAT_KEY, APP_ID);
    assertThat(connectionCrypto.verify(enc.query().get("signature"), enc.query().get("timestamp"), enc.query().get("nonce"))).isFalse();
    assertThat(push.query()).doesNotContain(enc.query().get("signature")).doesNotContain(enc.query().get("nonce"))
        .doesNotContain(enc.query().get("msg_signature"));

    Seen plain = at("/owner/plain").get(0);
    WeChatMessageCrypto plainOwner = new WeChatMessageCrypto(PLAIN_OWNER_TOKEN, null, APP_ID);
    assertThat(plainOwner.verify(plain.query().get("signature"), plain.query().get("timestamp"), plain.query().get("nonce"))).isTrue();
    assertThat(plain.query().get("encrypt_type")).isNull();
    assertThat(plain.query().get("msg_signature")).isNull();
    assertThat(WeChatXml.parse(plain.body())).containsEntry("Content", "hello owner").containsEntry("MsgId", "1001");
    eventually(() -> assertThat(count("scangate.forward.delivered", "async")).isEqualTo(2));

    // WeChat's retry of the same push is answered and not forwarded again.
    assertThat(post("mp", push).bodyAsString()).isEqualTo("success");
    Push next = push(text("1002", "second"));
    assertThat(post("mp", next).bodyAsString()).isEqualTo("success");
    eventually(() -> assertThat(at("/owner/enc")).hasSize(2));
    assertThat(at("/owner/enc").stream().map(s -> WeChatXml.parse(openAsOwner(s)).get("MsgId")).toList())
        .containsExactlyInAnyOrder("1001", "1002");
  }

  @Test
  void aTargetThatFailsReceivesEachPushOnceItRecoversAlsoAcrossARestart() {
    AtomicInteger ok = new AtomicInteger();
    Map<String, AtomicInteger> delivered = new ConcurrentHashMap<>();
    var down = new java.util.concurrent.atomic.AtomicBoolean(true);
    behaviour.put("/owner/enc", req -> {
      if (down.get()) return Future.succeededFuture("HTTP 503");
      ok.incrementAndGet();
      return Future.succeededFuture("success");
    });
    Forwarder first = gateway(Policy.of(50, Duration.ofSeconds(30)), false);
    String firstWorkers = workers(first);
    for (int i = 0; i < 3; i++) assertThat(post("mp", push(text("20" + i, "m" + i))).bodyAsString()).isEqualTo("success");
    eventually(() -> assertThat(at("/owner/enc").size()).isGreaterThanOrEqualTo(6)); // refused tries
    // The owner logs a request before its answer reaches the forwarder: the counter follows shortly.
    eventually(() -> assertThat(count("scangate.forward.retried", "async")).isGreaterThanOrEqualTo(6));

    // The gateway's workers stop (a restart); a new instance finds the queue in Redis.
    await(vertx.undeploy(firstWorkers));
    deployments.remove(firstWorkers);
    down.set(false);
    workers(new Forwarder(vertx, config, redis, keys(), metrics, Policy.of(50, Duration.ofSeconds(30))));
    eventually(() -> assertThat(ok.get()).isEqualTo(3));
    for (Seen s : at("/owner/enc")) delivered.computeIfAbsent(WeChatXml.parse(openAsOwner(s)).get("MsgId"), k -> new AtomicInteger());
    assertThat(delivered).containsOnlyKeys("200", "201", "202");
    // Each was accepted once: nothing more arrives after the last success.
    int after = at("/owner/enc").size();
    sleep(600);
    assertThat(at("/owner/enc")).hasSize(after);
    assertThat(ok.get()).isEqualTo(3);
  }

  @Test
  void theQueueSurvivesARestartOfTheWholeGateway() {
    var down = new java.util.concurrent.atomic.AtomicBoolean(true);
    AtomicInteger ok = new AtomicInteger();
    behaviour.put("/owner/enc", req -> {
      if (down.get()) return Future.succeededFuture("HTTP 503");
      ok.incrementAndGet();
      return Future.succeededFuture("success");
    });
    io.scangate.testing.Gateways gateways = new io.scangate.testing.Gateways();
    try {
      var gateway = gateways.start(vertx, config);
      WebClient toGateway = TestHttp.client(vertx, gateway.port());
      Push push = push(text("900", "across a restart"));
      assertThat(await(toGateway.post("/connections/social/mp/pool1/events?" + push.query()).sendBuffer(Buffer.buffer(push.body())))
          .bodyAsString()).isEqualTo("success");
      eventually(() -> assertThat(at("/owner/enc")).isNotEmpty()); // tried, refused
      toGateway.close();
      gateways.closeAll();
      int triedBefore = at("/owner/enc").size();
      down.set(false);
      gateways.start(vertx, config);
      eventually(() -> assertThat(ok.get()).isEqualTo(1));
      assertThat(at("/owner/enc").size()).isGreaterThan(triedBefore);
      assertThat(WeChatXml.parse(openAsOwner(at("/owner/enc").get(at("/owner/enc").size() - 1)))).containsEntry("MsgId", "900");
    } finally {
      gateways.closeAll();
    }
  }

  @Test
  void aDeadTargetIsDroppedAfterTheRetryBudget() {
    behaviour.put("/owner/enc", req -> Future.succeededFuture("HTTP 500"));
    gateway(Policy.of(3, Duration.ofSeconds(30)), true);
    assertThat(post("mp", push(text("300", "lost"))).bodyAsString()).isEqualTo("success");
    eventually(() -> assertThat(count("scangate.forward.dropped", "async")).isEqualTo(1));
    assertThat(at("/owner/enc")).hasSize(3);
    eventually(() -> assertThat(metrics.find("scangate.forward.backlog").tag("target", "127.0.0.1").gauges())
        .allSatisfy(g -> assertThat(g.value()).isZero()));
    sleep(800);
    assertThat(at("/owner/enc")).hasSize(3);
  }

  @Test
  void aHangingTargetDoesNotHoldTheAnswerToWeChat() {
    behaviour.put("/owner/enc", req -> io.vertx.core.Promise.<String>promise().future()); // never answers
    gateway(Policy.of(5, Duration.ofSeconds(30)), true);
    assertThat(post("mp", push(text("400", "slow owner"))).bodyAsString()).isEqualTo("success");
    // The answer came while the owner held (or had not yet received) the forwarded push.
    eventually(() -> assertThat(at("/owner/enc")).isNotEmpty());
    assertThat(post("mp", push(text("401", "still answered"))).bodyAsString()).isEqualTo("success");
  }

  @Test
  void twoInstancesDeliverEachQueuedPushOnce() {
    Forwarder a = gateway(Policy.of(5, Duration.ofSeconds(30)), true);
    workers(new Forwarder(vertx, config, redis, keys(), metrics, Policy.of(5, Duration.ofSeconds(30))));
    for (int i = 0; i < 20; i++) {
      await(a.enqueue("mp", WeChatXml.build(text("5" + i, "n" + i)), new JsonObject().put("msgType", "text")));
    }
    eventually(() -> assertThat(at("/owner/enc")).hasSize(20));
    eventually(() -> assertThat(at("/owner/plain")).hasSize(20));
    sleep(600);
    assertThat(at("/owner/enc").stream().map(s -> WeChatXml.parse(openAsOwner(s)).get("MsgId")).distinct()).hasSize(20);
    assertThat(at("/owner/enc")).hasSize(20);
    assertThat(at("/owner/plain")).hasSize(20);
  }

  @Test
  void anEntryAnInstanceTookAndNeverFinishedIsTakenOver() {
    // The first instance reads the entry and its owner request hangs forever (a crashed or stuck instance).
    AtomicInteger calls = new AtomicInteger();
    behaviour.put("/owner/enc", req -> calls.incrementAndGet() == 1
        ? io.vertx.core.Promise.<String>promise().future() : Future.succeededFuture("success"));
    Forwarder stuck = new Forwarder(vertx, config, redis, keys(), metrics,
        new Forwarder.Policy(Duration.ofMinutes(5), Duration.ofSeconds(3), Duration.ofMillis(100), Duration.ofMillis(200),
            Duration.ofMillis(400), 5, Duration.ofMinutes(10)));
    workers(stuck);
    await(stuck.enqueue("mp", WeChatXml.build(text("600", "taken over")), new JsonObject().put("msgType", "text")));
    eventually(() -> assertThat(calls.get()).isEqualTo(1));
    workers(new Forwarder(vertx, config, redis, keys(), metrics, Policy.of(5, Duration.ofMillis(500))));
    eventually(() -> assertThat(calls.get()).isEqualTo(2));
  }

  @Test
  void consumersOfEarlierRunsAreRemovedOnlyWhenTheyHoldNothing() {
    ForwardQueue q = new ForwardQueue(redis, keys(), "prunetest0000000");
    await(q.ensureGroup());
    await(q.add("mp", "<xml><MsgId>1</MsgId></xml>"));
    assertThat(await(q.read("holder", 10))).hasSize(1); // holds one entry, unfinished
    assertThat(await(q.read("empty", 10))).isEmpty();   // holds nothing
    sleep(20);
    await(q.pruneConsumers(5));
    var names = new ArrayList<String>();
    for (var c : await(redis.send(io.vertx.redis.client.Request.cmd(io.vertx.redis.client.Command.XINFO).arg("CONSUMERS")
        .arg(keys().inSlot("forward:prunetest0000000", "stream")).arg(ForwardQueue.GROUP)))) {
      names.add(c.get("name").toString());
    }
    assertThat(names).containsExactly("holder");
  }

  @Test
  void proxyModeReturnsTheOwnersPassiveReplyReEncryptedForWeChat() {
    WeChatMessageCrypto ownerCrypto = new WeChatMessageCrypto(OWNER_TOKEN, OWNER_KEY, APP_ID);
    String ownerReply = WeChatXml.build(new LinkedHashMap<>(Map.of("ToUserName", "oUser700", "FromUserName", "gh_0123456789ab",
        "MsgType", "text", "Content", "hi from the owner")));
    behaviour.put("/owner/proxy", req -> Future.succeededFuture(
        ownerCrypto.encryptedReply(ownerReply, req.query().get("timestamp"), req.query().get("nonce"))));
    gateway(Policy.of(5, Duration.ofSeconds(30)), true);
    HttpResponse<Buffer> answer = post("mp-proxy", push(text("700", "ask the owner")));
    String reply = new WeChatMessageCrypto(TOKEN, WECHAT_KEY, APP_ID).decryptReply(answer.bodyAsString());
    assertThat(WeChatXml.parse(reply)).containsEntry("Content", "hi from the owner");
    assertThat(WeChatXml.parse(openAsOwner(at("/owner/proxy").get(0)))).containsEntry("MsgId", "700");
    assertThat(count("scangate.forward.delivered", "proxy")).isEqualTo(1);
  }

  @Test
  void proxyModeAnswersSuccessWhenTheOwnerIsLate() {
    behaviour.put("/owner/proxy", req -> {
      io.vertx.core.Promise<String> late = io.vertx.core.Promise.promise();
      vertx.setTimer(8000, t -> late.complete("<xml><Content>too late</Content></xml>"));
      return late.future();
    });
    gateway(Policy.of(5, Duration.ofSeconds(30)), true);
    assertThat(post("mp-proxy", push(text("800", "owner is slow"))).bodyAsString()).isEqualTo("success");
    assertThat(at("/owner/proxy")).hasSize(1);
    assertThat(count("scangate.forward.failed", "proxy")).isEqualTo(1);
  }

  @Test
  void aLoginPushIsNeverHeldForAProxyOwnerButStillReachesIt() {
    behaviour.put("/owner/proxy", req -> io.vertx.core.Promise.<String>promise().future()); // would hold forever
    gateway(Policy.of(5, Duration.ofSeconds(30)), true);
    Map<String, Object> scan = Pushes.event("oScanner", "SCAN", "scene0123456789", Pushes.now());
    assertThat(post("mp-proxy", push(scan)).bodyAsString()).isEqualTo("success");
    eventually(() -> assertThat(at("/owner/proxy")).hasSize(1));
    assertThat(WeChatXml.parse(openAsOwner(at("/owner/proxy").get(0)))).containsEntry("Event", "SCAN");
  }

  @Test
  void ownerInFrontPassesWeChatsPushOnUnchangedAndItVerifies() {
    // The owner's server takes WeChat's push and relays the same query string and body to the gateway.
    List<String> relayed = new CopyOnWriteArrayList<>();
    List<JsonObject> events = new CopyOnWriteArrayList<>();
    vertx.eventBus().<JsonObject>consumer(WeChatEvents.ADDRESS, m -> events.add(m.body()));
    gateway(Policy.of(5, Duration.ofSeconds(30)), true);
    WebClient toGateway = TestHttp.client(vertx, gatewayPort);
    behaviour.put("/wechat", req -> {
      return toGateway.post("/connections/social/mp/pool1/events?" + req.rawQuery()).sendBuffer(Buffer.buffer(req.body()))
          .map(r -> {
            relayed.add(r.bodyAsString());
            return r.bodyAsString();
          });
    });
    Push push = push(Pushes.event("oFollower", "subscribe", null, Pushes.now()));
    WebClient wechat = TestHttp.client(vertx, ownerPort);
    assertThat(await(wechat.post("/wechat?" + push.query()).sendBuffer(Buffer.buffer(push.body()))).bodyAsString()).isEqualTo("success");
    assertThat(relayed).containsExactly("success");
    eventually(() -> assertThat(events).anySatisfy(e -> assertThat(e.getString("openid")).isEqualTo("oFollower")));
    toGateway.close();
    wechat.close();
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
