import io.vertx.core.json.JsonObject;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Load client for bench/soak/soak.sh (run with the gateway's jar on the class path):
 *   java -cp target/scangate.jar bench/soak/SoakBench.java BASE_A PID_A BASE_B PID_B MINUTES WORKERS WARMUP_MINUTES RATE
 *
 * Mixed traffic on two instances sharing Redis and PostgreSQL, every step of a login on a random
 * instance: mini program QR logins (the browser waits by SSE or long poll on one instance, the
 * phone scans and confirms on the other), Official Account logins (the sandbox pushes the scan to
 * the webhook), silent mini program logins, exchanges, /auth/verify on both instances, refreshes,
 * and a second exchange of some tickets (must be refused). Checks at the end: every confirmed
 * session exchanged exactly once (none lost, none twice), no error answers, and each server's
 * live heap after a full GC (jcmd GC.class_histogram) within 10 % of the one after the warm-up.
 * The warm-up (same traffic) must outlast the gateway's time-bounded caches — the verified-token
 * cache keeps a token 10 minutes — or the heap is measured while they still fill. The load is
 * paced (RATE scenarios a second in all), so those caches' steady state does not follow the
 * machine's other load; a worker that falls behind runs as fast as it can.
 */
public class SoakBench {

  static final String APP = "soak";
  static final String SECRET = "soak-app-secret-0123456789";
  static final String MINI_APPID = "wxsoakmini0000001";
  static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  static final ExecutorService streams = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "sse");
    t.setDaemon(true);
    return t;
  });

  static String[] bases;
  static final AtomicLong sessions = new AtomicLong();
  static final AtomicLong confirmed = new AtomicLong();
  static final AtomicLong seenConfirmed = new AtomicLong();
  static final AtomicLong exchanged = new AtomicLong();
  static final AtomicLong secondExchangesRefused = new AtomicLong();
  static final AtomicLong secondExchangesAccepted = new AtomicLong();
  static final AtomicLong silentLogins = new AtomicLong();
  static final AtomicLong verifications = new AtomicLong();
  static final AtomicLong refreshes = new AtomicLong();
  static final AtomicLong pushes = new AtomicLong();
  static final AtomicLong requests = new AtomicLong();
  static final AtomicLong errors = new AtomicLong();
  static final List<String> errorSamples = new CopyOnWriteArrayList<>();
  /** Tickets of confirmed sessions not yet exchanged: what is left at the end was lost. */
  static final Map<String, String> unexchanged = new ConcurrentHashMap<>();
  static volatile boolean stopping;

  public static void main(String[] args) throws Exception {
    bases = new String[] {args[0], args[2]};
    long[] pids = {Long.parseLong(args[1]), Long.parseLong(args[3])};
    double minutes = Double.parseDouble(args[4]);
    int workers = Integer.parseInt(args[5]);

    System.out.printf("soak: %.1f min after a %s min warm-up, %d workers, %s scenarios/s, instances %s and %s%n", minutes, args[6],
        workers, args[7], bases[0], bases[1]);
    double warmupMinutes = Double.parseDouble(args[6]);
    interval = (long) (1e9 / Double.parseDouble(args[7]));
    // Warm-up: the same traffic until JIT, pools and time-bounded caches are in their steady state.
    long warmupMs = (long) (warmupMinutes * 60_000);
    runFor(workers, warmupMs);
    Map<String, Long> classesA = histogram(pids[0]);
    Map<String, Long> classesB = histogram(pids[1]);
    long[] heapStart = {classesA.get("Total"), classesB.get("Total")};
    System.out.printf("after %d s warm-up: live heap A %.1f MiB, B %.1f MiB%n", warmupMs / 1000, heapStart[0] / 1048576.0,
        heapStart[1] / 1048576.0);
    resetCounts();
    long t0 = System.nanoTime();
    runFor(workers, (long) (minutes * 60_000));
    double seconds = (System.nanoTime() - t0) / 1e9;
    // Let every exchange in flight finish, then look at what is left.
    Map<String, Long> endA = histogram(pids[0]);
    Map<String, Long> endB = histogram(pids[1]);
    long[] heapEnd = {endA.get("Total"), endB.get("Total")};

    System.out.printf("ran %.0f s: %d requests (%.0f/s), %d QR sessions, %d confirmed (%d seen by the waiting browser),"
            + " %d exchanged, %d second exchanges refused (%d accepted), %d silent logins, %d pushes, %d verifications,"
            + " %d refreshes%n",
        seconds, requests.get(), requests.get() / seconds, sessions.get(), confirmed.get(), seenConfirmed.get(), exchanged.get(),
        secondExchangesRefused.get(), secondExchangesAccepted.get(), silentLogins.get(), pushes.get(), verifications.get(),
        refreshes.get());
    long lost = unexchanged.size();
    System.out.printf("lost confirmations: %d; error answers: %d%n", lost, errors.get());
    errorSamples.stream().limit(10).forEach(s -> System.out.println("  error: " + s));
    boolean heapFlat = true;
    for (int i = 0; i < 2; i++) {
      double change = (heapEnd[i] - heapStart[i]) * 100.0 / heapStart[i];
      heapFlat &= Math.abs(change) <= 10.0;
      System.out.printf("live heap %s: %.1f MiB → %.1f MiB (%+.1f %%)%n", i == 0 ? "A" : "B", heapStart[i] / 1048576.0,
          heapEnd[i] / 1048576.0, change);
    }
    printGrowth("A", classesA, endA);
    printGrowth("B", classesB, endB);
    boolean ok = lost == 0 && errors.get() == 0 && secondExchangesAccepted.get() == 0 && heapFlat
        && exchanged.get() == confirmed.get() && confirmed.get() > 0;
    System.out.println(ok ? "SOAK PASSED" : "SOAK FAILED");
    System.exit(ok ? 0 : 1);
  }

  static void resetCounts() {
    for (AtomicLong a : List.of(sessions, confirmed, seenConfirmed, exchanged, secondExchangesRefused, secondExchangesAccepted,
        silentLogins, verifications, refreshes, pushes, requests)) a.set(0);
    // errors and unexchanged carry over: the warm-up must not lose anything either.
  }

  static void runFor(int workers, long millis) throws Exception {
    stopping = false;
    ExecutorService pool = Executors.newFixedThreadPool(workers);
    long end = System.currentTimeMillis() + millis;
    List<Future<?>> running = new ArrayList<>();
    for (int w = 0; w < workers; w++) {
      running.add(pool.submit(() -> {
        while (System.currentTimeMillis() < end) {
          try {
            pace();
            int pick = ThreadLocalRandom.current().nextInt(10);
            if (pick < 6) miniProgramQrLogin();
            else if (pick < 8) officialAccountLogin();
            else silentLogin();
          } catch (Exception e) {
            error("exception " + e);
          }
        }
        return null;
      }));
    }
    for (Future<?> f : running) f.get(millis + 120_000, TimeUnit.MILLISECONDS);
    pool.shutdown();
  }

  static long interval;
  static long nextStart = System.nanoTime();

  /** Waits for this worker's turn: one scenario every {@code interval} ns across all workers. */
  static void pace() throws InterruptedException {
    long mine;
    synchronized (SoakBench.class) {
      nextStart = Math.max(nextStart + interval, System.nanoTime() - 10 * interval); // no bursts after falling behind
      mine = nextStart;
    }
    long wait = mine - System.nanoTime();
    if (wait > 0) TimeUnit.NANOSECONDS.sleep(wait);
  }

  // ---- scenarios

  static void miniProgramQrLogin() throws Exception {
    String browser = instance();
    String phone = instance();
    JsonObject session = expect(201, post(browser, "/api/v1/qr/sessions", new JsonObject().put("appId", APP).put("connection", "wechat-mini-qr")));
    if (session == null) return;
    sessions.incrementAndGet();
    String id = session.getString("sessionId");
    String waitOn = instance();
    boolean sse = ThreadLocalRandom.current().nextBoolean();
    Future<String> ticket = sse ? streams.submit(() -> sseUntilConfirmed(waitOn, id)) : streams.submit(() -> pollUntilConfirmed(waitOn, id));
    Thread.sleep(20); // the browser is waiting before the phone scans (not required: the first read answers either way)
    JsonObject codes = code(phone);
    if (codes == null) return;
    JsonObject scanned = expect(200, post(phone, "/api/v1/miniprogram/qr/" + session.getString("scene") + "/scan",
        new JsonObject().put("connection", "wechat-mini-qr").put("code", codes.getString("code"))));
    if (scanned == null) return;
    JsonObject done = expect(200, post(instance(), "/api/v1/miniprogram/qr/" + session.getString("scene") + "/confirm",
        new JsonObject().put("scanToken", scanned.getString("scanToken")).put("phoneCode", codes.getString("phoneCode"))));
    if (done == null) return;
    confirmed.incrementAndGet();
    unexchanged.put(id, "");
    String t = ticket.get(60, TimeUnit.SECONDS);
    if (t == null) {
      error("the waiting browser never saw CONFIRMED (" + (sse ? "SSE" : "long poll") + ")");
      return;
    }
    seenConfirmed.incrementAndGet();
    exchangeAndUse(id, t);
  }

  static void officialAccountLogin() throws Exception {
    JsonObject session = expect(201, post(instance(), "/api/v1/qr/sessions", new JsonObject().put("appId", APP).put("connection", "wechat-mp")));
    if (session == null) return;
    sessions.incrementAndGet();
    String id = session.getString("sessionId");
    String waitOn = instance();
    Future<String> ticket = streams.submit(() -> pollUntilConfirmed(waitOn, id));
    Thread.sleep(20);
    JsonObject pushed = expect(200, post(instance(), "/sandbox/control/mp/scan", new JsonObject().put("connection", "wechat-mp")
        .put("qrContent", session.getString("qrContent")).put("openid", openid()).put("subscribe", ThreadLocalRandom.current().nextBoolean())));
    if (pushed == null) return;
    pushes.incrementAndGet();
    if (pushed.getInteger("status") != 200) {
      error("webhook answered " + pushed.getInteger("status") + " " + pushed.getString("body"));
      return;
    }
    confirmed.incrementAndGet();
    unexchanged.put(id, "");
    String t = ticket.get(60, TimeUnit.SECONDS);
    if (t == null) {
      error("the waiting browser never saw CONFIRMED (Official Account)");
      return;
    }
    seenConfirmed.incrementAndGet();
    exchangeAndUse(id, t);
  }

  static void silentLogin() throws Exception {
    JsonObject codes = code(instance());
    if (codes == null) return;
    JsonObject login = expect(200, post(instance(), "/api/v1/miniprogram/login",
        new JsonObject().put("appId", APP).put("connection", "wechat-mini").put("code", codes.getString("code"))));
    if (login == null) return;
    silentLogins.incrementAndGet();
    use(login.getJsonObject("tokens"));
  }

  static void exchangeAndUse(String sessionId, String ticket) throws Exception {
    JsonObject result = expect(200, post(instance(), "/api/v1/qr/exchange", new JsonObject().put("ticket", ticket)));
    if (result == null) return;
    if (unexchanged.remove(sessionId) == null) error("session exchanged twice");
    exchanged.incrementAndGet();
    if (ThreadLocalRandom.current().nextInt(10) == 0) {
      HttpResponse<String> again = post(instance(), "/api/v1/qr/exchange", new JsonObject().put("ticket", ticket));
      if (again.statusCode() == 400 && again.body().contains("invalid_ticket")) secondExchangesRefused.incrementAndGet();
      else {
        secondExchangesAccepted.incrementAndGet();
        error("second exchange answered " + again.statusCode());
      }
    }
    use(result.getJsonObject("tokens"));
  }

  /** Verify on both instances; one in three refreshes, and verifies the new token. */
  static void use(JsonObject tokens) throws Exception {
    for (String base : bases) verify(base, tokens.getString("access_token"));
    if (ThreadLocalRandom.current().nextInt(3) == 0) {
      String form = "grant_type=refresh_token&refresh_token=" + URLEncoder.encode(tokens.getString("refresh_token"), StandardCharsets.UTF_8);
      HttpRequest request = HttpRequest.newBuilder(URI.create(instance() + "/oidc/token")).timeout(Duration.ofSeconds(30))
          .header("Content-Type", "application/x-www-form-urlencoded")
          .header("Authorization", "Basic " + Base64.getEncoder().encodeToString((APP + ":" + SECRET).getBytes(StandardCharsets.UTF_8)))
          .POST(HttpRequest.BodyPublishers.ofString(form)).build();
      JsonObject refreshed = expect(200, send(request));
      if (refreshed == null) return;
      refreshes.incrementAndGet();
      verify(instance(), refreshed.getString("access_token"));
    }
  }

  static void verify(String base, String token) throws Exception {
    HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create(base + "/auth/verify")).timeout(Duration.ofSeconds(30))
        .header("Authorization", "Bearer " + token).GET().build());
    if (r.statusCode() == 200) verifications.incrementAndGet();
    else error("verify answered " + r.statusCode());
  }

  // ---- waiting browsers

  static final Pattern TICKET = Pattern.compile("\"ticket\"\\s*:\\s*\"([^\"]+)\"");

  static String sseUntilConfirmed(String base, String id) throws Exception {
    HttpRequest request = HttpRequest.newBuilder(URI.create(base + "/api/v1/qr/sessions/" + id + "/events"))
        .header("Accept", "text/event-stream").GET().build();
    requests.incrementAndGet();
    HttpResponse<Stream<String>> r = http.send(request, HttpResponse.BodyHandlers.ofLines());
    if (r.statusCode() != 200) {
      error("SSE answered " + r.statusCode());
      r.body().close();
      return null;
    }
    try (Stream<String> lines = r.body()) {
      for (String line : (Iterable<String>) lines::iterator) {
        if (line.startsWith("event: error")) error("SSE error event");
        if (line.startsWith("data:") && line.contains("\"CONFIRMED\"")) {
          Matcher m = TICKET.matcher(line);
          return m.find() ? m.group(1) : null;
        }
        if (line.startsWith("data:") && (line.contains("\"EXPIRED\"") || line.contains("\"FAILED\"") || line.contains("\"CANCELED\""))) {
          error("SSE ended " + line);
          return null;
        }
      }
    }
    return null;
  }

  static String pollUntilConfirmed(String base, String id) throws Exception {
    String since = "PENDING";
    for (int i = 0; i < 10; i++) {
      HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create(base + "/api/v1/qr/sessions/" + id + "?waitSeconds=30&since=" + since))
          .timeout(Duration.ofSeconds(45)).GET().build());
      if (r.statusCode() != 200) {
        error("long poll answered " + r.statusCode() + " " + r.body());
        return null;
      }
      JsonObject state = new JsonObject(r.body());
      since = state.getString("status");
      if ("CONFIRMED".equals(since)) return state.getString("ticket");
      if (!"PENDING".equals(since) && !"SCANNED".equals(since)) {
        error("long poll ended " + since);
        return null;
      }
    }
    return null;
  }

  // ---- helpers

  static JsonObject code(String base) throws Exception {
    return expect(200, post(base, "/sandbox/control/miniprogram/code", new JsonObject().put("appId", MINI_APPID).put("openid", openid())));
  }

  /** 500 users, so most logins are of returning users, as in life. */
  static String openid() {
    return "o-soak-" + ThreadLocalRandom.current().nextInt(500);
  }

  static String instance() {
    return bases[ThreadLocalRandom.current().nextInt(bases.length)];
  }

  static HttpResponse<String> post(String base, String path, JsonObject body) throws Exception {
    return send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body.encode())).build());
  }

  static HttpResponse<String> send(HttpRequest request) throws Exception {
    requests.incrementAndGet();
    return http.send(request, HttpResponse.BodyHandlers.ofString());
  }

  static JsonObject expect(int status, HttpResponse<String> r) {
    if (r.statusCode() == status) return new JsonObject(r.body());
    error(r.request().method() + " " + r.request().uri().getPath().replaceAll("[A-Za-z0-9_-]{20,}", "***") + " answered "
        + r.statusCode() + " " + r.body());
    return null;
  }

  static void error(String what) {
    errors.incrementAndGet();
    if (errorSamples.size() < 50) errorSamples.add(what);
  }

  /** Live bytes per class after a full GC ({@code jcmd GC.class_histogram}), and "Total". */
  static Map<String, Long> histogram(long pid) throws Exception {
    Process p = new ProcessBuilder("jcmd", Long.toString(pid), "GC.class_histogram").redirectErrorStream(true).start();
    String histogram = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor(120, TimeUnit.SECONDS);
    Map<String, Long> bytes = new java.util.HashMap<>();
    Matcher row = Pattern.compile("(?m)^\\s*\\d+:\\s+\\d+\\s+(\\d+)\\s+(\\S+)").matcher(histogram);
    while (row.find()) bytes.merge(row.group(2), Long.parseLong(row.group(1)), Long::sum);
    Matcher total = Pattern.compile("(?m)^Total\\s+\\d+\\s+(\\d+)").matcher(histogram);
    if (!total.find()) throw new IllegalStateException("cannot read the class histogram of " + pid);
    bytes.put("Total", Long.parseLong(total.group(1)));
    return bytes;
  }

  /** The classes whose live bytes grew most: where a growing heap went. */
  static void printGrowth(String name, Map<String, Long> start, Map<String, Long> end) {
    end.entrySet().stream().filter(e -> !e.getKey().equals("Total"))
        .map(e -> Map.entry(e.getKey(), e.getValue() - start.getOrDefault(e.getKey(), 0L)))
        .sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(6)
        .forEach(e -> System.out.printf("  %s grew %+.1f KiB: %s%n", name, e.getValue() / 1024.0, e.getKey()));
  }
}
