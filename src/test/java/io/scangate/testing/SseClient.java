package io.scangate.testing;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/** Reads a Server-Sent Events stream as a browser's EventSource would, collecting each event. */
public final class SseClient implements AutoCloseable {

  public record Event(String name, String data) {
    public JsonObject json() {
      return new JsonObject(data);
    }
  }

  private final HttpClient client;
  private final List<Event> events = new CopyOnWriteArrayList<>();
  private final List<String> comments = new CopyOnWriteArrayList<>();
  private final List<Long> retries = new CopyOnWriteArrayList<>();
  private final CompletableFuture<Void> ended = new CompletableFuture<>();
  private final CompletableFuture<Integer> status = new CompletableFuture<>();
  private final StringBuilder buffer = new StringBuilder();

  public SseClient(Vertx vertx, int port, String path) {
    client = vertx.createHttpClient(new HttpClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(port));
    client.request(HttpMethod.GET, path)
        .compose(req -> req.putHeader("Accept", "text/event-stream").send())
        .onSuccess(resp -> {
          status.complete(resp.statusCode());
          resp.handler(chunk -> onText(chunk.toString()));
          resp.endHandler(v -> ended.complete(null));
          resp.exceptionHandler(ended::completeExceptionally);
        })
        .onFailure(e -> {
          status.completeExceptionally(e);
          ended.completeExceptionally(e);
        });
  }

  private synchronized void onText(String text) {
    buffer.append(text);
    int end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      String frame = buffer.substring(0, end);
      buffer.delete(0, end + 2);
      String name = "message";
      StringBuilder data = new StringBuilder();
      for (String line : frame.split("\n")) {
        if (line.startsWith(":")) comments.add(line.substring(1).trim());
        else if (line.startsWith("event:")) name = line.substring(6).trim();
        else if (line.startsWith("retry:")) retries.add(Long.parseLong(line.substring(6).trim()));
        else if (line.startsWith("data:")) data.append(data.length() > 0 ? "\n" : "").append(line.substring(5).trim());
      }
      if (data.length() > 0) events.add(new Event(name, data.toString()));
    }
  }

  public int status() throws Exception {
    return status.get(30, TimeUnit.SECONDS);
  }

  public List<Event> events() {
    return events;
  }

  public List<String> comments() {
    return comments;
  }

  /** The reconnection delays (ms) the server asked for with {@code retry:} lines. */
  public List<Long> retries() {
    return retries;
  }

  /** Waits (up to a generous deadline) until {@code count} events arrived. */
  public List<Event> awaitEvents(int count) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (events.size() < count && System.nanoTime() < deadline) Thread.sleep(20);
    if (events.size() < count) throw new AssertionError("expected " + count + " events, got " + events);
    return List.copyOf(events);
  }

  public void awaitEnd() throws Exception {
    ended.get(30, TimeUnit.SECONDS);
  }

  public boolean hasEnded() {
    return ended.isDone();
  }

  @Override
  public void close() {
    client.close();
  }
}
