package io.scangate.error;

/** Recognises a failure that means Redis or PostgreSQL is unreachable or went away: an outage to report as 503, not a bug. */
public final class Outages {

  private Outages() {}

  /** A backing service's failure, marked with the service's name where the failure is first seen (the Redis client). */
  public static final class Unavailable extends RuntimeException {
    private final String backend;

    public Unavailable(String backend, Throwable cause) {
      super(backend + " is unavailable: " + cause.getMessage(), cause, false, false);
      this.backend = backend;
    }

    public String backend() {
      return backend;
    }
  }

  /** For {@code Future.recover}: marks an outage failure as {@code backend}'s; anything else passes unchanged. */
  public static <T> io.vertx.core.Future<T> mark(String backend, Throwable failure) {
    return io.vertx.core.Future.failedFuture(isBackendOutage(failure) && !(failure instanceof Unavailable)
        ? new Unavailable(backend, failure) : failure);
  }

  /**
   * {@code target} behind a proxy of {@code type} whose futures' outage failures are marked as
   * {@code backend}'s; SQL-client objects it hands out (queries, prepared queries) are wrapped the same way.
   */
  @SuppressWarnings("unchecked")
  public static <T> T marking(String backend, Class<T> type, T target) {
    return (T) java.lang.reflect.Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, (proxy, method, args) -> {
      Object result;
      try {
        result = method.invoke(target, args);
      } catch (java.lang.reflect.InvocationTargetException e) {
        throw e.getCause();
      }
      if (result instanceof io.vertx.core.Future<?> future) return future.recover(e -> mark(backend, e));
      Class<?> returned = method.getReturnType();
      if (result != null && returned.isInterface() && returned.getPackageName().equals("io.vertx.sqlclient")
          && returned.isInstance(result)) {
        return marking(backend, (Class<Object>) returned, result);
      }
      return result;
    });
  }

  /**
   * Which service an outage failure comes from: "Redis" (marked by the Redis client), "PostgreSQL"
   * (the failure came through the SQL client), else null (unknown).
   */
  public static String backendOf(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof Unavailable u) return u.backend();
      String type = t.getClass().getName();
      if (type.startsWith("io.vertx.pgclient.") || type.startsWith("io.vertx.sqlclient.")) return "PostgreSQL";
    }
    return null;
  }

  /** The 503 for an outage: names the service when known. */
  public static ApiException toApiException(Throwable failure) {
    String backend = backendOf(failure);
    return ApiException.unavailable(backend == null
        ? "A backing service (Redis or PostgreSQL) is unavailable; try again shortly"
        : backend + " is unavailable; try again shortly");
  }

  public static boolean isBackendOutage(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof Unavailable) return true;
      if (t instanceof io.vertx.pgclient.PgException pg && pg.getSqlState() != null
          && (pg.getSqlState().startsWith("08") || pg.getSqlState().startsWith("57P"))) {
        return true; // connection exceptions, admin shutdown, crash shutdown, cannot connect now
      }
      if (t instanceof io.vertx.sqlclient.ClosedConnectionException) return true;
      if (t instanceof java.net.ConnectException || t instanceof java.nio.channels.ClosedChannelException
          || t instanceof java.net.SocketException || t instanceof io.netty.channel.ConnectTimeoutException
          || t instanceof io.vertx.core.http.ConnectionPoolTooBusyException
          || t instanceof java.util.concurrent.TimeoutException) {
        return true;
      }
      String message = String.valueOf(t.getMessage());
      // Redis' own answers while a failover is under way: no primary for the slot, a replica not
      // yet promoted, a server still loading its data.
      if ((message.startsWith("CLUSTERDOWN") || message.startsWith("MASTERDOWN") || message.startsWith("READONLY")
              || message.startsWith("TRYAGAIN") || message.startsWith("LOADING"))) {
        return true;
      }
      if (t instanceof io.vertx.core.VertxException
          && (message.contains("Connection refused") || message.contains("Connection was closed")
              || message.contains("Connection reset") || message.contains("Timeout"))) {
        return true;
      }
    }
    return false;
  }
}
