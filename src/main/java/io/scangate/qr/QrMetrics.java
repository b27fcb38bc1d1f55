package io.scangate.qr;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;
import java.util.Map;

/**
 * QR sessions as an operator sees them, counted once (by the instance that made the change, never
 * by every instance that hears it): {@code scangate_qr_sessions_total{connection, outcome}} with
 * outcome created, scanned, confirmed, canceled, expired, failed; and
 * {@code scangate_qr_scan_to_confirm_seconds{connection}}, from the (last) scan to the confirm.
 * Tags are connection identifiers from the configuration: few, fixed.
 */
public final class QrMetrics {

  static final QrMetrics NONE = new QrMetrics(null);

  private final MeterRegistry registry;

  public QrMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  void created(QrSession session) {
    count(session.connection(), "created");
  }

  /** After a transition: the session's stored fields as the script returned them. */
  void changed(Map<String, String> hash, long now) {
    String status = hash.get("status");
    String connection = hash.get("connection");
    if (registry == null || status == null || connection == null) return;
    count(connection, status.toLowerCase(java.util.Locale.ROOT));
    String scannedAt = hash.get("scannedAt");
    if ("CONFIRMED".equals(status) && scannedAt != null && !scannedAt.isEmpty()) {
      Timer.builder("scangate.qr.scan.to.confirm").tag("connection", connection)
          .description("From the phone's scan to its confirm")
          .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(100)).maximumExpectedValue(Duration.ofMinutes(5))
          .register(registry).record(Duration.ofMillis(Math.max(0, now - Long.parseLong(scannedAt))));
    }
  }

  private void count(String connection, String outcome) {
    if (registry == null) return;
    Counter.builder("scangate.qr.sessions").tag("connection", connection).tag("outcome", outcome)
        .description("QR session changes by outcome: created, scanned, confirmed, canceled, expired, failed")
        .register(registry).increment();
  }
}
