package io.scangate.http;

import io.scangate.ScanGate;
import io.scangate.testing.Gateways;
import io.scangate.testing.RawHttp;
import io.scangate.testing.TestConfigs;
import io.scangate.testing.TestHttp;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static io.scangate.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

/** Requests the HTTP decoder refuses before any route runs still get our JSON error (issue 9). */
@ExtendWith(VertxExtension.class)
class InvalidRequestTest {

  private final Gateways gateways = new Gateways();

  @AfterEach
  void stop() {
    gateways.closeAll();
  }

  private static void assertJsonError(String answer, int status, String code) {
    assertThat(RawHttp.status(answer)).as(answer).isEqualTo(status);
    assertThat(answer.toLowerCase()).contains("content-type: application/json");
    JsonObject body = new JsonObject(RawHttp.body(answer));
    assertThat(body.getString("error")).isEqualTo(code);
    assertThat(body.getString("message")).isNotBlank();
  }

  @Test
  void tooLongPathsTooLargeHeadersAndMalformedHeadersAnswerOurJsonError(Vertx vertx) throws Exception {
    ScanGate g = gateways.start(vertx, TestConfigs.standard());
    int port = g.port();

    String longPath = "/api/v1/qr/sessions/" + "A".repeat(5000);
    assertJsonError(RawHttp.exchange(port, "GET " + longPath + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), 414, "uri_too_long");

    String bigHeader = "X-Filler: " + "b".repeat(9000) + "\r\n";
    assertJsonError(RawHttp.exchange(port, "GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n" + bigHeader + "\r\n"), 431,
        "headers_too_large");

    assertJsonError(RawHttp.exchange(port, "GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nThis line has no colon\r\n\r\n"), 400,
        "bad_request");
    assertJsonError(RawHttp.exchange(port, "GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Name: x\r\n\r\n"), 400,
        "bad_request");
    // Control characters in a header value (here a NUL and a BEL in the User-Agent) never reach a route.
    assertJsonError(RawHttp.exchange(port, "GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: a\u0000b\u0007\r\n\r\n"), 400,
        "bad_request");

    // The gateway still serves the next connection.
    assertThat(await(TestHttp.client(vertx, port).get("/health/live").send()).statusCode()).isEqualTo(200);
  }

  /** A lone '%' in the query once made a POST hang unanswered (route matching threw after the body was read). */
  @Test
  void aQueryStringThatDoesNotDecodeIsABadRequestInTheSurfacesShape(Vertx vertx) throws Exception {
    ScanGate g = gateways.start(vertx, TestConfigs.standard());
    int port = g.port();
    for (String method : new String[] {"GET", "POST"}) {
      assertJsonError(RawHttp.exchange(port, method + " /api/anything?%=1 HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nContent-Length: 2\r\n"
          + "Connection: close\r\n\r\n{}"), 400, "bad_request");
      String webhook = RawHttp.exchange(port, method + " /connections/social/wechat-mp/default/events?a=%zz HTTP/1.1\r\n"
          + "Host: 127.0.0.1:" + port + "\r\nContent-Length: 2\r\nConnection: close\r\n\r\n<x");
      assertThat(RawHttp.status(webhook)).as(webhook).isEqualTo(400);
      assertThat(RawHttp.body(webhook)).isEqualTo("bad_request");
    }
  }
}
