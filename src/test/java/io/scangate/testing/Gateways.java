package io.scangate.testing;

import io.scangate.ScanGate;
import io.scangate.config.ScanGateConfig;
import io.vertx.core.Vertx;

import java.util.ArrayList;
import java.util.List;

import static io.scangate.testing.Await.await;

/** Dev gateways (sandbox mounted) a test starts, closed together when it ends: call {@link #closeAll()} in @AfterEach. */
public final class Gateways {

  private final List<ScanGate> started = new ArrayList<>();

  public ScanGate start(Vertx vertx, ScanGateConfig config) {
    ScanGate gateway = await(ScanGate.start(vertx, config, ScanGate.Options.dev(null)));
    started.add(gateway);
    return gateway;
  }

  public void closeAll() {
    for (ScanGate gateway : started) await(gateway.close());
    started.clear();
  }
}
