package io.scangate.redis;

import io.scangate.config.ScanGateConfig.RedisMode;
import io.scangate.config.ScanGateConfig.RedisSettings;
import io.vertx.redis.client.RedisClientType;
import io.vertx.redis.client.RedisOptions;
import io.vertx.redis.client.RedisRole;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class RedisClientsTest {

  @Test
  void standaloneUsesTheUrlAlone() {
    RedisOptions o = RedisClients.options(new RedisSettings("redis://127.0.0.1:6379", "p:", RedisMode.STANDALONE, List.of(), "mymaster"));
    assertThat(o.getType()).isEqualTo(RedisClientType.STANDALONE);
    assertThat(o.getEndpoints()).containsExactly("redis://127.0.0.1:6379");
  }

  @Test
  void clusterSeedsWithTheUrlAndTheNodes() {
    RedisOptions o = RedisClients.options(new RedisSettings("redis://10.0.0.1:6379", "p:", RedisMode.CLUSTER,
        List.of("redis://10.0.0.2:6379", "redis://10.0.0.3:6379"), null));
    assertThat(o.getType()).isEqualTo(RedisClientType.CLUSTER);
    assertThat(o.getEndpoints()).containsExactly("redis://10.0.0.1:6379", "redis://10.0.0.2:6379", "redis://10.0.0.3:6379");
  }

  @Test
  void sentinelAsksTheSentinelsForTheMaster() {
    RedisOptions o = RedisClients.options(new RedisSettings("redis://10.0.0.1:26379", "p:", RedisMode.SENTINEL,
        List.of("redis://10.0.0.2:26379"), "mymaster"));
    assertThat(o.getType()).isEqualTo(RedisClientType.SENTINEL);
    assertThat(o.getEndpoints()).containsExactly("redis://10.0.0.1:26379", "redis://10.0.0.2:26379");
    assertThat(o.getMasterName()).isEqualTo("mymaster");
    assertThat(o.getRole()).isEqualTo(RedisRole.MASTER);
  }

  @Test
  void aSettingsUrlMovesWithItsModeKept() {
    RedisSettings s = new RedisSettings("redis://10.0.0.1:26379", "p:", RedisMode.SENTINEL, List.of("redis://10.0.0.2:26379"), "m")
        .withUrl("redis://127.0.0.1:26379");
    assertThat(s).isEqualTo(new RedisSettings("redis://127.0.0.1:26379", "p:", RedisMode.SENTINEL, List.of("redis://10.0.0.2:26379"), "m"));
    assertThat(s.toString()).doesNotContain("127.0.0.1");
  }
}
