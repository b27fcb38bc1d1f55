package io.scangate.http;

import io.vertx.ext.web.Router;

/** A capability's HTTP surface, mounted by {@link HttpVerticle} on each of its routers. */
@FunctionalInterface
public interface Routes {

  void mount(Router router);
}
