import io.scangate.ScanGate;
import io.scangate.config.ConfigLoader;
import io.scangate.db.Postgres;
import io.scangate.identity.LoginContext;
import io.scangate.identity.UserStore;
import io.scangate.identity.WeChatIdentity;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Starts one gateway on conf/dev.yaml (on the PostgreSQL / Redis of SCANGATE_POSTGRES_URL /
 * SCANGATE_REDIS_URL), logs a user in, and prints "PORT ACCESS_TOKEN" for the load generator.
 * Run: java -cp target/scangate.jar bench/BenchServer.java
 */
public class BenchServer {
  public static void main(String[] args) throws Exception {
    Map<String, String> env = new HashMap<>(System.getenv());
    String yaml = Files.readString(Path.of("conf/dev.yaml"));
    var config = ConfigLoader.parse(yaml, Path.of("conf"), env, ConfigLoader.Profile.dev(null, 0, io.scangate.dev.FreePort::find))
        .withServers(env.get("SCANGATE_REDIS_URL"), env.get("SCANGATE_POSTGRES_URL"));
    Postgres.createDatabaseIfMissing(config.postgres().url());
    Vertx vertx = Vertx.vertx();
    ScanGate gateway = ScanGate.start(vertx, config, ScanGate.Options.production(null))
        .toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
    UserStore users = new UserStore(gateway.infrastructure());
    var connection = config.connection("wechat-mini").orElseThrow();
    var user = users.resolve(new WeChatIdentity("wechat-mini", connection.wechatAppId(), "o-bench", null, null, "Bench", null),
        connection, new LoginContext("demo", "127.0.0.1")).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    JsonObject tokens = io.scangate.token.TokenService.proxy(vertx).issue(user.id(), "demo", null, null)
        .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    System.out.println(gateway.port() + " " + tokens.getString("access_token"));
    System.out.flush();
    Thread.currentThread().join();
  }
}
