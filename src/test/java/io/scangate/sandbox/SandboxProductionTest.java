package io.scangate.sandbox;

import io.scangate.ScanGate;
import io.scangate.config.ConfigLoader;
import io.scangate.config.ScanGateConfig;
import io.scangate.dev.FreePort;
import io.scangate.testing.TestConfigs;
import io.scangate.testing.TestHttp;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** `start` (production) never mounts the sandbox: it could forge logins. */
@ExtendWith(VertxExtension.class)
class SandboxProductionTest {

  @Test
  void aProductionGatewayAnswers404UnderSandbox(Vertx vertx) throws Exception {
    Map<String, String> env = TestConfigs.testEnv();
    env.put("TEST_PORT", String.valueOf(FreePort.find()));
    String yaml = TestConfigs.STANDARD_YAML.replace("server:\n", """
        server:
          host: "127.0.0.1"
          port: ${TEST_PORT}
          publicUrl: "https://login.example.com"
        """);
    ScanGateConfig config = ConfigLoader.parse(yaml, null, env, ConfigLoader.Profile.production());
    ScanGate gateway = ScanGate.start(vertx, config, ScanGate.Options.production(null)).await(60, TimeUnit.SECONDS);
    WebClient http = TestHttp.client(vertx, gateway.port());
    try {
      assertThat(http.get("/health/live").send().await(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
      for (String path : new String[] {"/sandbox/phone", "/sandbox/control/qrcodes",
          "/sandbox/wechat/cgi-bin/token?grant_type=client_credential&appid=wxtestmini000001&secret=test-mini-secret-000001"}) {
        assertThat(http.get(path).send().await(10, TimeUnit.SECONDS).statusCode()).as(path).isEqualTo(404);
      }
      for (String path : new String[] {"/sandbox/control/mp/scan", "/sandbox/control/miniprogram/code", "/sandbox/wechat/cgi-bin/stable_token"}) {
        assertThat(http.post(path).sendJsonObject(new JsonObject().put("appId", "wxtestmini000001")).await(10, TimeUnit.SECONDS).statusCode())
            .as(path).isEqualTo(404);
      }
    } finally {
      http.close();
      gateway.close().await(30, TimeUnit.SECONDS);
    }
  }
}
