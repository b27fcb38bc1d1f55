package io.scangate.login;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.vertx.serviceproxy.ServiceBinder;

/** The login verticle: serves the {@link LoginPipeline} as {@link LoginService} on {@value LoginService#ADDRESS}. */
public final class LoginVerticle extends VerticleBase {

  private final LoginService pipeline;
  private MessageConsumer<JsonObject> consumer;

  public LoginVerticle(LoginService pipeline) {
    this.pipeline = pipeline;
  }

  @Override
  public Future<?> start() {
    consumer = new ServiceBinder(vertx).setAddress(LoginService.ADDRESS).register(LoginService.class, pipeline);
    return consumer.completion();
  }

  @Override
  public Future<?> stop() {
    return consumer == null ? Future.succeededFuture() : consumer.unregister();
  }
}
