package io.scangate.webhook;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.scangate.config.ScanGateConfig;
import io.scangate.config.ScanGateConfig.ForwardMode;
import io.scangate.config.ScanGateConfig.ForwardTarget;
import io.scangate.config.ScanGateConfig.OfficialAccountConnection;
import io.scangate.redis.RedisKeys;
import io.scangate.util.Hashes;
import io.scangate.util.Randoms;
import io.scangate.wechat.WeChatMessageCrypto;
import io.scangate.wechat.WeChatXml;
import io.vertx.codegen.annotations.Nullable;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.redis.client.Redis;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Re-delivers every first-seen push to the connection's {@code forwardTo} targets (CONTRACT
 * section 5) as WeChat would: the same message XML, signed with the TARGET's token (and encrypted
 * with its EncodingAESKey, safe-mode envelope, when it has one) — never with the connection's —
 * with a fresh timestamp and nonce. {@code async} targets get the push through a durable Redis
 * queue ({@link ForwardQueue}) drained by every instance ({@link #startWorkers}); {@code proxy}
 * targets get non-login pushes at once and their passive reply goes back to WeChat (login pushes
 * are never held for the owner: they go through the queue like async ones).
 */
public final class Forwarder {

  private static final Logger log = LoggerFactory.getLogger(Forwarder.class);

  /** Timings and the retry budget; tests shorten them. */
  public record Policy(Duration requestTimeout, Duration proxyWait, Duration poll, Duration firstBackoff,
                       Duration maxBackoff, int attempts, Duration reclaimAfter) {
    /** 10 tries over about 20 minutes (1 s doubling, capped at 5 min); an in-flight entry is taken over after 1 min. */
    public static final Policy DEFAULT = new Policy(Duration.ofSeconds(5), Duration.ofSeconds(3), Duration.ofMillis(500),
        Duration.ofSeconds(1), Duration.ofMinutes(5), 10, Duration.ofMinutes(1));

    public Policy {
      // An entry still being delivered must not be taken over, or the owner would get it twice.
      if (reclaimAfter.compareTo(requestTimeout.multipliedBy(2)) < 0) {
        throw new IllegalArgumentException("reclaimAfter must be at least twice requestTimeout");
      }
      if (attempts < 1) throw new IllegalArgumentException("attempts must be at least 1");
    }
  }

  /** Entries read per target and round; a full batch starts the next round at once (a backlog drains without waiting). */
  static final int BATCH = 32;

  /** A consumer (an earlier run) idle this long with nothing pending is removed from the group. */
  static final Duration CONSUMER_IDLE = Duration.ofHours(1);

  /** One configured target of one connection, with its crypto (the target's token and key, the account's appid). */
  record Target(String id, String connection, ForwardTarget config, WeChatMessageCrypto crypto, String host,
                ForwardQueue queue, AtomicLong backlog) {}

  private final Vertx vertx;
  private final Policy policy;
  private final MeterRegistry metrics;
  private final WebClient web;
  private final Map<String, List<Target>> byConnection = new HashMap<>();
  private final List<Target> all = new ArrayList<>();
  private final String consumer = "gw-" + Randoms.urlSafe(9);
  private final List<Long> timers = new ArrayList<>();
  private final Map<String, Boolean> busy = new HashMap<>();
  private volatile boolean stopped;

  /** The registry this forwarder counts in (the webhook's push counts go there too). */
  MeterRegistry metrics() {
    return metrics;
  }

  public Forwarder(Vertx vertx, ScanGateConfig config, Redis redis, RedisKeys keys, MeterRegistry metrics, Policy policy) {
    this.vertx = vertx;
    this.policy = policy;
    this.metrics = metrics == null ? new io.micrometer.core.instrument.simple.SimpleMeterRegistry() : metrics;
    this.web = WebClient.create(vertx, new WebClientOptions().setFollowRedirects(false).setUserAgent("ScanGate-forwarder")
        .setConnectTimeout((int) policy.requestTimeout().toMillis()));
    for (var c : config.connections()) {
      if (!(c instanceof OfficialAccountConnection mp)) continue;
      List<Target> targets = new ArrayList<>();
      for (ForwardTarget t : mp.forwardTo()) {
        String id = Hashes.sha256Hex(mp.identifier() + "\n" + t.url()).substring(0, 16);
        String host = host(t.url());
        AtomicLong backlog = new AtomicLong();
        Target target = new Target(id, mp.identifier(), t, new WeChatMessageCrypto(t.token(), t.encodingAesKey(), mp.wechatAppId()),
            host, new ForwardQueue(redis, keys, id), backlog);
        {
          Gauge.builder("scangate.forward.backlog", backlog, AtomicLong::get).tag("target", host)
              .tag("connection", mp.identifier()).tag("id", id)
              .description("Pushes queued for a forwarding target (new, in flight or waiting for a retry)").register(this.metrics);
        }
        targets.add(target);
        all.add(target);
      }
      byConnection.put(mp.identifier(), List.copyOf(targets));
    }
  }

  long proxyWaitMs() {
    return policy.proxyWait().toMillis();
  }

  /** True when the connection has a target of mode proxy and the push is not a login. */
  boolean proxies(String connection, JsonObject event) {
    if (isLogin(event)) return false;
    return byConnection.getOrDefault(connection, List.of()).stream().anyMatch(t -> t.config().mode() == ForwardMode.PROXY);
  }

  /** A login push: subscribe with a QR scene, or SCAN. Never held for the owner. */
  static boolean isLogin(JsonObject event) {
    String ev = event.getString("event");
    String key = event.getString("eventKey");
    return "SCAN".equals(ev) || ("subscribe".equals(ev) && key != null && key.startsWith("qrscene_")) || event.getString("scene") != null;
  }

  /**
   * Queues the push for each async target (and for proxy targets when it is a login, or when
   * {@code proxied} is false). Completes when Redis has it: durable before WeChat gets its answer.
   */
  Future<Void> enqueue(String connection, String message, JsonObject event) {
    boolean login = isLogin(event);
    List<Future<Void>> added = new ArrayList<>();
    for (Target t : byConnection.getOrDefault(connection, List.of())) {
      if (t.config().mode() == ForwardMode.ASYNC || login) {
        added.add(t.queue().add(connection, message).onSuccess(v -> t.backlog().incrementAndGet())
            .onFailure(e -> {
              counter("scangate.forward.dropped", t).increment();
              log.atError().addKeyValue("connection", connection).addKeyValue("target", t.host())
                  .addKeyValue("reason", String.valueOf(e.getMessage())).log("push not queued for forwarding: Redis refused it");
            }));
      }
    }
    return Future.join(added).mapEmpty();
  }

  /**
   * Sends a non-login push to the proxy targets at once and answers the first passive reply (the
   * owner's plaintext XML, decrypted when the target encrypts), or null when none comes within
   * {@code waitMs} — or an owner answers {@code success}/nothing.
   */
  Future<@Nullable String> proxy(String connection, String message, long waitMs) {
    List<Future<String>> replies = new ArrayList<>();
    for (Target t : byConnection.getOrDefault(connection, List.of())) {
      if (t.config().mode() != ForwardMode.PROXY) continue;
      replies.add(send(t, message, waitMs).map(r -> {
        counter("scangate.forward.delivered", t).increment();
        return ownerReply(t, r);
      }).recover(e -> {
        counter("scangate.forward.failed", t).increment();
        log.atWarn().addKeyValue("connection", connection).addKeyValue("target", t.host())
            .addKeyValue("reason", String.valueOf(e.getMessage())).log("proxy target gave no reply in time; WeChat gets success");
        return Future.succeededFuture((String) null);
      }));
    }
    return Future.join(replies).transform(done -> {
      for (Future<String> f : replies) {
        if (f.succeeded() && f.result() != null) return Future.succeededFuture(f.result());
      }
      return Future.succeededFuture((String) null);
    });
  }

  /** The owner's passive reply as plaintext, or null for success, an empty body, or an undecryptable one. */
  private static @Nullable String ownerReply(Target t, HttpResponse<Buffer> r) {
    if (r.statusCode() / 100 != 2 || r.body() == null) return null;
    String body = r.bodyAsString().trim();
    if (body.isEmpty() || "success".equalsIgnoreCase(body)) return null;
    try {
      Map<String, String> fields = WeChatXml.parse(body);
      if (fields.containsKey("Encrypt")) {
        if (!t.crypto().canEncrypt()) return null;
        return t.crypto().decryptReply(body);
      }
      return body;
    } catch (WeChatXml.MalformedXmlException | WeChatMessageCrypto.CryptoException e) {
      log.atWarn().addKeyValue("target", t.host()).log("proxy target's reply is not a valid WeChat reply; WeChat gets success");
      return null;
    }
  }

  /** POSTs the push to the target as WeChat would; a non-2xx answer is a failure. */
  Future<HttpResponse<Buffer>> send(Target t, String message, long timeoutMs) {
    String timestamp = String.valueOf(System.currentTimeMillis() / 1000);
    String nonce = String.valueOf(1_000_000_000L + (Randoms.nextLong() & Long.MAX_VALUE) % 9_000_000_000L);
    String openid = "";
    String toUser = "";
    try {
      Map<String, String> fields = WeChatXml.parse(message);
      openid = fields.getOrDefault("FromUserName", "");
      toUser = fields.getOrDefault("ToUserName", "");
    } catch (WeChatXml.MalformedXmlException e) {
      return Future.failedFuture(e); // cannot happen: the webhook parsed it before queueing
    }
    StringBuilder query = new StringBuilder("signature=").append(t.crypto().sign(timestamp, nonce))
        .append("&timestamp=").append(timestamp).append("&nonce=").append(nonce)
        .append("&openid=").append(URLEncoder.encode(openid, StandardCharsets.UTF_8));
    String body = message;
    if (t.crypto().canEncrypt()) {
      String encrypt = t.crypto().encrypt(message);
      query.append("&encrypt_type=aes&msg_signature=").append(t.crypto().sign(timestamp, nonce, encrypt));
      body = t.crypto().encryptedPush(toUser, encrypt);
    }
    String url = t.config().url();
    String absolute = url + (url.contains("?") ? "&" : "?") + query;
    return web.postAbs(absolute).timeout(timeoutMs).putHeader("Content-Type", "text/xml; charset=utf-8")
        .sendBuffer(Buffer.buffer(body))
        // The request's own timeout is one of silence; this bounds the whole exchange (a trickling server too).
        .timeout(timeoutMs, java.util.concurrent.TimeUnit.MILLISECONDS)
        .compose(r -> r.statusCode() / 100 == 2 ? Future.succeededFuture(r)
            : Future.failedFuture(new IllegalStateException("target answered HTTP " + r.statusCode())));
  }

  // ---- the queue's workers ----

  /** Drains every async queue from this instance every {@code policy.poll}: due retries, abandoned entries, new entries. */
  public Future<Void> startWorkers() {
    List<Future<Void>> groups = new ArrayList<>();
    for (Target t : all) {
      groups.add(t.queue().ensureGroup().compose(v -> t.queue().pruneConsumers(CONSUMER_IDLE.toMillis())
          .recover(e -> Future.succeededFuture()))); // tidying only: never stops the start
    }
    return Future.join(groups).<Void>mapEmpty().onSuccess(v -> {
      for (Target t : all) {
        timers.add(vertx.setPeriodic(0, policy.poll().toMillis(), id -> tick(t)));
      }
    });
  }

  public void stop() {
    stopped = true;
    timers.forEach(vertx::cancelTimer);
    web.close();
  }

  private void tick(Target t) {
    if (stopped || Boolean.TRUE.equals(busy.get(t.id()))) return;
    busy.put(t.id(), true);
    ForwardQueue q = t.queue();
    q.promote(System.currentTimeMillis(), 100)
        .compose(n -> q.reclaim(consumer, policy.reclaimAfter().toMillis(), BATCH))
        .compose(reclaimed -> q.read(consumer, BATCH).map(fresh -> {
          List<ForwardQueue.Item> items = new ArrayList<>(reclaimed);
          items.addAll(fresh);
          return items;
        }))
        .compose(items -> Future.join(items.stream().map(item -> deliver(t, item)).toList()).map(items.size()))
        .compose(n -> q.backlog().map(backlog -> {
          t.backlog().set(backlog);
          return n;
        }))
        .onComplete(done -> {
          busy.put(t.id(), false);
          if (done.failed() && !stopped) {
            log.atDebug().addKeyValue("target", t.host()).addKeyValue("reason", String.valueOf(done.cause().getMessage()))
                .log("forward queue not drained this round");
          } else if (done.succeeded() && done.result() >= BATCH && !stopped) {
            vertx.runOnContext(v -> tick(t));
          }
        });
  }

  private Future<Void> deliver(Target t, ForwardQueue.Item item) {
    if (stopped) return Future.succeededFuture();
    return send(t, item.message(), policy.requestTimeout().toMillis())
        .compose(r -> {
          counter("scangate.forward.delivered", t).increment();
          return t.queue().done(item);
        })
        .recover(e -> {
          counter("scangate.forward.failed", t).increment();
          int tried = item.attempts() + 1;
          if (tried >= policy.attempts()) {
            counter("scangate.forward.dropped", t).increment();
            log.atError().addKeyValue("connection", item.connection()).addKeyValue("target", t.host()).addKeyValue("attempts", tried)
                .addKeyValue("reason", String.valueOf(e.getMessage())).log("forwarded push dropped: the target failed every try");
            return t.queue().done(item);
          }
          counter("scangate.forward.retried", t).increment();
          long backoff = Math.min(policy.maxBackoff().toMillis(), policy.firstBackoff().toMillis() << Math.min(20, item.attempts()));
          return t.queue().retryAt(item, System.currentTimeMillis() + backoff);
        });
  }

  private Counter counter(String name, Target t) {
    return Counter.builder(name).tag("target", t.host()).tag("mode", t.config().mode().name().toLowerCase(java.util.Locale.ROOT))
        .register(metrics);
  }

  private static String host(String url) {
    try {
      String h = URI.create(url).getHost();
      return h == null ? "unknown" : h;
    } catch (IllegalArgumentException e) {
      return "unknown";
    }
  }
}
