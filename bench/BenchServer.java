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
 * With BENCH_TOKENS=N and BENCH_TOKENS_FILE=path it first writes N further valid access tokens,
 * one per line, each distinct (own jti), for the distinct-token verify benchmark.
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
    String count = env.get("BENCH_TOKENS");
    if (count != null) mint(vertx, gateway, user.id(), Integer.parseInt(count), Path.of(env.get("BENCH_TOKENS_FILE")));
    System.out.println(gateway.port() + " " + tokens.getString("access_token"));
    System.out.flush();
    Thread.currentThread().join();
  }

  /**
   * Signs access tokens as the token service does (same key, header and claims), but without a
   * refresh token or id token each: one RSA signature per token. The classes are package-private,
   * so this goes through reflection, like the JMH benchmarks; a changed signature fails loudly.
   */
  static void mint(Vertx vertx, ScanGate gateway, String userId, int n, Path file) throws Exception {
    var config = gateway.infrastructure().config();
    Class<?> storeType = Class.forName("io.scangate.token.SigningKeyStore");
    var make = storeType.getDeclaredConstructor(Vertx.class, io.vertx.sqlclient.Pool.class, String.class);
    make.setAccessible(true);
    Object store = make.newInstance(vertx, gateway.infrastructure().postgres(), config.tokens().keyEncryptionKey());
    var loadAll = storeType.getDeclaredMethod("loadAll");
    loadAll.setAccessible(true);
    var unseal = storeType.getDeclaredMethod("unseal", Class.forName("io.scangate.token.SigningKeyStore$StoredKey"));
    unseal.setAccessible(true);
    java.util.List<?> keys = ((io.vertx.core.Future<java.util.List<?>>) loadAll.invoke(store))
        .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    var algorithm = config.application("demo").orElseThrow().signingAlgorithm();
    Object stored = null;
    for (Object k : keys) {
      var key = k.getClass().getDeclaredMethod("key");
      key.setAccessible(true);
      Object signingKey = key.invoke(k);
      var alg = signingKey.getClass().getDeclaredMethod("algorithm");
      alg.setAccessible(true);
      if (alg.invoke(signingKey) == algorithm) stored = k;
    }
    Object key = ((io.vertx.core.Future<?>) unseal.invoke(store, stored)).toCompletionStage().toCompletableFuture()
        .get(30, TimeUnit.SECONDS);
    var sign = Class.forName("io.scangate.token.TokenManager").getDeclaredMethod("sign",
        Class.forName("io.scangate.token.SigningKey"), String.class, JsonObject.class);
    sign.setAccessible(true);
    long iat = System.currentTimeMillis() / 1000;
    String[] out = new String[n];
    java.util.stream.IntStream.range(0, n).parallel().forEach(i -> {
      JsonObject claims = new JsonObject().put("iss", config.tokens().issuer()).put("sub", userId).put("aud", "demo")
          .put("iat", iat).put("exp", iat + 86_400).put("jti", java.util.UUID.randomUUID().toString())
          .put("client_id", "demo").put("scope", "openid profile phone").put("token_use", "access");
      try {
        out[i] = (String) sign.invoke(null, key, "at+jwt", claims);
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException(e);
      }
    });
    Files.write(file, java.util.List.of(out));
  }
}
