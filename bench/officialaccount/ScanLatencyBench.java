import io.scangate.redis.RedisKeys;
import io.scangate.wechat.WeChatMessageCrypto;
import io.scangate.wechat.WeChatXml;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;

import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Load client for bench/officialaccount/scan-latency.sh (java -cp target/scangate.jar
 * bench/officialaccount/ScanLatencyBench.java BASE_URL CONFIG_YAML WAITING SECONDS RATE...).
 *
 * <p>Holds WAITING browsers on sessions nobody scans (SSE), then, per RATE (logins per second),
 * opens RATE × SECONDS more sessions with an SSE stream each and sends one safe-mode SCAN push per
 * session to the webhook on a fixed schedule (open loop: a send is never delayed by a slow answer).
 * Latency = the CONFIRMED event's arrival on that session's stream minus the push's scheduled send
 * time, so a queue anywhere on the path (this client included) counts against the gateway, never
 * for it. Each push is a new WeChat user (own openid): the login creates a user in PostgreSQL.
 */
public class ScanLatencyBench {

  static Vertx vertx;
  static HttpClient streams;
  static HttpClient calls;
  static String connection = "wechat-mp";
  static String appId;
  static RedisKeys keys;
  static Redis redis;

  public static void main(String[] args) throws Exception {
    URI base = URI.create(args[0]);
    String yaml = Files.readString(Path.of(args[1]));
    int waiting = Integer.parseInt(args[2]);
    int seconds = Integer.parseInt(args[3]);
    List<Integer> rates = new ArrayList<>();
    // First a warm-up pass (its figures are printed but are not results): the JIT compiles the path.
    int warmup = Integer.parseInt(System.getenv().getOrDefault("WARMUP_LOGINS", "3000"));
    if (warmup > 0) rates.add(-warmup);
    for (int i = 4; i < args.length; i++) rates.add(Integer.parseInt(args[i]));
    WeChatMessageCrypto crypto = new WeChatMessageCrypto(yamlValue(yaml, "token"), yamlValue(yaml, "encodingAesKey"),
        yamlValue(yaml, "wechatAppId"));

    vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
    appId = yamlValue(yaml, "wechatAppId");
    keys = new RedisKeys(yamlValue(yaml, "keyPrefix"));
    redis = Redis.createClient(vertx, new RedisOptions().setConnectionString(
        System.getenv().getOrDefault("SCANGATE_REDIS_URL", "redis://127.0.0.1:6379")).setMaxPoolWaiting(100_000));
    streams = vertx.createHttpClient(new HttpClientOptions().setDefaultHost(base.getHost()).setDefaultPort(base.getPort())
        .setKeepAlive(true).setIdleTimeout(0), new PoolOptions().setHttp1MaxSize(200_000).setMaxWaitQueueSize(-1));
    calls = vertx.createHttpClient(new HttpClientOptions().setDefaultHost(base.getHost()).setDefaultPort(base.getPort())
        .setKeepAlive(true), new PoolOptions().setHttp1MaxSize(256).setMaxWaitQueueSize(-1));

    long t0 = System.nanoTime();
    List<JsonObject> idle = createSessions(waiting);
    for (JsonObject s : idle) openSse(s.getString("sessionId"), null);
    double held = awaitWaiters(waiting);
    System.out.printf("holding %.0f waiting browsers (SSE) on unscanned codes, set up in %.1f s%n", held, (System.nanoTime() - t0) / 1e9);

    String run = Long.toString(System.nanoTime(), 36);
    int pass = 0;
    for (int planned : rates) {
      pass++;
      boolean warming = planned < 0;
      int rate = warming ? 300 : planned;
      int n = warming ? -planned : rate * seconds;
      List<JsonObject> sessions = createSessions(n);
      List<Promise<Long>> confirmed = new ArrayList<>(n);
      for (JsonObject s : sessions) {
        Promise<Long> p = Promise.promise();
        confirmed.add(p);
        openSse(s.getString("sessionId"), p);
      }
      double before = awaitWaiters(held + n);
      // Pushes are built before the clock starts, as WeChat would send them: a new user each, who
      // follows the account (the sandbox's user/info knows them, as WeChat knows its followers).
      List<String[]> pushes = new ArrayList<>(n);
      List<Future<?>> followers = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        // Unique per pass: every push is a first login (the warm-up and a repeated rate included).
        String openid = "o-lat-" + run + "-" + pass + "-" + i;
        pushes.add(push(crypto, openid, sessions.get(i).getString("scene"), i));
        followers.add(redis.send(Request.cmd(Command.SET).arg(keys.key("sandbox", "follower", appId, openid))
            .arg(new JsonObject().put("openid", openid).put("subscribe", 1).put("subscribeTime", System.currentTimeMillis() / 1000)
                .encode()).arg("PX").arg(3_600_000)));
      }
      Future.all(followers).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);

      // This client's own garbage from building the pushes is collected before the clock starts:
      // its pauses would count against the gateway.
      System.gc();
      Thread.sleep(500);
      Map<String, AtomicInteger> answers = new ConcurrentHashMap<>();
      long[] scheduled = new long[n];
      long[] answered = new long[n];
      long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(200);
      long interval = 1_000_000_000L / rate;
      for (int i = 0; i < n; i++) {
        long at = start + i * interval;
        long wait;
        while ((wait = at - System.nanoTime()) > 0) LockSupport.parkNanos(wait);
        scheduled[i] = at;
        String[] r = pushes.get(i);
        int index = i;
        calls.request(HttpMethod.POST, r[0])
            .compose(req -> req.putHeader("Content-Type", "text/xml").send(Buffer.buffer(r[1])))
            .compose(resp -> resp.body().map(b -> {
              answered[index] = System.nanoTime();
              return resp.statusCode() + " " + b;
            }))
            .recover(e -> Future.succeededFuture("error " + e.getClass().getSimpleName()))
            .onSuccess(a -> answers.computeIfAbsent(a, k -> new AtomicInteger()).incrementAndGet());
      }
      double sendSeconds = (System.nanoTime() - start) / 1e9;
      List<Double> latencies = new ArrayList<>(n);
      int lost = 0;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      for (int i = 0; i < n; i++) {
        try {
          long left = Math.max(1, deadline - System.nanoTime());
          long arrived = confirmed.get(i).future().toCompletionStage().toCompletableFuture().get(left, TimeUnit.NANOSECONDS);
          latencies.add((arrived - scheduled[i]) / 1e6);
        } catch (Exception e) {
          lost++;
        }
      }
      // LATENCY_CSV=dir: one row per push (send offset, webhook answer, SSE event), to see where the slow ones cluster.
      String csv = System.getenv("LATENCY_CSV");
      if (csv != null && !warming && latencies.size() == n) {
        StringBuilder rows = new StringBuilder("sent_ms,answer_ms,confirmed_ms\n");
        for (int i = 0; i < n; i++) {
          rows.append(String.format("%.1f,%.2f,%.2f%n", (scheduled[i] - start) / 1e6, (answered[i] - scheduled[i]) / 1e6, latencies.get(i)));
        }
        Files.writeString(Path.of(csv, "latency-" + rate + "-started-" + (System.currentTimeMillis() - (System.nanoTime() - start) / 1_000_000) + ".csv"), rows);
      }
      Collections.sort(latencies);
      System.out.printf((warming ? "warm-up: " : "") + "rate %d logins/s (%d pushes sent in %.2f s, %.0f browsers waiting): webhook POST → SSE CONFIRMED"
              + " p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms; not confirmed %d; answers %s%n",
          rate, n, sendSeconds, before, pct(latencies, 50), pct(latencies, 95), pct(latencies, 99),
          latencies.isEmpty() ? Double.NaN : latencies.get(latencies.size() - 1), lost, new TreeMap<>(answers));
      Thread.sleep(2_000); // let the finished streams close before the next rate
      held = gauge("scangate_qr_waiters");
    }
    vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  /** A safe-mode SCAN push for a user who already follows the account: [path?query, body]. */
  static String[] push(WeChatMessageCrypto crypto, String openid, String scene, int i) {
    String timestamp = Long.toString(System.currentTimeMillis() / 1000);
    String nonce = Integer.toString(100_000_000 + i);
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("ToUserName", "gh_bench");
    fields.put("FromUserName", openid);
    fields.put("CreateTime", timestamp);
    fields.put("MsgType", "event");
    fields.put("Event", "SCAN");
    fields.put("EventKey", scene);
    fields.put("Ticket", "ticket-" + i);
    String encrypt = crypto.encrypt(WeChatXml.build(fields));
    String query = "signature=" + crypto.sign(timestamp, nonce) + "&timestamp=" + timestamp + "&nonce=" + nonce
        + "&openid=" + URLEncoder.encode(openid, StandardCharsets.UTF_8) + "&encrypt_type=aes&msg_signature="
        + crypto.sign(timestamp, nonce, encrypt);
    return new String[] {"/connections/social/" + connection + "/default/events?" + query, crypto.encryptedPush("gh_bench", encrypt)};
  }

  static List<JsonObject> createSessions(int count) throws Exception {
    List<JsonObject> results = Collections.synchronizedList(new ArrayList<>());
    for (int start = 0; start < count; start += 200) {
      List<Future<JsonObject>> batch = new ArrayList<>();
      for (int i = start; i < Math.min(count, start + 200); i++) {
        batch.add(json(HttpMethod.POST, "/api/v1/qr/sessions", new JsonObject().put("appId", "bench").put("connection", connection))
            .onSuccess(results::add));
      }
      Future.all(batch).toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
    }
    return results;
  }

  static Future<JsonObject> json(HttpMethod method, String path, JsonObject body) {
    return calls.request(method, path).compose(req -> req.putHeader("Content-Type", "application/json")
        .send(body == null ? Buffer.buffer() : body.toBuffer())
        .compose(resp -> resp.body().map(b -> {
          if (resp.statusCode() >= 300) throw new IllegalStateException(method + " " + path + " → " + resp.statusCode() + " " + b);
          return b.length() == 0 ? new JsonObject() : b.toJsonObject();
        })));
  }

  /** Opens an SSE stream; completes {@code confirmed} with the arrival time of a CONFIRMED event. */
  static void openSse(String id, Promise<Long> confirmed) {
    streams.request(HttpMethod.GET, "/api/v1/qr/sessions/" + id + "/events")
        .compose(req -> req.putHeader("Accept", "text/event-stream").send())
        .onSuccess((HttpClientResponse resp) -> resp.handler(chunk -> {
          if (confirmed != null && chunk.toString().contains("\"status\":\"CONFIRMED\"")) confirmed.tryComplete(System.nanoTime());
        }))
        .onFailure(e -> {
          System.err.println("SSE failed: " + e.getMessage());
          if (confirmed != null) confirmed.tryFail(e);
        });
  }

  static double awaitWaiters(double count) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
    double waiters = 0;
    while (System.nanoTime() < deadline) {
      waiters = gauge("scangate_qr_waiters");
      if (waiters >= count) break;
      Thread.sleep(200);
    }
    return waiters;
  }

  static double gauge(String name) throws Exception {
    String text = calls.request(HttpMethod.GET, "/metrics").compose(r -> r.send().compose(HttpClientResponse::body))
        .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS).toString();
    Matcher m = Pattern.compile("(?m)^" + name + "(\\{[^}]*})? ([0-9.eE+-]+)$").matcher(text);
    return m.find() ? Double.parseDouble(m.group(2)) : 0;
  }

  static String yamlValue(String yaml, String key) {
    Matcher m = Pattern.compile("(?m)[\\s{,]" + key + ":\\s*\"([^\"]*)\"").matcher(yaml);
    if (!m.find()) throw new IllegalArgumentException(key + " not found in the benchmark configuration");
    return m.group(1);
  }

  static double pct(List<Double> sorted, int p) {
    if (sorted.isEmpty()) return Double.NaN;
    return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1));
  }
}
