package io.scangate.qr;

import io.scangate.config.ScanGateConfig.RedisSettings;
import io.scangate.ratelimit.RateLimiter;
import io.scangate.redis.RedisClients;
import io.scangate.redis.RedisKeys;
import io.scangate.testing.TestConfigs;
import io.scangate.testing.TestServers;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import io.vertx.redis.client.impl.RequestImpl;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static io.scangate.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Every key a script touches is declared in KEYS: each EVAL runs with a guard that fails the
 * script when {@code redis.call}/{@code redis.pcall} gets a key that is not in KEYS (PUBLISH's
 * channel is not a key). Managed cluster proxies refuse such scripts; a real cluster refuses them
 * only when the key is in another slot (RedisHighAvailabilityTest covers that).
 */
@ExtendWith(VertxExtension.class)
class ScriptKeysTest {

  /** Shadows the global {@code redis} for the rest of the script with one whose call/pcall check the key. */
  static final String GUARD = """
      local declared = {}
      for _, k in ipairs(KEYS) do declared[k] = true end
      local function guarded(f)
        return function(cmd, ...)
          local key = select(1, ...)
          if string.upper(cmd) ~= 'PUBLISH' and key ~= nil and not declared[key] then
            return error('script touched undeclared key ' .. tostring(key) .. ' with ' .. cmd)
          end
          return f(cmd, ...)
        end
      end
      local redis = setmetatable({call = guarded(redis.call), pcall = guarded(redis.pcall)}, {__index = redis})
      """;

  /** A client that puts {@link #GUARD} in front of every script it sends. */
  static final class Guarded implements Redis {
    final Redis client;

    Guarded(Redis client) {
      this.client = client;
    }

    static Request guard(Request request) {
      if (request.command() != Command.EVAL) return request;
      List<byte[]> args = ((RequestImpl) request).getArgs();
      Request guarded = Request.cmd(Command.EVAL).arg(GUARD + new String(args.get(0), StandardCharsets.UTF_8));
      for (byte[] a : args.subList(1, args.size())) guarded.arg(a);
      return guarded;
    }

    @Override public Future<RedisConnection> connect() { return client.connect(); }
    @Override public Future<Void> close() { return client.close(); }
    @Override public Future<Response> send(Request command) { return client.send(guard(command)); }
    @Override public Future<List<Response>> batch(List<Request> commands) {
      return client.batch(commands.stream().map(Guarded::guard).toList());
    }
  }

  private Redis plain;
  private Redis redis;
  private RedisKeys keys;

  @BeforeEach
  void setUp(Vertx vertx) {
    String prefix = TestServers.freshKeyPrefix();
    plain = RedisClients.create(vertx, new RedisSettings(TestServers.redisUrl(), prefix));
    redis = new Guarded(plain);
    keys = new RedisKeys(prefix);
  }

  @AfterEach
  void tearDown() {
    await(plain.close());
  }

  @Test
  void theGuardRefusesAScriptThatTouchesAnUndeclaredKey() {
    Request sneaky = Request.cmd(Command.EVAL).arg("redis.call('SET', KEYS[1], '1'); return redis.call('GET', ARGV[1])")
        .arg(1).arg(keys.key("declared")).arg(keys.key("undeclared"));
    assertThatThrownBy(() -> await(redis.send(sneaky))).hasMessageContaining("undeclared key");
    // The same script with both keys declared passes.
    Request honest = Request.cmd(Command.EVAL).arg("redis.call('SET', KEYS[1], '1'); return redis.call('GET', KEYS[2])")
        .arg(2).arg(keys.key("declared")).arg(keys.key("undeclared"));
    assertThat(await(redis.send(honest))).isNull();
  }

  @Test
  void everyQrScriptAndTheRateLimiterDeclareTheirKeys() {
    QrSessionStore store = new QrSessionStore(redis, keys, TestConfigs.standard().qr());
    long now = System.currentTimeMillis();
    for (String op : List.of("confirm", "confirmDirect", "cancel", "fail", "expire")) {
      String tag = QrIds.newTag();
      String id = QrIds.sessionId(tag);
      long expiresAt = "expire".equals(op) ? now - 1 : now + 60_000;
      await(store.create(new QrSession(id, QrSession.Status.PENDING, "demo", "wechat-mini-qr", QrIds.scene(tag), "content",
          now, expiresAt, "127.0.0.1", "ua", null, null, null, null, null, null, null, null, 1)));
      QrSession done = switch (op) {
        case "confirm" -> {
          await(store.scan(id, "o", "u", QrIds.hash("t"), "Mei", "https://img.example.com/a.png"));
          yield await(store.confirm(id, QrIds.hash("t"), "user-1", QrIds.ticket(id), null, null));
        }
        case "confirmDirect" -> await(store.confirmDirect(id, "o", null, "user-1", QrIds.ticket(id), "Mei", null));
        case "cancel" -> {
          await(store.scan(id, "o", "u", QrIds.hash("t"), null, null));
          yield await(store.cancel(id, QrIds.hash("t")));
        }
        case "fail" -> await(store.fail(id, null, "login_only"));
        default -> {
          assertThat(await(store.sweep())).isEqualTo(1);
          yield await(store.get(id)).orElseThrow();
        }
      };
      assertThat(done.status().terminal()).as(op).isTrue();
      if (done.ticket() != null) assertThat(await(store.consumeTicket(done.ticket()))).isPresent();
    }
    await(new RateLimiter(redis, keys).acquire("qr-ip", "127.0.0.1", 10, "tests"));
  }
}
