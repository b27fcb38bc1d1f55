import io.scangate.ScanGate;
import io.scangate.config.ConfigLoader;
import io.scangate.config.ScanGateConfig.OfficialAccountConnection;
import io.scangate.db.Postgres;
import io.scangate.wechat.WeChatMessageCrypto;
import io.scangate.wechat.WeChatXml;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * End-to-end WeChat pushes per second: one production gateway (conf/dev.yaml, no sandbox) and a
 * load client in this JVM, on the PostgreSQL and Redis of SCANGATE_POSTGRES_URL / SCANGATE_REDIS_URL.
 * Every push is a distinct safe-mode SCAN event (own openid and scene), signed and encrypted the
 * way WeChat does it, built before the clock starts; the gateway verifies, decrypts, parses,
 * records it in the replay ledger (dedup on) and publishes it. Loopback only, bounded in count.
 *   mvn -q -DskipTests package && java -cp target/scangate.jar bench/webhook/PushBench.java [PUSHES] [CONCURRENCY] [WARMUP]
 */
public class PushBench {
  public static void main(String[] args) throws Exception {
    int pushes = args.length > 0 ? Integer.parseInt(args[0]) : 60_000;
    int concurrency = args.length > 1 ? Integer.parseInt(args[1]) : 64;
    // Pushes sent before the measured ones: the JIT compiles the path meanwhile (without them, the
    // compiler threads' CPU is most of what a short run measures).
    int warmup = args.length > 2 ? Integer.parseInt(args[2]) : 30_000;
    Map<String, String> env = new HashMap<>(System.getenv());
    String yaml = Files.readString(Path.of("conf/dev.yaml"));
    var config = ConfigLoader.parse(yaml, Path.of("conf"), env, ConfigLoader.Profile.dev(null, 0, io.scangate.dev.FreePort::find))
        .withServers(env.getOrDefault("SCANGATE_REDIS_URL", "redis://127.0.0.1:6379"),
            env.getOrDefault("SCANGATE_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/scangate_bench_push"));
    Postgres.createDatabaseIfMissing(config.postgres().url());
    Vertx vertx = Vertx.vertx();
    ScanGate gateway = ScanGate.start(vertx, config, ScanGate.Options.production(null))
        .toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
    OfficialAccountConnection mp = config.connection("wechat-mp", OfficialAccountConnection.class).orElseThrow();
    WeChatMessageCrypto crypto = new WeChatMessageCrypto(mp.token(), mp.encodingAesKey(), mp.wechatAppId());
    String path = "/connections/social/" + mp.identifier() + "/" + config.userPoolId() + "/events";

    System.out.println("building " + pushes + " distinct safe-mode pushes...");
    String run = Long.toString(System.nanoTime(), 36);
    List<String[]> requests = new ArrayList<>(warmup + pushes);
    for (int i = 0; i < warmup + pushes; i++) {
      String timestamp = Long.toString(System.currentTimeMillis() / 1000);
      String nonce = Integer.toString(100_000_000 + i);
      String openid = "o-bench-" + run + "-" + i;
      Map<String, Object> fields = new LinkedHashMap<>();
      fields.put("ToUserName", "gh_bench");
      fields.put("FromUserName", openid);
      fields.put("CreateTime", timestamp);
      fields.put("MsgType", "event");
      fields.put("Event", "SCAN");
      fields.put("EventKey", "bench" + run + i);
      fields.put("Ticket", "ticket-" + i);
      String encrypt = crypto.encrypt(WeChatXml.build(fields));
      String query = "signature=" + crypto.sign(timestamp, nonce) + "&timestamp=" + timestamp + "&nonce=" + nonce
          + "&openid=" + URLEncoder.encode(openid, StandardCharsets.UTF_8) + "&encrypt_type=aes&msg_signature="
          + crypto.sign(timestamp, nonce, encrypt);
      requests.add(new String[] {path + "?" + query, crypto.encryptedPush("gh_bench", encrypt)});
    }

    HttpClient client = vertx.createHttpClient(new HttpClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(gateway.port())
        .setKeepAlive(true), new PoolOptions().setHttp1MaxSize(concurrency));
    if (warmup > 0) {
      System.out.println("warming up with " + warmup + " pushes...");
      CountDownLatch warm = new CountDownLatch(concurrency);
      Map<String, AtomicInteger> warmOutcomes = new ConcurrentHashMap<>();
      List<String[]> first = requests.subList(0, warmup);
      AtomicInteger warmNext = new AtomicInteger();
      for (int c = 0; c < concurrency; c++) sendNext(client, first, warmNext, new AtomicLong(), warmOutcomes, warm);
      warm.await(600, TimeUnit.SECONDS);
      System.out.println("warm-up answers: " + new TreeMap<>(warmOutcomes));
    }
    requests = requests.subList(warmup, requests.size());
    Map<String, AtomicInteger> outcomes = new ConcurrentHashMap<>();
    AtomicInteger next = new AtomicInteger();
    AtomicLong done = new AtomicLong();
    CountDownLatch finished = new CountDownLatch(concurrency);
    var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    long cpuStarted = os.getProcessCpuTime();
    long started = System.nanoTime();
    for (int c = 0; c < concurrency; c++) sendNext(client, requests, next, done, outcomes, finished);
    finished.await(600, TimeUnit.SECONDS);
    double seconds = (System.nanoTime() - started) / 1e9;
    double cpuSeconds = (os.getProcessCpuTime() - cpuStarted) / 1e9;
    // CPU of this JVM (gateway and load client together) per push, and how busy it kept the cores:
    // well under the core count means the pushes waited on something (Redis, a queue), not on CPU.
    System.out.printf("pushes=%d concurrency=%d seconds=%.2f pushesPerSecond=%.0f outcomes=%s cpus=%d jvmCpuPerPush=%.0fus jvmCoresBusy=%.2f%n",
        done.get(), concurrency, seconds, done.get() / seconds, new TreeMap<>(outcomes), Runtime.getRuntime().availableProcessors(),
        cpuSeconds * 1e6 / Math.max(1, done.get()), cpuSeconds / seconds);
    gateway.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private static void sendNext(HttpClient client, List<String[]> requests, AtomicInteger next, AtomicLong done,
                               Map<String, AtomicInteger> outcomes, CountDownLatch finished) {
    int i = next.getAndIncrement();
    if (i >= requests.size()) {
      finished.countDown();
      return;
    }
    String[] r = requests.get(i);
    client.request(new RequestOptions().setMethod(HttpMethod.POST).setURI(r[0]).putHeader("Content-Type", "text/xml"))
        .compose(req -> req.send(Buffer.buffer(r[1])))
        .compose(resp -> resp.body().map(body -> resp.statusCode() + " " + (body.length() > 20 ? "reply" : body.toString())))
        .recover(e -> Future.succeededFuture("error " + e.getClass().getSimpleName()))
        .onComplete(outcome -> {
          outcomes.computeIfAbsent(outcome.result(), k -> new AtomicInteger()).incrementAndGet();
          done.incrementAndGet();
          sendNext(client, requests, next, done, outcomes, finished);
        });
  }
}
