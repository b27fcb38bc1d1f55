package io.scangate.admin;

import io.scangate.error.ApiException;
import io.scangate.util.Times;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Reading the audit log (newest first, by id: the cursor is the last id seen) and deleting what
 * is older than {@code admin.auditRetention}. Rows are written by {@code UserStore.audit}.
 */
public final class AuditLog {

  public static final int DEFAULT_LIMIT = 50;
  public static final int MAX_LIMIT = 1000;
  private static final Pattern TYPE = Pattern.compile("[a-z_]{1,64}");
  private static final int DELETE_BATCH = 10_000;
  private static final String TRY_LOCK = "SELECT pg_try_advisory_xact_lock(hashtextextended('scangate:audit-retention', 0)) AS locked";
  private static final String DELETE_OLD = """
      DELETE FROM audit_log WHERE id IN (
        SELECT id FROM audit_log WHERE at < now() - make_interval(secs => $1) ORDER BY id LIMIT $2)""";

  private final Pool pool;

  public AuditLog(Pool pool) {
    this.pool = pool;
  }

  /** A checked filter; every field may be null. */
  public record Filter(UUID user, String type, Instant since, Instant until, int limit, Long cursor) {

    /** From the API's (or command line's) JSON: {@code user, type, since, until, limit, cursor}, as strings or numbers. */
    public static Filter of(JsonObject json) {
      UUID user = null;
      String userText = text(json, "user");
      if (userText != null) {
        try {
          user = UUID.fromString(userText);
        } catch (IllegalArgumentException e) {
          throw ApiException.badRequest("invalid_request", "user must be a user id");
        }
      }
      String type = text(json, "type");
      if (type != null && !TYPE.matcher(type).matches()) {
        throw ApiException.badRequest("invalid_request", "type must be an event type such as login or user_blocked");
      }
      Instant since = instant(json, "since");
      Instant until = instant(json, "until");
      int limit = AuditLog.limit(text(json, "limit"), DEFAULT_LIMIT, MAX_LIMIT);
      Long cursor = null;
      String cursorText = text(json, "cursor");
      if (cursorText != null) {
        try {
          cursor = Long.parseLong(cursorText);
        } catch (NumberFormatException e) {
          throw ApiException.badRequest("invalid_cursor", "cursor is not one this API gave");
        }
      }
      return new Filter(user, type, since, until, limit, cursor);
    }
  }

  /** A page size from text: {@code 1..max}, {@code fallback} when absent. */
  public static int limit(String text, int fallback, int max) {
    if (text == null) return fallback;
    try {
      int n = Integer.parseInt(text);
      if (n >= 1 && n <= max) return n;
    } catch (NumberFormatException ignored) {
      // below
    }
    throw ApiException.badRequest("invalid_request", "limit must be a whole number from 1 to " + max);
  }

  private static String text(JsonObject json, String name) {
    Object v = json.getValue(name);
    if (v == null) return null;
    String s = String.valueOf(v).trim();
    return s.isEmpty() ? null : s;
  }

  private static Instant instant(JsonObject json, String name) {
    String v = text(json, name);
    if (v == null) return null;
    try {
      return OffsetDateTime.parse(v).toInstant();
    } catch (DateTimeParseException e) {
      throw ApiException.badRequest("invalid_request", name + " must be an ISO-8601 time such as 2026-11-21T15:04:05Z");
    }
  }

  /** {@code {"events": [...], "nextCursor"?}}, newest first. */
  public Future<JsonObject> read(Filter f) {
    List<Object> params = new ArrayList<>();
    StringBuilder sql = new StringBuilder(
        "SELECT id, at, event, outcome, user_id, app_id, connection, client_ip, detail FROM audit_log WHERE TRUE");
    if (f.user() != null) {
      params.add(f.user());
      sql.append(" AND user_id = $").append(params.size());
    }
    if (f.type() != null) {
      params.add(f.type());
      sql.append(" AND event = $").append(params.size());
    }
    if (f.since() != null) {
      params.add(f.since().atOffset(ZoneOffset.UTC));
      sql.append(" AND at >= $").append(params.size());
    }
    if (f.until() != null) {
      params.add(f.until().atOffset(ZoneOffset.UTC));
      sql.append(" AND at < $").append(params.size());
    }
    if (f.cursor() != null) {
      params.add(f.cursor());
      sql.append(" AND id < $").append(params.size());
    }
    params.add(f.limit() + 1);
    sql.append(" ORDER BY id DESC LIMIT $").append(params.size());
    return pool.preparedQuery(sql.toString()).execute(Tuple.from(params)).map(rows -> {
      io.vertx.core.json.JsonArray events = new io.vertx.core.json.JsonArray();
      Long last = null;
      for (Row row : rows) {
        if (events.size() == f.limit()) break;
        events.add(toJson(row));
        last = row.getLong("id");
      }
      JsonObject page = new JsonObject().put("events", events);
      if (rows.size() > f.limit() && last != null) page.put("nextCursor", String.valueOf(last));
      return page;
    });
  }

  /** {@code {"id", "at", "type", "userId"?, "appId"?, "connection"?, "ip"?, "detail"}}; the outcome is in detail. */
  static JsonObject toJson(Row row) {
    JsonObject json = new JsonObject().put("id", String.valueOf(row.getLong("id")))
        .put("at", Times.iso(row.getOffsetDateTime("at").toInstant()))
        .put("type", row.getString("event"));
    UUID user = row.getUUID("user_id");
    if (user != null) json.put("userId", user.toString());
    if (row.getString("app_id") != null) json.put("appId", row.getString("app_id"));
    if (row.getString("connection") != null) json.put("connection", row.getString("connection"));
    if (row.getString("client_ip") != null) json.put("ip", row.getString("client_ip"));
    Object raw = row.getValue("detail");
    JsonObject detail = raw instanceof JsonObject o ? o.copy() : raw == null ? new JsonObject() : new JsonObject(String.valueOf(raw));
    detail.put("outcome", row.getString("outcome"));
    return json.put("detail", detail);
  }

  /**
   * Deletes events older than {@code retention}, in batches; one instance at a time (a
   * transaction-scoped advisory lock others skip), so many instances may run it. Answers how many.
   */
  public Future<Long> deleteOlderThan(Duration retention) {
    return deleteBatch(retention, 0);
  }

  private Future<Long> deleteBatch(Duration retention, long sofar) {
    return pool.withTransaction(conn -> conn.query(TRY_LOCK).execute().compose(rows -> {
      if (!rows.iterator().next().getBoolean("locked")) return Future.succeededFuture(-1);
      return conn.preparedQuery(DELETE_OLD).execute(Tuple.of((double) retention.toSeconds(), DELETE_BATCH))
          .map(deleted -> deleted.rowCount());
    })).compose(n -> n == DELETE_BATCH ? deleteBatch(retention, sofar + n) : Future.succeededFuture(sofar + Math.max(n, 0)));
  }
}
