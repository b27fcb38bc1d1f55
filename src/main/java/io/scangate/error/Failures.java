package io.scangate.error;

import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a service answers over the event bus when it fails: refusals ({@link ApiException}) as
 * they are; a Redis or PostgreSQL outage as {@code 503 service_unavailable}; anything else is a
 * bug, logged here with its cause and answered {@code 500 internal_error} (no stack trace or
 * internal message crosses the bus).
 */
public final class Failures {

  private static final Logger log = LoggerFactory.getLogger(Failures.class);

  private Failures() {}

  public static <T> Future<T> forBus(Future<T> result) {
    return result.recover(e -> Future.failedFuture(toApiException(e)));
  }

  public static ApiException toApiException(Throwable e) {
    ApiException api = ApiException.from(e);
    if (api != null) return api;
    if (Outages.isBackendOutage(e)) {
      log.atWarn().addKeyValue("reason", String.valueOf(e.getMessage())).log("a backing service is unavailable");
      return Outages.toApiException(e);
    }
    log.atError().setCause(e).log("service call failed");
    return ApiException.internal("Internal error");
  }
}
