package io.scangate.redis;

import io.scangate.config.ScanGateConfig.RedisSettings;
import io.scangate.dev.EmbeddedRedis;
import io.scangate.dev.FreePort;
import io.scangate.testing.TestServers;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.ProtocolVersion;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static io.scangate.testing.Await.await;
import static io.scangate.testing.Await.failure;
import static io.scangate.testing.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The shared subscription against the real Redis: delivery, reconnecting after the server drops
 * the connection (found by its client name and killed by id, so other users of the same Redis are
 * left alone), the stale-connection guard, close, and a start without Redis.
 */
@ExtendWith(VertxExtension.class)
class RedisSubscriptionTest {

  private Vertx vertx;
  private Redis commands;
  private String prefix;
  private String clientName;
  private final List<RedisSubscription> opened = new ArrayList<>();
  private final List<String> received = new CopyOnWriteArrayList<>();
  private final AtomicInteger catchUps = new AtomicInteger();

  @BeforeEach
  void setUp(Vertx vertx) {
    this.vertx = vertx;
    this.prefix = TestServers.freshKeyPrefix();
    this.clientName = "scangate-test-sub-" + TestServers.randomHex(6);
    this.commands = RedisClients.create(vertx, new RedisSettings(TestServers.redisUrl(), prefix));
  }

  @AfterEach
  void tearDown() {
    for (RedisSubscription s : opened) await(s.close());
    commands.close();
  }

  private RedisSubscription subscriptionAt(String url, String... channels) {
    RedisSubscription s = new RedisSubscription(vertx, new RedisSettings(url, prefix), "test", List.of(channels),
        (channel, payload) -> received.add(channel + "=" + payload),
        () -> {
          catchUps.incrementAndGet();
          return Future.succeededFuture();
        }).clientName(clientName);
    opened.add(s);
    return s;
  }

  private RedisSubscription subscription(String... channels) {
    return subscriptionAt(TestServers.redisUrl(), channels);
  }

  /** PUBLISH answers how many subscribers got the message. */
  private long publish(String channel, String payload) {
    return await(commands.send(Request.cmd(Command.PUBLISH).arg(channel).arg(payload))).toLong();
  }

  /** Ids of the connections named {@link #clientName}. */
  private List<String> namedClients() {
    String list = await(commands.send(Request.cmd(Command.CLIENT).arg("LIST"))).toString();
    List<String> ids = new ArrayList<>();
    for (String line : list.split("\n")) {
      if ((" " + line + " ").contains(" name=" + clientName + " ")) {
        for (String field : line.trim().split(" ")) if (field.startsWith("id=")) ids.add(field.substring(3));
      }
    }
    return ids;
  }

  private void killNamedClient() {
    List<String> ids = namedClients();
    assertThat(ids).hasSize(1);
    await(commands.send(Request.cmd(Command.CLIENT).arg("KILL").arg("ID").arg(ids.get(0))));
  }

  private long count(String message) {
    return received.stream().filter(message::equals).count();
  }

  private void onContextOf(RedisSubscription s, Runnable task) {
    Promise<Void> done = Promise.promise();
    s.context().runOnContext(v -> {
      task.run();
      done.complete();
    });
    await(done.future());
  }

  @Test
  void deliversMessagesOfEveryChannelAfterOneCatchUp() {
    String a = prefix + "channel:a";
    String b = prefix + "channel:b";
    RedisSubscription s = subscription(a, b);
    await(s.start());
    assertThat(s.connected()).isTrue();
    assertThat(catchUps.get()).isEqualTo(1);

    assertThat(publish(a, "one")).isEqualTo(1);
    assertThat(publish(b, "two")).isEqualTo(1);
    assertThat(publish(prefix + "channel:other", "three")).isZero();
    assertThat(until(() -> received.size() >= 2, 5_000)).isTrue();
    assertThat(received).containsExactly(a + "=one", b + "=two");
  }

  @Test
  void deliversOverResp2Too() {
    String channel = prefix + "channel:resp2";
    RedisOptions options = RedisClients.options(new RedisSettings(TestServers.redisUrl(), prefix))
        .setMaxPoolSize(1).setPreferredProtocolVersion(ProtocolVersion.RESP2);
    RedisSubscription s = new RedisSubscription(vertx, options, "test", List.of(channel),
        (c, p) -> received.add(c + "=" + p), () -> {
          catchUps.incrementAndGet();
          return Future.succeededFuture();
        }).clientName(clientName);
    opened.add(s);
    await(s.start());
    String line = await(commands.send(Request.cmd(Command.CLIENT).arg("LIST"))).toString().lines()
        .filter(l -> l.contains(" name=" + clientName + " ")).findFirst().orElseThrow();
    assertThat(line).contains(" resp=2");
    assertThat(publish(channel, "two")).isEqualTo(1);
    assertThat(until(() -> count(channel + "=two") == 1, 5_000)).isTrue();
    killNamedClient();
    assertThat(until(() -> s.subscriptions() == 2 && s.connected(), 10_000)).isTrue();
    assertThat(publish(channel, "again")).isEqualTo(1);
    assertThat(until(() -> count(channel + "=again") == 1, 5_000)).isTrue();
    assertThat(catchUps.get()).isEqualTo(2);
  }

  @Test
  void reconnectsByItselfAfterTheServerKillsTheConnectionAndCatchesUpAgain() {
    String channel = prefix + "channel:c";
    RedisSubscription s = subscription(channel);
    await(s.start());
    assertThat(publish(channel, "before")).isEqualTo(1);
    assertThat(until(() -> count(channel + "=before") == 1, 5_000)).isTrue();

    killNamedClient();
    assertThat(until(() -> s.subscriptions() == 2 && s.connected(), 10_000)).isTrue();
    assertThat(catchUps.get()).isEqualTo(2);

    // Exactly one subscriber, which gets each message exactly once.
    assertThat(publish(channel, "after")).isEqualTo(1);
    assertThat(until(() -> count(channel + "=after") == 1, 5_000)).isTrue();
    sleep(300);
    assertThat(count(channel + "=after")).isEqualTo(1);
    assertThat(count(channel + "=before")).isEqualTo(1);
    assertThat(namedClients()).hasSize(1);

    // And again: the backoff was reset, the second loss is handled like the first.
    killNamedClient();
    assertThat(until(() -> s.subscriptions() == 3 && s.connected(), 10_000)).isTrue();
    assertThat(publish(channel, "again")).isEqualTo(1);
    assertThat(until(() -> count(channel + "=again") == 1, 5_000)).isTrue();
  }

  @Test
  void eventsOfAStaleConnectionDoNotReconnectAndTwoEventsOfTheCurrentOneReconnectOnce() {
    String channel = prefix + "channel:s";
    RedisSubscription s = subscription(channel);
    await(s.start());
    RedisSubscription.Attempt old = s.currentAttempt();
    killNamedClient();
    assertThat(until(() -> s.subscriptions() == 2 && s.connected(), 10_000)).isTrue();
    RedisSubscription.Attempt replacement = s.currentAttempt();
    assertThat(replacement).isNotSameAs(old);

    // The old connection's error and end arriving late: exactly what its handlers would call.
    onContextOf(s, () -> {
      s.lost(old, "error");
      s.lost(old, "connection closed");
    });
    sleep(600); // several times the first backoff
    assertThat(s.subscriptions()).isEqualTo(2);
    assertThat(s.currentAttempt()).isSameAs(replacement);
    assertThat(s.connected()).isTrue();
    assertThat(publish(channel, "m")).isEqualTo(1);
    // (received before the next step: frames of a connection being dropped are dropped with it)
    assertThat(until(() -> count(channel + "=m") == 1, 5_000)).isTrue();

    // The current connection's error and end both firing make one reconnect, not two.
    onContextOf(s, () -> {
      s.lost(replacement, "error");
      s.lost(replacement, "connection closed");
    });
    assertThat(until(() -> s.subscriptions() == 3 && s.connected(), 10_000)).isTrue();
    sleep(600);
    assertThat(s.subscriptions()).isEqualTo(3);
    assertThat(catchUps.get()).isEqualTo(3);
    assertThat(namedClients()).hasSize(1);
    assertThat(publish(channel, "n")).isEqualTo(1);
    assertThat(until(() -> count(channel + "=n") == 1, 5_000)).isTrue();
    sleep(300);
    assertThat(count(channel + "=m")).isEqualTo(1);
    assertThat(count(channel + "=n")).isEqualTo(1);
  }

  @Test
  void closeStopsReconnecting() {
    String channel = prefix + "channel:x";
    RedisSubscription s = subscription(channel);
    await(s.start());
    killNamedClient();
    await(s.close()); // within the first backoff
    sleep(1_000);
    assertThat(s.subscriptions()).isEqualTo(1);
    assertThat(s.connected()).isFalse();
    assertThat(namedClients()).isEmpty();
    assertThat(publish(channel, "late")).isZero();
    await(s.close()); // twice is fine
  }

  @Test
  void aFailedStartFailsAndByDefaultGivesUp() throws Exception {
    int port = FreePort.find();
    RedisSubscription s = subscriptionAt("redis://127.0.0.1:" + port, prefix + "channel:d");
    assertThat(failure(s.start())).isNotNull();
    try (EmbeddedRedis redis = EmbeddedRedis.start(port)) {
      sleep(1_000);
      assertThat(s.subscriptions()).isZero();
      assertThat(s.connected()).isFalse();
      Redis local = RedisClients.create(vertx, new RedisSettings(redis.url(), prefix));
      try {
        assertThat(await(local.send(Request.cmd(Command.PUBLISH).arg(prefix + "channel:d").arg("x"))).toLong()).isZero();
      } finally {
        local.close();
      }
    }
  }

  @Test
  void whenAskedItKeepsRetryingAfterAFailedStartUntilClosed() throws Exception {
    int port = FreePort.find();
    String channel = prefix + "channel:r";
    RedisSubscription s = subscriptionAt("redis://127.0.0.1:" + port, channel).keepRetryingIfStartFails(true);
    assertThat(failure(s.start())).isNotNull();
    try (EmbeddedRedis redis = EmbeddedRedis.start(port)) {
      assertThat(until(() -> s.subscriptions() == 1 && s.connected(), 15_000)).isTrue();
      assertThat(catchUps.get()).isEqualTo(1);
      Redis local = RedisClients.create(vertx, new RedisSettings(redis.url(), prefix));
      try {
        assertThat(await(local.send(Request.cmd(Command.PUBLISH).arg(channel).arg("hello"))).toLong()).isEqualTo(1);
        assertThat(until(() -> count(channel + "=hello") == 1, 5_000)).isTrue();
      } finally {
        local.close();
      }
    }
    // Redis is gone again; closing while it retries stops the retries.
    assertThat(until(() -> !s.connected(), 5_000)).isTrue();
    await(s.close());
    try (EmbeddedRedis redis = EmbeddedRedis.start(port)) {
      sleep(1_500);
      assertThat(s.subscriptions()).isEqualTo(1);
      assertThat(s.connected()).isFalse();
    }
  }

  @Test
  void aFailedCatchUpIsRetriedOnAFreshConnection() {
    String channel = prefix + "channel:f";
    AtomicInteger calls = new AtomicInteger();
    RedisSubscription s = new RedisSubscription(vertx, new RedisSettings(TestServers.redisUrl(), prefix), "test",
        List.of(channel), (c, p) -> received.add(c + "=" + p),
        () -> calls.incrementAndGet() == 2 ? Future.failedFuture("catch-up failed") : Future.succeededFuture())
        .clientName(clientName);
    opened.add(s);
    await(s.start());
    killNamedClient();
    // The second catch-up fails, the third succeeds on a new connection.
    assertThat(until(() -> s.subscriptions() == 2 && s.connected(), 10_000)).isTrue();
    assertThat(calls.get()).isEqualTo(3);
    assertThat(namedClients()).hasSize(1);
    assertThat(publish(channel, "ok")).isEqualTo(1);
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
