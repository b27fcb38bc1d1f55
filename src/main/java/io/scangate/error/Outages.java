package io.scangate.error;

/** Recognises a failure that means Redis or PostgreSQL is unreachable or went away: an outage to report as 503, not a bug. */
public final class Outages {

  private Outages() {}

  public static boolean isBackendOutage(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
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
