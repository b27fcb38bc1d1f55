package io.scangate.testing;

import io.vertx.core.Vertx;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;

/** A web client aimed at a gateway under test. Keep the reference: an unreferenced client is closed by the GC. */
public final class TestHttp {

  private TestHttp() {}

  public static WebClient client(Vertx vertx, int port) {
    return WebClient.create(vertx, new WebClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(port)
        .setFollowRedirects(false));
  }
}
