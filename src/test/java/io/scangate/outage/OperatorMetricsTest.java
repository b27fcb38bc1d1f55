package io.scangate.outage;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.scangate.ScanGate;
import io.scangate.ops.Metrics;
import io.scangate.testing.Await;
import io.scangate.testing.TestConfigs;
import io.scangate.testing.TestHttp;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.scangate.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The operator's Grafana dashboard and Prometheus alert rules in docs/ name only metrics the
 * gateway serves: every metric name in their queries is found in /metrics once a gateway has
 * done a bit of everything (QR and mini program logins, verifications, a WeChat error, a webhook
 * push with forwarding).
 */
class OperatorMetricsTest {

  static final Path DASHBOARD = Path.of("docs/grafana/scangate-dashboard.json");
  static final Path ALERTS = Path.of("docs/prometheus/scangate-alerts.yml");

  /** PromQL words that are not metric names. */
  static final Set<String> PROMQL_WORDS = Set.of("sum", "min", "max", "avg", "count", "rate", "irate", "increase", "delta",
      "histogram_quantile", "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless",
      "abs", "clamp_min", "clamp_max", "topk", "bottomk", "offset", "bool", "time", "vector", "scalar", "absent");

  /** A gateway whose wechat-mp connection forwards pushes to an owner's server, and to one that is not there. */
  static String yaml(int ownerPort) {
    return TestConfigs.STANDARD_YAML.replace("""
            messageMode: safe
        """, """
            messageMode: safe
            forwardTo:
              - { url: "http://127.0.0.1:%d/owner", token: "ownerToken123", mode: async }
              - { url: "http://127.0.0.1:9/gone", token: "ownerToken123", mode: async }
        """.formatted(ownerPort));
  }

  PrometheusMeterRegistry registry;
  Vertx vertx;
  Vertx testVertx;
  ScanGate gateway;

  @AfterEach
  void stop() {
    if (gateway != null) await(gateway.close());
    if (vertx != null) await(vertx.close());
    if (testVertx != null) await(testVertx.close());
  }

  @Test
  void theDashboardAndTheAlertRulesNameOnlyMetricsTheGatewayServes() throws Exception {
    Set<String> dashboard = metricNames(dashboardQueries());
    Set<String> alerts = metricNames(alertQueries());
    assertThat(dashboard).as("the dashboard shows what the operator needs")
        .contains("scangate_qr_sessions_total", "scangate_qr_waiters", "scangate_qr_scan_to_confirm_seconds_bucket",
            "scangate_logins_total", "scangate_webhook_pushes_total", "scangate_forward_backlog", "scangate_wechat_errors_total",
            "scangate_wechat_breaker_state", "scangate_token_verifications_total", "scangate_backend_up", "vertx_pool_in_use");
    assertThat(alerts).contains("scangate_backend_up", "scangate_wechat_errors_total", "scangate_forward_backlog",
        "scangate_qr_scan_to_confirm_seconds_bucket");

    testVertx = Vertx.vertx();
    int ownerPort = await(testVertx.createHttpServer().requestHandler(r -> r.response().end("success")).listen(0, "127.0.0.1"))
        .actualPort();
    registry = Metrics.newRegistry();
    vertx = Metrics.vertxWithMetrics(registry, new VertxOptions());
    gateway = await(vertx.executeBlocking(() -> null).compose(x ->
        ScanGate.start(vertx, TestConfigs.parse(yaml(ownerPort)), new ScanGate.Options(true, registry, 1))));
    WebClient http = TestHttp.client(testVertx, gateway.port());

    // A QR login, verified; a wrong token; a mini program silent login.
    JsonObject login = Logins.login(http, http, "o-metrics");
    assertThat(Logins.verify(http, login.getJsonObject("tokens").getString("access_token"))).isEqualTo(200);
    assertThat(Logins.verify(http, "not-a-token")).isEqualTo(401);
    JsonObject codes = Logins.post(http, "/sandbox/control/miniprogram/code",
        new JsonObject().put("appId", "wxtestmini000001").put("openid", "o-silent")).bodyAsJsonObject();
    HttpResponse<Buffer> silent = Logins.post(http, "/api/v1/miniprogram/login",
        new JsonObject().put("appId", "demo").put("connection", "wechat-mini").put("code", codes.getString("code")));
    assertThat(silent.statusCode()).as(silent.bodyAsString()).isEqualTo(200);
    // WeChat refusing a code once.
    Logins.post(http, "/sandbox/control/wechat/faults", new JsonObject().put("api", "sns/jscode2session").put("errcode", 40029));
    HttpResponse<Buffer> refused = Logins.post(http, "/api/v1/miniprogram/login",
        new JsonObject().put("appId", "demo").put("connection", "wechat-mini").put("code", "whatever"));
    assertThat(refused.statusCode()).isEqualTo(400);
    Logins.post(http, "/sandbox/control/wechat/faults/reset", new JsonObject());
    // A follower scans an Official Account code: a webhook push, queued for the owner's server.
    HttpResponse<Buffer> mp = Logins.post(http, "/api/v1/qr/sessions", new JsonObject().put("appId", "demo").put("connection", "wechat-mp"));
    assertThat(mp.statusCode()).as(mp.bodyAsString()).isEqualTo(201);
    HttpResponse<Buffer> pushed = Logins.post(http, "/sandbox/control/mp/scan", new JsonObject().put("connection", "wechat-mp")
        .put("qrContent", mp.bodyAsJsonObject().getString("qrContent")).put("openid", "o-follower").put("subscribe", true));
    assertThat(pushed.statusCode()).as(pushed.bodyAsString()).isEqualTo(200);
    // The push reaches the owner's server; the backend probe has run.
    assertThat(Await.until(() -> scrape(http).contains("scangate_forward_delivered_total"), 20_000)).isTrue();
    Thread.sleep(2_500);

    Set<String> served = new TreeSet<>();
    String scrape = await(http.get("/metrics").send()).bodyAsString();
    for (String line : scrape.split("\n")) {
      if (line.isEmpty() || line.startsWith("#")) continue;
      int end = line.indexOf('{') >= 0 ? line.indexOf('{') : line.indexOf(' ');
      served.add(line.substring(0, end));
    }
    Set<String> missing = new TreeSet<>(dashboard);
    missing.addAll(alerts);
    missing.removeAll(served);
    assertThat(missing).as("named by the dashboard or the alerts but not served").isEmpty();
    // And the tags the dashboard groups by are there.
    assertThat(scrape).contains("scangate_logins_total{door=\"qr_exchange\"}", "scangate_logins_total{door=\"miniprogram\"}",
        "scangate_token_verifications_total{outcome=\"valid\"}", "scangate_token_verifications_total{outcome=\"invalid\"}",
        "scangate_qr_sessions_total{connection=\"wechat-mini-qr\",outcome=\"confirmed\"}",
        "scangate_webhook_pushes_total{connection=\"wechat-mp\",outcome=\"accepted\"}",
        "scangate_wechat_errors_total{api=\"sns/jscode2session\",errcode=\"40029\"}",
        "scangate_backend_up{backend=\"redis\"} 1.0", "scangate_backend_up{backend=\"postgresql\"} 1.0",
        "pool_type=\"sql\"", "pool_type=\"redis\"");
  }

  private static String scrape(WebClient http) {
    return await(http.get("/metrics").send()).bodyAsString();
  }

  static List<String> dashboardQueries() throws Exception {
    JsonNode root = new ObjectMapper().readTree(Files.readString(DASHBOARD));
    List<String> out = new ArrayList<>();
    for (JsonNode panel : root.path("panels")) for (JsonNode target : panel.path("targets")) out.add(target.path("expr").asText());
    assertThat(out).isNotEmpty();
    return out;
  }

  static List<String> alertQueries() throws Exception {
    JsonNode root = new ObjectMapper(new YAMLFactory()).readTree(Files.readString(ALERTS));
    List<String> out = new ArrayList<>();
    for (JsonNode group : root.path("groups")) {
      for (JsonNode rule : group.path("rules")) {
        assertThat(rule.path("alert").asText()).isNotBlank();
        out.add(rule.path("expr").asText());
      }
    }
    assertThat(out).isNotEmpty();
    return out;
  }

  /** The metric names a PromQL expression reads: identifiers outside label matchers, groupings, ranges and strings. */
  static Set<String> metricNames(List<String> queries) {
    Set<String> names = new TreeSet<>();
    for (String q : queries) {
      String s = q.replaceAll("\"(\\\\.|[^\"\\\\])*\"", "\"\"")          // strings
          .replaceAll("\\{[^}]*}", " ")                                   // label matchers
          .replaceAll("\\[[^]]*]", " ")                                   // ranges
          .replaceAll("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", " "); // groupings
      Matcher m = Pattern.compile("[A-Za-z_:][A-Za-z0-9_:]*").matcher(s);
      while (m.find()) {
        String word = m.group();
        int next = m.end();
        while (next < s.length() && s.charAt(next) == ' ') next++;
        boolean call = next < s.length() && s.charAt(next) == '(';
        if (!call && !PROMQL_WORDS.contains(word) && !word.matches("\\d.*")) names.add(word);
      }
    }
    return names;
  }
}
