package io.scangate.redis;

import io.scangate.config.ScanGateConfig.RedisSettings;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import io.vertx.redis.client.ResponseType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * One live Redis pub/sub subscription that keeps itself alive: the QR hub, the token revocations
 * (and later the webhook) each own one instead of repeating the reconnect logic.
 *
 * <p><b>Connection.</b> A dedicated client with a pool of one ({@code RedisClients.options(settings)
 * .setMaxPoolSize(1)}): a subscribed connection can do nothing else, so it never shares the
 * command pool. It subscribes to all the given channels at once and hands each {@code message}
 * frame, RESP2 (a multi-bulk) or RESP3 (a push) alike, to the {@link MessageHandler} as
 * {@code (channel, payload)}. Frames from any connection but the current one are dropped, so a
 * message is never delivered twice by an old and a new connection.
 *
 * <p>In cluster mode a classic {@code SUBSCRIBE} on any node, primary or replica, receives every
 * {@code PUBLISH} of the whole cluster (the cluster bus broadcasts it), so the subscription is a
 * plain connection to one of the seed nodes ({@code redis.url}, then {@code redis.nodes}); each
 * new attempt tries the next one, so losing a node moves the subscription to another. In
 * sentinel mode the client asks the sentinels for the current primary on every attempt.
 *
 * <p><b>Catch-up.</b> After every successful subscription, the first one included, the catch-up
 * callback runs; it should re-read from Redis whatever messages published while unsubscribed
 * would have told (the QR hub re-reads the watched sessions, revocations reload the whole set).
 * It runs only once the server has confirmed the subscription to every channel, so nothing
 * published after the catch-up read can be missed. A failed catch-up counts as a failed
 * subscription: the connection is dropped and the whole thing is retried.
 *
 * <p><b>Reconnecting.</b> When the <em>current</em> connection fails or ends, it is closed and a
 * new subscription is made after a backoff of 100 ms doubling up to 5 s, back to 100 ms once a
 * subscription (with its catch-up) succeeds. Events of a connection that is no longer current
 * (say its end arriving after a replacement was made, or its error and its end both firing) are
 * ignored, and at most one reconnect is ever pending or in flight. Losing the subscription logs
 * one WARN line, getting it back one INFO line; failed attempts in between log at DEBUG. Nothing
 * logged carries the Redis URL.
 *
 * <p><b>Start and close.</b> {@link #start()} returns a future that fails when the first
 * subscription (or its catch-up) fails, so an owner can refuse to start without Redis. By default
 * the subscription then gives up and releases its client: its owner's start fails, and Vert.x never
 * calls the {@code stop()} of a verticle whose start failed, so retries would go on with nobody
 * left to stop them. An owner that carries on without Redis can ask for
 * {@link #keepRetryingIfStartFails(boolean) keepRetryingIfStartFails(true)}: start still fails, but
 * reconnecting goes on as after a lost subscription until {@link #close()}. {@code close()} stops
 * everything (pending reconnect, in-flight attempt, connection, client) and may be called from any
 * thread, more than once.
 *
 * <p><b>Threading.</b> Everything but {@code close()} runs on the Vert.x context that was current
 * when {@code start()} was called (a new event-loop context when called off Vert.x threads); the
 * message handler and the catch-up are called there too.
 */
public final class RedisSubscription {

  /** Receives one published message. */
  @FunctionalInterface
  public interface MessageHandler {
    void onMessage(String channel, String payload);
  }

  static final long INITIAL_BACKOFF_MS = 100;
  static final long MAX_BACKOFF_MS = 5_000;
  /** How long the server has to confirm the SUBSCRIBE before the attempt counts as failed. */
  static final long SUBSCRIBE_TIMEOUT_MS = 5_000;

  private static final Logger log = LoggerFactory.getLogger(RedisSubscription.class);

  /** One connection's try at subscribing; its handlers only act while it is {@link #current}. */
  static final class Attempt {
    final RedisConnection connection;
    final Promise<Void> confirmed = Promise.promise();
    final Set<String> unconfirmed;

    Attempt(RedisConnection connection, List<String> channels) {
      this.connection = connection;
      this.unconfirmed = new HashSet<>(channels);
    }
  }

  private final Vertx vertx;
  /** One client, or in cluster mode one per seed node, tried in turn (see the class comment). */
  private final List<Redis> clients;
  private int attempts;
  private final String description;
  private final List<String> channels;
  private final MessageHandler handler;
  private final Supplier<Future<Void>> catchUp;
  private String clientName;
  private boolean keepRetryingIfStartFails;
  private Runnable onLost = () -> {};

  private Context context;
  private volatile boolean closed;
  private volatile Attempt current;
  private volatile boolean connected;
  /** A reconnect timer is pending or an attempt is in flight: never schedule a second one. */
  private boolean reconnecting;
  private volatile long reconnectTimer = -1;
  private long backoffMs = INITIAL_BACKOFF_MS;
  private long lostAtMillis;
  private volatile long subscriptions;

  /**
   * @param description what the subscription is for, in log lines (e.g. "token revocations")
   * @param channels the channels, at least one
   * @param catchUp run after every successful subscription; may be {@code Future::succeededFuture}
   */
  public RedisSubscription(Vertx vertx, RedisSettings settings, String description, List<String> channels,
                           MessageHandler handler, Supplier<Future<Void>> catchUp) {
    this(vertx, RedisClients.subscriptionOptions(settings), description, channels, handler, catchUp);
  }

  /** With the client's options spelled out (tests use it to force RESP2). */
  RedisSubscription(Vertx vertx, RedisOptions options, String description, List<String> channels,
                    MessageHandler handler, Supplier<Future<Void>> catchUp) {
    this(vertx, List.of(options), description, channels, handler, catchUp);
  }

  private RedisSubscription(Vertx vertx, List<RedisOptions> options, String description, List<String> channels,
                            MessageHandler handler, Supplier<Future<Void>> catchUp) {
    if (channels.isEmpty()) throw new IllegalArgumentException("no channel to subscribe to");
    this.vertx = vertx;
    this.clients = options.stream().map(o -> Redis.createClient(vertx, o)).toList();
    this.description = description;
    this.channels = List.copyOf(channels);
    this.handler = handler;
    this.catchUp = catchUp;
  }

  /**
   * Names the connection ({@code CLIENT SETNAME}) before subscribing, so it can be told apart in
   * {@code CLIENT LIST}. Off by default: a restricted Redis user may not be allowed {@code CLIENT}.
   * A refused name is logged at DEBUG and does not stop the subscription. Call before {@link #start()}.
   */
  public RedisSubscription clientName(String name) {
    this.clientName = name;
    return this;
  }

  /**
   * Runs (on the subscription's context) each time a live subscription is lost, before reconnecting:
   * its owner can tell those who rely on it (waiting browsers) that changes cannot be heard now.
   */
  public RedisSubscription onLost(Runnable onLost) {
    this.onLost = onLost;
    return this;
  }

  /** Whether to go on reconnecting when the first subscription fails (default false); call before {@link #start()}. */
  public RedisSubscription keepRetryingIfStartFails(boolean keepRetrying) {
    this.keepRetryingIfStartFails = keepRetrying;
    return this;
  }

  /** Subscribes; fails when the first subscription or its catch-up fails. Call once. */
  public Future<Void> start() {
    if (context != null) throw new IllegalStateException("already started");
    context = vertx.getOrCreateContext();
    Promise<Void> started = Promise.promise();
    onContext(() -> {
      if (closed) {
        started.fail("subscription closed");
        return;
      }
      reconnecting = true;
      attempt().onComplete(ar -> {
        reconnecting = false;
        if (ar.succeeded()) {
          subscribed();
          started.complete();
          return;
        }
        if (keepRetryingIfStartFails) {
          if (!closed) {
            lostAtMillis = System.currentTimeMillis();
            log.atWarn().addKeyValue("subscription", description).addKeyValue("cause", describe(ar.cause()))
                .log("Redis subscription could not be made; retrying");
            scheduleReconnect();
          }
        } else {
          close();
        }
        started.fail(ar.cause());
      });
    });
    return started.future();
  }

  /** Stops reconnecting and closes the connection and the client; safe from any thread, more than once. */
  public Future<Void> close() {
    if (closed) return Future.succeededFuture();
    closed = true;
    connected = false;
    long timer = reconnectTimer;
    if (timer >= 0) vertx.cancelTimer(timer);
    Attempt a = current;
    current = null;
    Future<Void> closing = a == null ? Future.succeededFuture() : a.connection.close().otherwiseEmpty();
    return closing.eventually(() -> Future.join(clients.stream().map(Redis::close).toList()).<Void>mapEmpty()).otherwiseEmpty();
  }

  /** Whether subscribed and caught up right now. */
  public boolean connected() {
    return connected;
  }

  /** How many times a subscription was made and caught up, the first one included (for tests and metrics). */
  public long subscriptions() {
    return subscriptions;
  }

  /** The current connection's attempt, for tests; null while there is none. */
  Attempt currentAttempt() {
    return current;
  }

  /** The context everything runs on; null before {@link #start()}. */
  Context context() {
    return context;
  }

  private Future<Void> attempt() {
    Redis client = clients.get(attempts++ % clients.size());
    return client.connect().compose(conn -> {
      if (closed) return conn.close().transform(x -> Future.<Void>failedFuture("subscription closed"));
      Attempt a = new Attempt(conn, channels);
      current = a;
      if (closed) {
        // close() may have run between the check and setting current, and missed it
        current = null;
        return conn.close().transform(x -> Future.<Void>failedFuture("subscription closed"));
      }
      conn.handler(frame -> onFrame(a, frame));
      conn.exceptionHandler(e -> lost(a, describe(e)));
      conn.endHandler(v -> lost(a, "connection closed"));
      Request subscribe = Request.cmd(Command.SUBSCRIBE);
      channels.forEach(subscribe::arg);
      return name(conn)
          .compose(v -> conn.send(subscribe))
          .compose(sent -> a.confirmed.future().timeout(SUBSCRIBE_TIMEOUT_MS, TimeUnit.MILLISECONDS))
          .compose(v -> catchUp.get())
          .compose(v -> current == a && !closed
              ? Future.<Void>succeededFuture()
              : Future.<Void>failedFuture("connection lost while subscribing"))
          .onFailure(e -> drop(a));
    });
  }

  private Future<Void> name(RedisConnection conn) {
    if (clientName == null) return Future.succeededFuture();
    return conn.send(Request.cmd(Command.CLIENT).arg("SETNAME").arg(clientName))
        .<Void>mapEmpty()
        .recover(e -> {
          log.atDebug().addKeyValue("subscription", description).addKeyValue("cause", e.getMessage())
              .log("Redis refused the connection name");
          return Future.succeededFuture();
        });
  }

  private void subscribed() {
    backoffMs = INITIAL_BACKOFF_MS;
    connected = true;
    subscriptions++;
    if (lostAtMillis != 0) {
      log.atInfo().addKeyValue("subscription", description)
          .addKeyValue("downMs", System.currentTimeMillis() - lostAtMillis).log("Redis subscription restored");
      lostAtMillis = 0;
    }
  }

  /** Error or end of a connection (package-private for tests): only the current one's matters. */
  void lost(Attempt a, String cause) {
    if (closed || current != a) return;
    boolean wasConnected = connected;
    drop(a);
    if (wasConnected) {
      lostAtMillis = System.currentTimeMillis();
      log.atWarn().addKeyValue("subscription", description).addKeyValue("cause", cause)
          .log("Redis subscription lost; reconnecting");
      try {
        onLost.run();
      } catch (RuntimeException e) {
        log.atError().setCause(e).addKeyValue("subscription", description).log("onLost handler failed");
      }
    }
    // While an attempt is in flight, its own failure schedules the next one.
    scheduleReconnect();
  }

  /** Forgets and closes the connection, if it is still the current one. */
  private void drop(Attempt a) {
    if (current == a) {
      current = null;
      connected = false;
    }
    a.confirmed.tryFail("connection lost");
    a.connection.close();
  }

  private void scheduleReconnect() {
    if (closed || reconnecting) return;
    reconnecting = true;
    long delay = backoffMs;
    backoffMs = Math.min(MAX_BACKOFF_MS, backoffMs * 2);
    reconnectTimer = vertx.setTimer(delay, id -> {
      reconnectTimer = -1;
      if (closed) return;
      attempt().onComplete(ar -> {
        reconnecting = false;
        if (ar.succeeded()) {
          subscribed();
        } else if (!closed) {
          log.atDebug().addKeyValue("subscription", description).addKeyValue("cause", describe(ar.cause()))
              .addKeyValue("retryInMs", backoffMs).log("Redis resubscription failed");
          scheduleReconnect();
        }
      });
    });
    if (closed) vertx.cancelTimer(reconnectTimer);
  }

  private void onFrame(Attempt a, Response frame) {
    if (current != a || frame == null) return;
    // RESP2 delivers pub/sub frames as a multi-bulk, RESP3 as a push: ["message", channel, payload].
    if (frame.type() != ResponseType.PUSH && frame.type() != ResponseType.MULTI) return;
    if (frame.size() < 3) return;
    String kind = frame.get(0).toString();
    if ("subscribe".equals(kind)) {
      a.unconfirmed.remove(frame.get(1).toString());
      if (a.unconfirmed.isEmpty()) a.confirmed.tryComplete();
    } else if ("message".equals(kind)) {
      try {
        handler.onMessage(frame.get(1).toString(), frame.get(2).toString());
      } catch (RuntimeException e) {
        log.atWarn().addKeyValue("subscription", description).setCause(e).log("a subscription message handler failed");
      }
    }
  }

  private void onContext(Runnable task) {
    if (Vertx.currentContext() == context) {
      task.run();
    } else {
      context.runOnContext(v -> task.run());
    }
  }

  private static String describe(Throwable e) {
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }
}
