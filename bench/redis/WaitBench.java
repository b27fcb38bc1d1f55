import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.Request;

import java.util.Arrays;

/**
 * What {@code WAIT 1} adds to a confirm: the confirm's Redis work (a script like QrScripts'
 * confirm: status check, HSET, ticket SET, version bump, HGETALL, PUBLISH) one after another,
 * without and with a following {@code WAIT 1 1000}, alternating rounds so both see the same
 * machine. Args: redis URL (a primary with one replica), confirms per round, rounds.
 */
public class WaitBench {

  static final String CONFIRM = """
      local s = KEYS[1]
      if redis.call('HGET', s, 'status') == 'CONFIRMED' then redis.call('HSET', s, 'status', 'SCANNED') end
      redis.call('HSET', s, 'status', 'CONFIRMED', 'userId', ARGV[1], 'ticket', ARGV[2])
      redis.call('SET', KEYS[2], cjson.encode({sessionId = s, userId = ARGV[1]}), 'EX', 300)
      redis.call('HINCRBY', s, 'version', 1)
      local flat = redis.call('HGETALL', s)
      local state = {}
      for i = 1, #flat, 2 do state[flat[i]] = flat[i + 1] end
      local encoded = cjson.encode(state)
      redis.call('PUBLISH', 'bench:channel', encoded)
      return encoded""";

  public static void main(String[] args) throws Exception {
    String url = args[0];
    int perRound = Integer.parseInt(args[1]);
    int rounds = Integer.parseInt(args[2]);
    Vertx vertx = Vertx.vertx();
    Redis redis = Redis.createClient(vertx, new RedisOptions().setConnectionString(url).setMaxPoolSize(1));
    await(redis.send(Request.cmd(Command.HSET).arg("{b}:s").arg("status").arg("SCANNED").arg("qrContent").arg("x".repeat(60))
        .arg("appId").arg("bench").arg("connection").arg("wechat-mini-qr").arg("createdAt").arg("1764560000000")));
    run(redis, 2_000, false); // warm-up
    run(redis, 2_000, true);
    long[] plain = new long[0];
    long[] waited = new long[0];
    for (int r = 0; r < rounds; r++) {
      plain = concat(plain, run(redis, perRound, false));
      waited = concat(waited, run(redis, perRound, true));
    }
    report("confirm", plain);
    report("confirm + WAIT 1", waited);
    System.out.printf("ratio of means (with WAIT / without): %.2f%n", mean(waited) / mean(plain));
    vertx.close();
  }

  static long[] run(Redis redis, int count, boolean wait) throws Exception {
    long[] nanos = new long[count];
    for (int i = 0; i < count; i++) {
      long t = System.nanoTime();
      Future<?> f = redis.send(Request.cmd(Command.EVAL).arg(CONFIRM).arg(2).arg("{b}:s").arg("{b}:t")
          .arg("user-" + i).arg("ticket-" + i));
      if (wait) f = f.compose(x -> redis.send(Request.cmd(Command.WAIT).arg(1).arg(1000)));
      await(f);
      nanos[i] = System.nanoTime() - t;
    }
    return nanos;
  }

  static void report(String what, long[] nanos) {
    long[] s = nanos.clone();
    Arrays.sort(s);
    System.out.printf("%-18s n=%d mean %.3f ms, p50 %.3f ms, p99 %.3f ms%n", what, s.length, mean(s) / 1e6,
        s[s.length / 2] / 1e6, s[(int) (s.length * 0.99)] / 1e6);
  }

  static double mean(long[] a) {
    return Arrays.stream(a).average().orElse(0);
  }

  static long[] concat(long[] a, long[] b) {
    long[] c = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, c, a.length, b.length);
    return c;
  }

  static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get();
  }
}
