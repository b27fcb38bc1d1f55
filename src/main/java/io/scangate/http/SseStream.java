package io.scangate.http;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;

import java.util.concurrent.ThreadLocalRandom;

/**
 * A Server-Sent Events stream (vertx-web has no SSE server helper). Sends {@code event:}/{@code data:}
 * frames and a comment line every {@code heartbeatMs} so proxies keep the connection open.
 */
public final class SseStream {

  private final Vertx vertx;
  private final HttpServerResponse response;
  private final long heartbeatTimer;
  private boolean closed;

  private SseStream(Vertx vertx, HttpServerResponse response, long heartbeatMs) {
    this.vertx = vertx;
    this.response = response;
    // The first heartbeat at a random point of the period, then every period. Streams opened
    // together (a burst of page loads, every browser reconnecting after an instance stopped)
    // would otherwise all write their heartbeats at the same moment of each period: 16,000 of
    // them held an event loop for over a second and put 40 ms on every login meanwhile
    // (docs/performance.md, Official Account scan-to-browser latency).
    this.heartbeatTimer = vertx.setPeriodic(1 + ThreadLocalRandom.current().nextLong(heartbeatMs), heartbeatMs,
        id -> comment("keep-alive"));
  }

  /**
   * Starts the stream on {@code response}. It takes the response's close handler: a browser that
   * goes away stops the heartbeat, then {@code onClose} runs (the caller's own clean-up).
   */
  public static SseStream open(Vertx vertx, HttpServerResponse response, long heartbeatMs, Runnable onClose) {
    response.setChunked(true)
        .putHeader("Content-Type", "text/event-stream; charset=utf-8")
        .putHeader("Cache-Control", "no-cache, no-store")
        .putHeader("Connection", "keep-alive")
        // nginx buffers responses unless told not to, which would hold events back.
        .putHeader("X-Accel-Buffering", "no");
    response.write(": stream open\n\n");
    SseStream stream = new SseStream(vertx, response, heartbeatMs);
    response.closeHandler(v -> {
      stream.release();
      onClose.run();
    });
    return stream;
  }

  public void send(String event, String data) {
    if (closed) return;
    StringBuilder frame = new StringBuilder("event: ").append(event).append('\n');
    for (String line : data.split("\n", -1)) frame.append("data: ").append(line).append('\n');
    response.write(frame.append('\n').toString());
  }

  public void comment(String text) {
    if (!closed) response.write(": " + text + "\n\n");
  }

  /** Tells the browser to reconnect after {@code retryMs} (to another instance: this one is stopping), then ends. */
  public void retryAndEnd(long retryMs) {
    if (closed) return;
    response.write("retry: " + retryMs + "\n\n");
    end();
  }

  public void end() {
    if (closed) return;
    release();
    response.end();
  }

  public boolean isClosed() {
    return closed;
  }

  private void release() {
    closed = true;
    vertx.cancelTimer(heartbeatTimer);
  }
}
