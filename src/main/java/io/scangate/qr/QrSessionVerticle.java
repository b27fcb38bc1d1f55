package io.scangate.qr;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.scangate.config.ScanGateConfig;
import io.scangate.redis.RedisSubscription;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.vertx.serviceproxy.ServiceBinder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
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
 * local waiters, so waiting costs no polling. When the subscription (a {@link RedisSubscription})
 * breaks it reconnects with backoff and re-reads every watched session, so nothing that changed
 * meanwhile is missed.
 * A timer sweeps expired sessions each second, which publishes their EXPIRED state (a Redis key
 * expiring publishes nothing by itself).
 */
public final class QrSessionVerticle extends VerticleBase {

  private static final Logger log = LoggerFactory.getLogger(QrSessionVerticle.class);
  private static final long SWEEP_INTERVAL_MS = 1_000;

  /** A browser's interest in one session; {@link #close()} it when the browser goes away. */
  public final class Watch implements AutoCloseable {
    private final String sessionId;
    private final Context context;
    private final Consumer<QrSession> onChange;
    private final Runnable onOutage;

    private Watch(String sessionId, Context context, Consumer<QrSession> onChange, Runnable onOutage) {
      this.sessionId = sessionId;
      this.context = context;
      this.onChange = onChange;
      this.onOutage = onOutage;
    }

    void deliver(QrSession session) {
      context.runOnContext(v -> onChange.accept(session));
    }

    void outage() {
      context.runOnContext(v -> onOutage.run());
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
  private MessageConsumer<JsonObject> service;
  private RedisSubscription subscription;
  private long sweepTimer;

  public QrSessionVerticle(ScanGateConfig.RedisSettings redisSettings, QrSessionStore store, MeterRegistry metrics) {
    this.redisSettings = redisSettings;
    this.store = store;
    store.countIn(new QrMetrics(metrics));
    Gauge.builder("scangate.qr.waiters", this, QrSessionVerticle::waiters)
        .description("Browsers waiting on this instance (long polls and SSE streams)").register(metrics);
    Gauge.builder("scangate.qr.watched.sessions", this, QrSessionVerticle::watchedSessions)
        .description("Sessions with at least one waiting browser on this instance").register(metrics);
  }

  @Override
  public Future<?> start() {
    subscription = new RedisSubscription(vertx, redisSettings, "QR hub", List.of(store.channel()),
        (channel, payload) -> onMessage(payload), this::catchUp).onLost(this::subscriptionLost);
    sweepTimer = vertx.setPeriodic(SWEEP_INTERVAL_MS, id -> sweep());
    service = new ServiceBinder(vertx).setAddress(QrSessionService.ADDRESS)
        .register(QrSessionService.class, new QrSessionServiceImpl(store));
    // Fails the deployment when Redis is unreachable; the subscription then closes itself.
    return service.completion().compose(v -> subscription.start()).onFailure(e -> {
      vertx.cancelTimer(sweepTimer);
      service.unregister();
    });
  }

  @Override
  public Future<?> stop() {
    if (outageTimer >= 0) vertx.cancelTimer(outageTimer);
    if (service != null) service.unregister();
    vertx.cancelTimer(sweepTimer);
    return subscription.close();
  }

  /** Calls {@code onChange} on the caller's context for every change of the session, from any instance. */
  public Watch watch(String sessionId, Consumer<QrSession> onChange) {
    return watch(sessionId, onChange, () -> {});
  }

  /**
   * Like {@link #watch(String, Consumer)}; {@code onOutage} runs when the Redis subscription is lost
   * (changes cannot be heard until it is back; the catch-up re-reads then).
   */
  public Watch watch(String sessionId, Consumer<QrSession> onChange, Runnable onOutage) {
    // The caller's own context (an HTTP verticle's event loop), so its callbacks stay single-threaded.
    Watch watch = new Watch(sessionId, vertx.getOrCreateContext(), onChange, onOutage);
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

  /**
   * After (re)subscribing, re-read what local browsers wait for: changes during the gap were not
   * heard. A session that cannot be read now is skipped (its next change still arrives).
   */
  private Future<Void> catchUp() {
    List<Future<?>> reads = new ArrayList<>();
    for (String sessionId : waiters.keySet()) {
      reads.add(store.get(sessionId).onSuccess(found -> found.ifPresent(this::dispatch)));
    }
    return Future.join(reads).<Void>mapEmpty().otherwiseEmpty();
  }

  /**
   * How long the subscription may be gone before waiting browsers are told. A failover (a replica
   * promoted, the subscription moved) is usually back sooner, and then the catch-up re-reads what
   * browsers wait for, so they see nothing of it.
   */
  static final long OUTAGE_GRACE_MS = 10_000;
  private long outageTimer = -1;

  /** Redis is gone: unless it is back within the grace, every local waiter is told (SSE: an error event and the end; long polls: 503). */
  private void subscriptionLost() {
    if (outageTimer >= 0) return;
    outageTimer = vertx.setTimer(OUTAGE_GRACE_MS, t -> {
      outageTimer = -1;
      if (subscription.connected()) return;
      for (Set<Watch> watches : waiters.values()) for (Watch w : watches) w.outage();
    });
  }

  private void onMessage(String payload) {
    QrSession session;
    try {
      session = QrSession.fromHash(QrSessionStore.jsonToMap(new JsonObject(payload)));
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
