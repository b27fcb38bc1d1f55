package io.scangate.avatar;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.vertx.serviceproxy.ServiceBinder;

/** Serves {@link AvatarService} on {@value AvatarService#ADDRESS}. */
public final class AvatarVerticle extends VerticleBase {

  private final AvatarService service;
  private MessageConsumer<JsonObject> consumer;

  public AvatarVerticle(AvatarService service) {
    this.service = service;
  }

  @Override
  public Future<?> start() {
    consumer = new ServiceBinder(vertx).setAddress(AvatarService.ADDRESS).register(AvatarService.class, service);
    return consumer.completion();
  }

  @Override
  public Future<?> stop() {
    return consumer == null ? Future.succeededFuture() : consumer.unregister();
  }
}
