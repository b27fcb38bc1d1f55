package io.scangate.qr;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.scangate.config.ScanGateConfig;
import io.scangate.redis.RedisClients;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.vertx.serviceproxy.ServiceBinder;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Response;
import io.vertx.redis.client.ResponseType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The QR-session verticle: serves {@link QrSessionService} on {@value QrSessionService#ADDRESS}, and
 * wakes browsers waiting on this instance when their session changes on any instance.
 *
 * <p>One dedicated Redis connection per instance subscribes to the QR channel (never one per
 * browser); each message is the session's new state, dispatched through an in-memory index of
 * local waiters, so waiting costs no polling. When the subscription breaks it reconnects with
 * backoff and re-reads every watched session, so nothing that changed meanwhile is missed.
 * A timer sweeps expired sessions each second, which publishes their EXPIRED state (a Redis key
 * expiring publishes nothing by itself).
 */
public final class QrSessionVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(QrSessionVerticle.class);
  private static final long SWEEP_INTERVAL_MS = 1_000;
  private static final long MAX_BACKOFF_MS = 5_000;

  /** A browser's interest in one session; {@link #close()} it when the browser goes away. */
  public final class Watch implements AutoCloseable {
    private final String sessionId;
    private final Context context;
    private final Consumer<QrSession> onChange;

    private Watch(String sessionId, Context context, Consumer<QrSession> onChange) {
      this.sessionId = sessionId;
      this.context = context;
      this.onChange = onChange;
    }

    void deliver(QrSession session) {
      context.runOnContext(v -> onChange.accept(session));
    }

    @Override
    public void close() {
      waiters.computeIfPresent(sessionId, (id, set) -> {
        set.remove(this);
        return set.isEmpty() ? null : set;
      });
    }
  }

  private final ScanGateConfig.RedisSettings redisSettings;
  private final QrSessionStore store;
  private final Map<String, Set<Watch>> waiters = new ConcurrentHashMap<>();
  private Redis subscriberClient;
  private MessageConsumer<JsonObject> service;
  private RedisConnection subscriber;
  private long sweepTimer;
  private long backoffMs = 100;
  private volatile boolean stopping;

  public QrSessionVerticle(ScanGateConfig.RedisSettings redisSettings, QrSessionStore store, MeterRegistry metrics) {
    this.redisSettings = redisSettings;
    this.store = store;
    Gauge.builder("scangate.qr.waiters", this, QrSessionVerticle::waiters)
        .description("Browsers waiting on this instance (long polls and SSE streams)").register(metrics);
    Gauge.builder("scangate.qr.watched.sessions", this, QrSessionVerticle::watchedSessions)
        .description("Sessions with at least one waiting browser on this instance").register(metrics);
  }

  @Override
  public Future<?> start() {
    subscriberClient = Redis.createClient(vertx, RedisClients.options(redisSettings).setMaxPoolSize(1));
    sweepTimer = vertx.setPeriodic(SWEEP_INTERVAL_MS, id -> sweep());
    service = new ServiceBinder(vertx).setAddress(QrSessionService.ADDRESS)
        .register(QrSessionService.class, new QrSessionServiceImpl(store));
    return service.completion().compose(v -> subscribe());
  }

  @Override
  public Future<?> stop() {
    if (service != null) service.unregister();
    stopping = true;
    vertx.cancelTimer(sweepTimer);
    if (subscriber != null) subscriber.close();
    subscriberClient.close();
    return Future.succeededFuture();
  }

  /** Calls {@code onChange} on the caller's context for every change of the session, from any instance. */
  public Watch watch(String sessionId, Consumer<QrSession> onChange) {
    // The caller's own context (an HTTP verticle's event loop), so its callbacks stay single-threaded.
    Watch watch = new Watch(sessionId, vertx.getOrCreateContext(), onChange);
    waiters.computeIfAbsent(sessionId, id -> ConcurrentHashMap.newKeySet()).add(watch);
    return watch;
  }

  /** Number of sessions with at least one local waiter (for metrics and tests). */
  public int watchedSessions() {
    return waiters.size();
  }

  public int waiters() {
    return waiters.values().stream().mapToInt(Set::size).sum();
  }

  private Future<Void> subscribe() {
    return subscriberClient.connect().compose(conn -> {
      subscriber = conn;
      conn.handler(this::onMessage);
      conn.exceptionHandler(e -> reconnect("error: " + e.getMessage()));
      conn.endHandler(v -> reconnect("connection closed"));
      return conn.send(Request.cmd(Command.SUBSCRIBE).arg(store.channel()));
    }).<Void>mapEmpty().onSuccess(v -> {
      backoffMs = 100;
      catchUp();
    });
  }

  private void reconnect(String why) {
    if (stopping) return;
    subscriber = null;
    log.atWarn().addKeyValue("reason", why).addKeyValue("retryInMs", backoffMs).log("QR pub/sub subscription lost");
    long delay = backoffMs;
    backoffMs = Math.min(MAX_BACKOFF_MS, backoffMs * 2);
    vertx.setTimer(delay, t -> {
      if (stopping) return;
      subscribe().onFailure(e -> reconnect("reconnect failed: " + e.getMessage()));
    });
  }

  /** After (re)subscribing, re-read what local browsers wait for: changes during the gap were not heard. */
  private void catchUp() {
    for (String sessionId : waiters.keySet()) {
      store.get(sessionId).onSuccess(found -> found.ifPresent(this::dispatch));
    }
  }

  private void onMessage(Response message) {
    // RESP2 delivers pushes as ["message", channel, payload]; RESP3 as a PUSH of the same.
    if (message.type() != ResponseType.PUSH && message.type() != ResponseType.MULTI) return;
    if (message.size() < 3 || !"message".equals(message.get(0).toString())) return;
    QrSession session;
    try {
      session = QrSession.fromHash(QrSessionStore.jsonToMap(new JsonObject(message.get(2).toString())));
    } catch (RuntimeException e) {
      log.warn("ignoring a malformed QR change message");
      return;
    }
    dispatch(session);
  }

  private void dispatch(QrSession session) {
    Set<Watch> watches = waiters.get(session.sessionId());
    if (watches == null) return;
    for (Watch w : watches) w.deliver(session);
  }

  private void sweep() {
    store.sweep().onFailure(e -> log.atDebug().addKeyValue("reason", e.getMessage()).log("expiry sweep skipped"));
  }

}
