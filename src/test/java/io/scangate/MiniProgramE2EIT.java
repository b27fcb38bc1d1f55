package io.scangate;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The reference mini program (miniprogram/) end to end, without WeChat's tools: its pages' logic
 * runs under node's own test runner against a simulated {@code wx} (src/test/miniprogram) and a
 * start-dev gateway from the shaded jar. Runs with -Pe2e.
 */
class MiniProgramE2EIT {

  @Test
  void theMiniProgramsFlowsPassAgainstARunningGateway() throws Exception {
    Map<String, String> env = ShadedJarIT.serverEnv();
    List<String> args = List.of("start-dev", "--config", "src/test/miniprogram/gateway.yaml", "--port", "0");
    try (ShadedJarIT.RunningJar jar = new ShadedJarIT.RunningJar(args, env, true)) {
      String base = jar.awaitReady();
      ProcessBuilder pb = new ProcessBuilder("node", "--test", "--test-reporter=spec", "src/test/miniprogram/").redirectErrorStream(true);
      pb.environment().put("SCANGATE_URL", base);
      Process node = pb.start();
      String output = new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(node.waitFor(180, TimeUnit.SECONDS)).isTrue();
      assertThat(node.exitValue()).as(output).isZero();
      // Every scenario ran (node --test exits 0 for an empty run too).
      assertThat(output).contains("pass 9", "fail 0");
      jar.stop();
    }
  }
}
