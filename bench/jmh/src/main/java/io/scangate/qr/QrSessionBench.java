package io.scangate.qr;

import io.vertx.core.json.JsonObject;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The per-change cost of telling waiting browsers about a QR session's new state. Every state
 * change is published by the Lua transition as the whole hash in JSON (all values strings, no
 * scanTokenHash); every instance turns it into a {@link QrSession} ({@code QrSessionVerticle.onMessage})
 * and each SSE waiter sends {@code session.toJson().encode()}.
 *
 * <p>{@code fromHashToJson}: {@code QrSession.fromHash(map)} + {@code toJson().encode()}, the
 * part the brief names. {@code pubSubMessageToJson}: from the pub/sub payload text, as onMessage
 * does it: JSON parse, {@code QrSessionStore.jsonToMap}, fromHash, then toJson().encode().
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class QrSessionBench {

  @Param({"PENDING", "SCANNED", "CONFIRMED"})
  public String status;

  Map<String, String> hash;
  String payload;

  @Setup
  public void setUp() {
    long now = System.currentTimeMillis();
    String tag = QrIds.newTag();
    String scene = QrIds.scene(tag);
    String sessionId = QrIds.sessionId(tag);
    Map<String, String> h = new HashMap<>();
    // The fields QrSessionStore.create writes, with real-sized identifiers.
    h.put("sessionId", sessionId);
    h.put("status", status);
    h.put("appId", "demo");
    h.put("connection", "wechat-mini-qr");
    h.put("scene", scene);
    h.put("sceneKey", "scangate:qr:scene:" + scene);
    h.put("qrContent", "https://login.example.com/qr/" + scene);
    h.put("createdAt", Long.toString(now));
    h.put("expiresAt", Long.toString(now + 3_600_000)); // live for the whole run: never shown as EXPIRED
    h.put("ip", "203.0.113.17");
    h.put("userAgent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        + "Chrome/131.0.0.0 Safari/537.36");
    h.put("version", "1");
    // The transition script sets the scan fields on SCANNED and keeps them; "" when absent.
    boolean scanned = !status.equals("PENDING");
    h.put("openid", scanned ? "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o" : "");
    h.put("unionid", scanned ? "o6_bmasdasdsad6_2sgVt7hMZOPfL" : "");
    h.put("nickname", scanned ? "微信用户" : "");
    h.put("avatarUrl", scanned ? "https://thirdwx.qlogo.cn/mmopen/vi_32/POgEwh4mIHO4nibH0KlMECNjjGxQUq24ZEaGT4poC6icRiccVGKSyXwibcPq4BWmiaIGuG1icwxaQX6grC9VemZoJ8rg/132" : "");
    h.put("ticket", status.equals("CONFIRMED") ? QrIds.ticket(sessionId) : "");
    h.put("userId", status.equals("CONFIRMED") ? "8a3f6c2e-5b1d-4e7a-9c0f-2d4b6e8a1c3f" : "");
    h.put("error", "");
    hash = h;
    payload = new JsonObject(new HashMap<>(h)).encode();

    String json = pubSubMessageToJson();
    if (!json.equals(fromHashToJson()) || !json.contains("\"status\":\"" + status + "\"")) {
      throw new IllegalStateException("unexpected browser view: " + json);
    }
  }

  /** fromHash + toJson().encode(): the session object and the SSE event's data. */
  @Benchmark
  public String fromHashToJson() {
    return QrSession.fromHash(hash).toJson().encode();
  }

  /** From the pub/sub message text to the SSE event's data, as QrSessionVerticle.onMessage and the SSE waiter do it. */
  @Benchmark
  public String pubSubMessageToJson() {
    return QrSession.fromHash(QrSessionStore.jsonToMap(new JsonObject(payload))).toJson().encode();
  }
}
