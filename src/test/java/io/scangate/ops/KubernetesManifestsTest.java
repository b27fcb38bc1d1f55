package io.scangate.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.scangate.config.ConfigLoader;
import io.scangate.config.ScanGateConfig;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** The manifests in k8s/ agree with each other, with the gateway's configuration rules and with the image. */
class KubernetesManifestsTest {

  static final Path DIR = Path.of("k8s");
  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  static JsonNode read(String file) throws Exception {
    return YAML.readTree(DIR.resolve(file).toFile());
  }

  static Map<String, JsonNode> byKind() throws Exception {
    Map<String, JsonNode> kinds = new HashMap<>();
    for (JsonNode resource : YAML.readTree(DIR.resolve("kustomization.yaml").toFile()).path("resources")) {
      JsonNode doc = read(resource.asText());
      kinds.put(doc.path("kind").asText(), doc);
    }
    return kinds;
  }

  @Test
  void kustomizationListsEveryManifestButTheSecretExample() throws Exception {
    Set<String> listed = new HashSet<>();
    read("kustomization.yaml").path("resources").forEach(r -> listed.add(r.asText()));
    Set<String> present = new HashSet<>();
    try (Stream<Path> files = Files.list(DIR)) {
      files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".yaml")).forEach(present::add);
    }
    present.remove("kustomization.yaml");
    present.remove("secret.example.yaml"); // created by hand, with real values
    assertThat(listed).containsExactlyInAnyOrderElementsOf(present);
    assertThat(byKind().keySet()).contains("Deployment", "Service", "ConfigMap", "PodDisruptionBudget",
        "HorizontalPodAutoscaler", "NetworkPolicy", "Namespace");
  }

  @Test
  void selectorsPortsAndNamesPointAtWhatExists() throws Exception {
    Map<String, JsonNode> k = byKind();
    JsonNode deployment = k.get("Deployment");
    JsonNode podLabels = deployment.at("/spec/template/metadata/labels");
    assertThat(deployment.at("/spec/selector/matchLabels")).isEqualTo(podLabels);
    assertThat(k.get("Service").at("/spec/selector")).isEqualTo(podLabels);
    assertThat(k.get("PodDisruptionBudget").at("/spec/selector/matchLabels")).isEqualTo(podLabels);
    assertThat(k.get("NetworkPolicy").at("/spec/podSelector/matchLabels")).isEqualTo(podLabels);
    for (JsonNode spread : deployment.at("/spec/template/spec/topologySpreadConstraints")) {
      assertThat(spread.at("/labelSelector/matchLabels")).isEqualTo(podLabels);
    }
    JsonNode hpaTarget = k.get("HorizontalPodAutoscaler").at("/spec/scaleTargetRef");
    assertThat(hpaTarget.path("kind").asText()).isEqualTo("Deployment");
    assertThat(hpaTarget.path("name").asText()).isEqualTo(deployment.at("/metadata/name").asText());
    assertThat(deployment.at("/spec/replicas").isMissingNode()).as("the autoscaler owns the replica count").isTrue();
    assertThat(k.get("HorizontalPodAutoscaler").at("/spec/minReplicas").asInt()).isGreaterThanOrEqualTo(2);

    JsonNode container = deployment.at("/spec/template/spec/containers/0");
    Map<String, Integer> ports = new HashMap<>();
    container.path("ports").forEach(p -> ports.put(p.path("name").asText(), p.path("containerPort").asInt()));
    List<String> named = new ArrayList<>();
    named.add(k.get("Service").at("/spec/ports/0/targetPort").asText());
    for (String probe : new String[] {"startupProbe", "readinessProbe", "livenessProbe"}) {
      assertThat(container.has(probe)).as(probe).isTrue();
      named.add(container.at("/" + probe + "/httpGet/port").asText());
    }
    k.get("NetworkPolicy").at("/spec/ingress/0/ports").forEach(p -> named.add(p.path("port").asText()));
    assertThat(ports.keySet()).containsAll(named);
    assertThat(container.at("/readinessProbe/httpGet/path").asText()).isEqualTo("/health/ready");

    // The ConfigMap and the Secret the pod mounts and reads are the ones defined here.
    String configMap = deployment.at("/spec/template/spec/volumes").findValue("configMap").path("name").asText();
    assertThat(configMap).isEqualTo(k.get("ConfigMap").at("/metadata/name").asText());
    assertThat(container.at("/envFrom/0/secretRef/name").asText()).isEqualTo(read("secret.example.yaml").at("/metadata/name").asText());
  }

  @Test
  void theConfigMapIsAValidProductionConfigFedByTheSecretAndMatchesThePodsPortsAndShutdown() throws Exception {
    Map<String, JsonNode> k = byKind();
    String yaml = k.get("ConfigMap").at("/data/scangate.yaml").asText();
    Map<String, String> env = new HashMap<>();
    read("secret.example.yaml").path("stringData").fields().forEachRemaining(e -> env.put(e.getKey(), e.getValue().asText()));
    // Every ${NAME} the file uses is a key of the Secret, so the pod starts with envFrom alone.
    ScanGateConfig config = ConfigLoader.parse(yaml, null, env, ConfigLoader.Profile.production());

    JsonNode pod = k.get("Deployment").at("/spec/template");
    JsonNode container = pod.at("/spec/containers/0");
    Map<String, Integer> ports = new HashMap<>();
    container.path("ports").forEach(p -> ports.put(p.path("name").asText(), p.path("containerPort").asInt()));
    assertThat(ports.get("http")).isEqualTo(config.server().port());
    assertThat(ports.get("metrics")).isEqualTo(config.server().metricsPort());
    assertThat(pod.at("/metadata/annotations/prometheus.io~1port").asText()).isEqualTo(String.valueOf(config.server().metricsPort()));

    // SIGKILL must not cut the drain short: preStop sleep + the gateway's grace period fit in the pod's.
    List<String> preStop = new ArrayList<>();
    container.at("/lifecycle/preStop/exec/command").forEach(c -> preStop.add(c.asText()));
    assertThat(preStop.get(0)).isEqualTo("sleep");
    Duration needed = Duration.ofSeconds(Long.parseLong(preStop.get(1))).plus(config.server().shutdownGracePeriod());
    assertThat(Duration.ofSeconds(pod.at("/spec/terminationGracePeriodSeconds").asLong())).isGreaterThan(needed);
  }

  @Test
  void theImageRunsTheSlimJar() throws Exception {
    String dockerfile = Files.readString(Path.of("Dockerfile"));
    assertThat(dockerfile).contains("target/scangate-slim.jar");
  }
}
