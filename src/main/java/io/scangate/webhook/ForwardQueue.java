package io.scangate.webhook;

import io.scangate.redis.RedisKeys;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The durable queue of pushes waiting for one forwarding target: a Redis Stream read through a
 * consumer group (each entry is handed to one consumer, that is one gateway instance; an entry a
 * crashed instance held is taken over with XAUTOCLAIM), plus a sorted set of entries waiting for
 * their next try (score = when). Both keys of a target share the hash tag {@code {forward:<id>}},
 * so the scripts touching both stay in one Redis Cluster slot.
 */
final class ForwardQueue {

  static final String GROUP = "forwarders";

  /** One queued push: the connection it came through, its plaintext message XML, tries so far. */
  record Item(String id, String connection, String message, int attempts) {}

  /** Acknowledges and removes the entry, then schedules it again (KEYS stream, retry; ARGV id, group, due, member). */
  private static final String RESCHEDULE = """
      redis.call('XACK', KEYS[1], ARGV[2], ARGV[1])
      redis.call('XDEL', KEYS[1], ARGV[1])
      redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
      return 1
      """;

  /** Moves due retries back into the stream (KEYS stream, retry; ARGV now ms, max). */
  private static final String PROMOTE = """
      local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
      for _, member in ipairs(due) do
        redis.call('ZREM', KEYS[2], member)
        local item = cjson.decode(member)
        redis.call('XADD', KEYS[1], '*', 'c', item.c, 'm', item.m, 'a', tostring(item.a))
      end
      return #due
      """;

  /** Acknowledges and deletes a delivered (or dropped) entry (KEYS stream; ARGV id, group). */
  private static final String DONE = """
      redis.call('XACK', KEYS[1], ARGV[2], ARGV[1])
      return redis.call('XDEL', KEYS[1], ARGV[1])
      """;

  private final Redis redis;
  private final String stream;
  private final String retry;

  ForwardQueue(Redis redis, RedisKeys keys, String targetId) {
    this.redis = redis;
    this.stream = keys.inSlot("forward:" + targetId, "stream");
    this.retry = keys.inSlot("forward:" + targetId, "retry");
  }

  /** Creates the stream and its group if missing (from id 0: nothing queued before is skipped). */
  Future<Void> ensureGroup() {
    return redis.send(Request.cmd(Command.XGROUP).arg("CREATE").arg(stream).arg(GROUP).arg("0").arg("MKSTREAM"))
        .<Void>mapEmpty()
        .recover(e -> String.valueOf(e.getMessage()).contains("BUSYGROUP") ? Future.succeededFuture() : Future.failedFuture(e));
  }

  /**
   * Removes consumers (instances of earlier runs: each run reads under a new name) that hold
   * nothing and have not read for {@code idleMs}; a live instance reads every poll, so it is never
   * idle that long. Keeps the group's consumer list from growing with every restart.
   */
  Future<Void> pruneConsumers(long idleMs) {
    return redis.send(Request.cmd(Command.XINFO).arg("CONSUMERS").arg(stream).arg(GROUP)).compose(r -> {
      List<Future<Response>> removed = new ArrayList<>();
      if (r != null) {
        for (Response consumer : r) {
          Map<String, String> info = fields(consumer);
          String name = info.get("name");
          long pending = Long.parseLong(info.getOrDefault("pending", "1"));
          long idle = Long.parseLong(info.getOrDefault("idle", "0"));
          if (name != null && pending == 0 && idle > idleMs) {
            removed.add(redis.send(Request.cmd(Command.XGROUP).arg("DELCONSUMER").arg(stream).arg(GROUP).arg(name)));
          }
        }
      }
      return Future.join(removed).<Void>mapEmpty();
    });
  }

  /** A RESP3 map or a RESP2 flat list of name/value pairs, as strings. */
  private static Map<String, String> fields(Response r) {
    Map<String, String> out = new HashMap<>();
    try {
      var names = r.getKeys();
      if (names != null && !names.isEmpty()) {
        for (String n : names) out.put(n, r.get(n) == null ? null : r.get(n).toString());
        return out;
      }
    } catch (RuntimeException notAMap) {
      // a flat list: below
    }
    for (int i = 0; i + 1 < r.size(); i += 2) out.put(r.get(i).toString(), r.get(i + 1) == null ? null : r.get(i + 1).toString());
    return out;
  }

  Future<Void> add(String connection, String message) {
    return redis.send(Request.cmd(Command.XADD).arg(stream).arg("*").arg("c").arg(connection).arg("m").arg(message).arg("a").arg("0"))
        .mapEmpty();
  }

  /** New entries for {@code consumer}; the group is created again if the stream vanished (e.g. FLUSHDB). */
  Future<List<Item>> read(String consumer, int count) {
    return redis.send(Request.cmd(Command.XREADGROUP).arg("GROUP").arg(GROUP).arg(consumer).arg("COUNT").arg(count)
            .arg("STREAMS").arg(stream).arg(">"))
        .map(ForwardQueue::itemsOfRead)
        .recover(e -> String.valueOf(e.getMessage()).contains("NOGROUP")
            ? ensureGroup().map(v -> List.<Item>of()) : Future.failedFuture(e));
  }

  /** Entries another consumer took and has not finished for {@code idleMs}: that instance is gone or stuck. */
  Future<List<Item>> reclaim(String consumer, long idleMs, int count) {
    return redis.send(Request.cmd(Command.XAUTOCLAIM).arg(stream).arg(GROUP).arg(consumer).arg(idleMs).arg("0-0")
            .arg("COUNT").arg(count))
        .map(r -> r == null || r.size() < 2 ? List.<Item>of() : items(r.get(1)))
        .recover(e -> String.valueOf(e.getMessage()).contains("NOGROUP") ? Future.succeededFuture(List.of()) : Future.failedFuture(e));
  }

  Future<Void> done(Item item) {
    return redis.send(Request.cmd(Command.EVAL).arg(DONE).arg(1).arg(stream).arg(item.id()).arg(GROUP)).mapEmpty();
  }

  Future<Void> retryAt(Item item, long dueMs) {
    String member = new JsonObject().put("c", item.connection()).put("m", item.message()).put("a", item.attempts() + 1)
        .put("id", item.id()).encode();
    return redis.send(Request.cmd(Command.EVAL).arg(RESCHEDULE).arg(2).arg(stream).arg(retry)
        .arg(item.id()).arg(GROUP).arg(dueMs).arg(member)).mapEmpty();
  }

  Future<Integer> promote(long nowMs, int max) {
    return redis.send(Request.cmd(Command.EVAL).arg(PROMOTE).arg(2).arg(stream).arg(retry).arg(nowMs).arg(max))
        .map(Response::toInteger);
  }

  /** Entries waiting: in the stream (new or in flight) plus waiting for a retry. */
  Future<Long> backlog() {
    return redis.send(Request.cmd(Command.XLEN).arg(stream)).map(Response::toLong)
        .compose(n -> redis.send(Request.cmd(Command.ZCARD).arg(retry)).map(r -> n + r.toLong()));
  }

  private static List<Item> itemsOfRead(Response r) {
    if (r == null || r.size() == 0) return List.of();
    // RESP3 answers a map {stream: entries}; RESP2 a list [[stream, entries]].
    if (r.type() == io.vertx.redis.client.ResponseType.MULTI) {
      try {
        var names = r.getKeys();
        if (names != null && !names.isEmpty()) return items(r.get(names.iterator().next()));
      } catch (RuntimeException notAMap) {
        // a list: fall through
      }
    }
    Response first = r.get(0).get(1);
    return items(first);
  }

  private static List<Item> items(Response entries) {
    List<Item> out = new ArrayList<>();
    if (entries == null) return out;
    for (Response entry : entries) {
      if (entry == null || entry.size() < 2 || entry.get(1) == null) continue; // deleted while pending
      String id = entry.get(0).toString();
      Response fields = entry.get(1);
      String c = null, m = null;
      int a = 0;
      for (int i = 0; i + 1 < fields.size(); i += 2) {
        switch (fields.get(i).toString()) {
          case "c" -> c = fields.get(i + 1).toString();
          case "m" -> m = fields.get(i + 1).toString();
          case "a" -> a = Integer.parseInt(fields.get(i + 1).toString());
          default -> { }
        }
      }
      if (c != null && m != null) out.add(new Item(id, c, m, a));
    }
    return out;
  }
}
