package io.scangate;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.scangate.config.ScanGateConfig;
import io.scangate.redis.RedisKeys;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;
import io.vertx.sqlclient.Pool;

/** What every capability is built from: the config and the shared, thread-safe clients. */
public record Infrastructure(
    Vertx vertx,
    ScanGateConfig config,
    Pool postgres,
    Redis redis,
    RedisKeys keys,
    PrometheusMeterRegistry metrics,
    boolean dev) {
}
