package io.scangate.webhook;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;

/** Runs this instance's share of the forwarding queues ({@link Forwarder#startWorkers}) for as long as it is deployed. */
public final class ForwardVerticle extends VerticleBase {

  private final Forwarder forwarder;

  public ForwardVerticle(Forwarder forwarder) {
    this.forwarder = forwarder;
  }

  @Override
  public Future<?> start() {
    return forwarder.startWorkers();
  }

  @Override
  public Future<?> stop() {
    forwarder.stop();
    return Future.succeededFuture();
  }
}
