package io.scangate.ops;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One instance's way out: on SIGTERM it stops taking new work (readiness answers 503, new QR
 * sessions are refused), answers every waiting browser at once (long polls with the current
 * state, SSE streams with a {@code retry:} hint, so they reconnect to another instance), then
 * waits for the requests still in flight — up to {@code server.shutdownGracePeriod} — before the
 * verticles stop. A load balancer sees the 503 first and sends nothing new meanwhile.
 */
public final class Lifecycle {

  /** Something holding a request open that must let go when the instance drains (a long poll, an SSE stream). */
  public interface Waiter {
    /** Called from any thread: answer now, on the waiter's own context. */
    void drain();
  }

  private static final long POLL_MS = 50;

  private final AtomicBoolean draining = new AtomicBoolean();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final Set<Waiter> waiters = ConcurrentHashMap.newKeySet();

  public boolean draining() {
    return draining.get();
  }

  /** Counts a request from its start to its end (the HTTP front calls both). */
  public void requestStarted() {
    inFlight.incrementAndGet();
  }

  public void requestEnded() {
    inFlight.decrementAndGet();
  }

  public int inFlight() {
    return inFlight.get();
  }

  /** Registers a waiter; if the instance is already draining it is drained at once. */
  public void register(Waiter waiter) {
    waiters.add(waiter);
    if (draining.get()) waiter.drain();
  }

  public void unregister(Waiter waiter) {
    waiters.remove(waiter);
  }

  /**
   * Starts draining and completes when no request is in flight any more, or when {@code grace}
   * has passed, whichever comes first. Idempotent.
   */
  public Future<Void> drain(Vertx vertx, Duration grace) {
    if (draining.compareAndSet(false, true)) {
      for (Waiter w : waiters) w.drain();
    }
    Promise<Void> done = Promise.promise();
    long deadline = System.nanoTime() + grace.toNanos();
    waitForQuiet(vertx, deadline, done);
    return done.future();
  }

  private void waitForQuiet(Vertx vertx, long deadline, Promise<Void> done) {
    if (inFlight.get() <= 0 || System.nanoTime() >= deadline) {
      done.tryComplete();
      return;
    }
    vertx.setTimer(POLL_MS, id -> waitForQuiet(vertx, deadline, done));
  }
}
