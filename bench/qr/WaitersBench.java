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

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Load client for bench/qr/waiters.sh: run with the gateway's jar on the class path
 * (java -cp target/scangate.jar bench/qr/WaitersBench.java BASE_URL SERVER_PID COUNT SAMPLES).
 */
public class WaitersBench {

  static Vertx vertx;
  static HttpClient http;

  public static void main(String[] args) throws Exception {
    URI base = URI.create(args[0]);
    long serverPid = Long.parseLong(args[1]);
    int count = Integer.parseInt(args[2]);
    int samples = Integer.parseInt(args[3]);
    vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
    http = vertx.createHttpClient(new HttpClientOptions().setDefaultHost(base.getHost()).setDefaultPort(base.getPort())
        .setKeepAlive(true).setIdleTimeout(0), new PoolOptions().setHttp1MaxSize(count + 2_000).setMaxWaitQueueSize(-1));

    long heapBefore = heapUsedAfterGc(serverPid);
    long rssBefore = rss(serverPid);
    System.out.printf("server before: live heap %.1f MiB, RSS %.1f MiB%n", heapBefore / 1048576.0, rssBefore / 1048576.0);

    long t0 = System.nanoTime();
    List<String> ids = inBatches(count, 200, i -> createSession().map(s -> s.getString("sessionId")));
    System.out.printf("created %d sessions in %.1f s%n", ids.size(), (System.nanoTime() - t0) / 1e9);

    AtomicInteger sse = new AtomicInteger();
    AtomicInteger polls = new AtomicInteger();
    for (int i = 0; i < ids.size(); i++) {
      if (i % 2 == 0) openSse(ids.get(i), sse, null);
      else longPoll(ids.get(i), polls);
      if (i % 500 == 499) Thread.sleep(20); // let the loops accept
    }
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
    double waiters = 0;
    while (System.nanoTime() < deadline) {
      waiters = gauge("scangate_qr_waiters");
      if (waiters >= count) break;
      Thread.sleep(500);
    }
    System.out.printf("waiters held by the server: %.0f (SSE opened %d, long polls %d)%n", waiters, sse.get(), polls.get());

    long heapAfter = heapUsedAfterGc(serverPid);
    long rssAfter = rss(serverPid);
    System.out.printf("server with waiters: live heap %.1f MiB, RSS %.1f MiB%n", heapAfter / 1048576.0, rssAfter / 1048576.0);
    System.out.printf("per waiter: heap %.2f KB, RSS %.2f KB%n",
        (heapAfter - heapBefore) / 1024.0 / Math.max(1, waiters), (rssAfter - rssBefore) / 1024.0 / Math.max(1, waiters));

    List<Double> latencies = new ArrayList<>();
    for (int i = 0; i < samples; i++) latencies.add(confirmToSseMillis());
    Collections.sort(latencies);
    if (samples > 0) System.out.printf("confirm call → SSE CONFIRMED event, %d samples with %.0f waiters held: p50 %.2f ms, p95 %.2f ms, p99 %.2f ms, max %.2f ms%n",
        samples, waiters, pct(latencies, 50), pct(latencies, 95), pct(latencies, 99), latencies.get(latencies.size() - 1));
    vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  static Future<JsonObject> createSession() {
    return json(HttpMethod.POST, "/api/v1/qr/sessions", new JsonObject().put("appId", "bench").put("connection", "wechat-mini-qr"));
  }

  static Future<JsonObject> json(HttpMethod method, String path, JsonObject body) {
    return http.request(method, path).compose(req -> req.putHeader("Content-Type", "application/json")
        .send(body == null ? Buffer.buffer() : body.toBuffer())
        .compose(resp -> resp.body().map(b -> {
          if (resp.statusCode() >= 300) throw new IllegalStateException(method + " " + path + " → " + resp.statusCode() + " " + b);
          return b.length() == 0 ? new JsonObject() : b.toJsonObject();
        })));
  }

  /** Opens an SSE stream; completes {@code confirmed} when a CONFIRMED event arrives. */
  static void openSse(String id, AtomicInteger opened, Promise<Long> confirmed) {
    http.request(HttpMethod.GET, "/api/v1/qr/sessions/" + id + "/events")
        .compose(req -> req.putHeader("Accept", "text/event-stream").send())
        .onSuccess((HttpClientResponse resp) -> {
          opened.incrementAndGet();
          resp.handler(chunk -> {
            if (confirmed != null && chunk.toString().contains("\"status\":\"CONFIRMED\"")) confirmed.tryComplete(System.nanoTime());
          });
        })
        .onFailure(e -> System.err.println("SSE failed: " + e.getMessage()));
  }

  /** A long poll that re-arms itself when it returns unchanged, as a browser would. */
  static void longPoll(String id, AtomicInteger opened) {
    opened.incrementAndGet();
    http.request(HttpMethod.GET, "/api/v1/qr/sessions/" + id + "?waitSeconds=60&since=PENDING")
        .compose(req -> req.send().compose(HttpClientResponse::body))
        .onSuccess(b -> {
          if (b.toString().contains("\"PENDING\"")) longPoll(id, new AtomicInteger());
        })
        .onFailure(e -> System.err.println("long poll failed: " + e.getMessage()));
  }

  static double confirmToSseMillis() throws Exception {
    JsonObject session = createSession().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    Promise<Long> confirmed = Promise.promise();
    AtomicInteger opened = new AtomicInteger();
    openSse(session.getString("sessionId"), opened, confirmed);
    while (opened.get() == 0) Thread.sleep(1);
    String scene = session.getString("scene");
    JsonObject codes = json(HttpMethod.POST, "/sandbox/control/miniprogram/code", new JsonObject().put("appId", "wxbenchmini000001"))
        .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    JsonObject scan = json(HttpMethod.POST, "/api/v1/miniprogram/qr/" + scene + "/scan",
        new JsonObject().put("connection", "wechat-mini-qr").put("code", codes.getString("code")))
        .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    Thread.sleep(5); // let the SCANNED event pass
    long start = System.nanoTime();
    json(HttpMethod.POST, "/api/v1/miniprogram/qr/" + scene + "/confirm", new JsonObject().put("scanToken", scan.getString("scanToken")));
    long end = confirmed.future().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    return (end - start) / 1e6;
  }

  static <T> List<T> inBatches(int count, int concurrency, Function<Integer, Future<T>> task) throws Exception {
    List<T> results = Collections.synchronizedList(new ArrayList<>());
    for (int start = 0; start < count; start += concurrency) {
      List<Future<T>> batch = new ArrayList<>();
      for (int i = start; i < Math.min(count, start + concurrency); i++) batch.add(task.apply(i).onSuccess(results::add));
      Future.all(batch).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }
    return results;
  }

  static double gauge(String name) throws Exception {
    String text = http.request(HttpMethod.GET, "/metrics").compose(r -> r.send().compose(HttpClientResponse::body))
        .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS).toString();
    Matcher m = Pattern.compile("(?m)^" + name + "(\\{[^}]*})? ([0-9.eE+-]+)$").matcher(text);
    return m.find() ? Double.parseDouble(m.group(2)) : 0;
  }

  /** Bytes of live objects: the class histogram's total, taken after a full GC (region slack excluded). */
  static long heapUsedAfterGc(long pid) throws Exception {
    String histogram = run("jcmd", Long.toString(pid), "GC.class_histogram");
    Matcher m = Pattern.compile("(?m)^Total\\s+\\d+\\s+(\\d+)").matcher(histogram);
    if (!m.find()) throw new IllegalStateException("cannot read the class histogram");
    return Long.parseLong(m.group(1));
  }

  static long rss(long pid) throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
    }
    return 0;
  }

  static String run(String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    p.waitFor(60, TimeUnit.SECONDS);
    return out;
  }

  static double pct(List<Double> sorted, int p) {
    return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1));
  }
}
