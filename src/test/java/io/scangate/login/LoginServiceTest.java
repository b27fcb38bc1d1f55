package io.scangate.login;

import io.scangate.ScanGate;
import io.scangate.error.ApiException;
import io.scangate.qr.QrSessionService;
import io.scangate.testing.Await;
import io.scangate.testing.Gateways;
import io.scangate.testing.TestConfigs;
import io.scangate.testing.TestHttp;
import io.scangate.token.TokenService;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import io.vertx.serviceproxy.ServiceException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static io.scangate.testing.Await.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The login pipeline and the capabilities it composes, called over the event bus as every door calls them. */
@ExtendWith(VertxExtension.class)
class LoginServiceTest {

  private final Gateways gateways = new Gateways();

  @AfterEach
  void stop() {
    gateways.closeAll();
  }

  @Test
  void eachCapabilityAnswersOnItsAddressWithTypedRefusals(Vertx vertx) {
    gateways.start(vertx, TestConfigs.standard());
    LoginService login = LoginService.proxy(vertx);

    ApiException unknownApp = ApiException.from(Await.failure(login.startQrSession("nope", "wechat-mini-qr", null, "127.0.0.1", null)));
    assertThat(unknownApp.status()).isEqualTo(400);
    assertThat(unknownApp.code()).isEqualTo("unknown_app");
    // One meaning per code: an unknown connection is unknown_connection at every door...
    assertThat(ApiException.from(Await.failure(login.startQrSession("demo", "no-such", null, "127.0.0.1", null))).code())
        .isEqualTo("unknown_connection");
    assertThat(ApiException.from(Await.failure(login.miniProgramLogin("demo", "no-such", "code", null, "127.0.0.1"))).code())
        .isEqualTo("unknown_connection");
    // ...and connection_not_enabled means it exists but the application does not enable it.
    assertThat(ApiException.from(Await.failure(login.startQrSession("backend", "wechat-mp", null, "127.0.0.1", null))).code())
        .isEqualTo("connection_not_enabled");
    assertThat(ApiException.from(Await.failure(login.startQrSession("demo", "wechat-mini", null, "127.0.0.1", null))).code())
        .isEqualTo("connection_not_qr");
    assertThat(ApiException.from(Await.failure(login.exchangeTicket("x".repeat(43), null, null, "127.0.0.1", null))).code())
        .isEqualTo("invalid_ticket");

    // The QR-session and token capabilities answer on their own addresses.
    JsonObject created = await(login.startQrSession("demo", "wechat-mini-qr", null, "127.0.0.1", "JUnit"));
    assertThat(created.getString("status")).isEqualTo("PENDING");
    JsonObject stored = await(QrSessionService.proxy(vertx).get(created.getString("sessionId")));
    assertThat(stored.getString("appId")).isEqualTo("demo");
    assertThat(stored.getString("userAgent")).isEqualTo("JUnit");
    assertThat((Object) await(QrSessionService.proxy(vertx).get("never-existed-session-id"))).isNull();
    ServiceException noUser = (ServiceException) Await.failure(
        TokenService.proxy(vertx).issue("00000000-0000-0000-0000-000000000000", "demo", null, null));
    assertThat(noUser.failureCode()).isEqualTo(404);
    assertThat(noUser.getDebugInfo().getString("error")).isEqualTo("user_not_found");
  }

  @Test
  void theOAuthSurfaceWritesTheSameRefusalInItsOwnShape(Vertx vertx) {
    ScanGate gateway = gateways.start(vertx, TestConfigs.standard());
    WebClient client = TestHttp.client(vertx, gateway.port());
    HttpResponse<Buffer> oauth = await(client.post("/oidc/token").putHeader("Content-Type", "application/x-www-form-urlencoded")
        .sendBuffer(Buffer.buffer("grant_type=password")));
    assertThat(oauth.statusCode()).isEqualTo(400);
    assertThat(oauth.bodyAsJsonObject().getString("error")).isEqualTo("unsupported_grant_type");
    assertThat(oauth.bodyAsJsonObject().containsKey("error_description")).isTrue();
    assertThat(oauth.bodyAsJsonObject().containsKey("message")).isFalse();
    HttpResponse<Buffer> api = await(client.post("/api/v1/qr/sessions")
        .sendJsonObject(new JsonObject().put("appId", "demo").put("connection", "no-such")));
    assertThat(api.statusCode()).isEqualTo(400);
    assertThat(api.bodyAsJsonObject().getString("error")).isEqualTo("unknown_connection");
    assertThat(api.bodyAsJsonObject().containsKey("message")).isTrue();
    assertThat(api.bodyAsJsonObject().containsKey("error_description")).isFalse();
  }

  @Test
  void anApiExceptionSurvivesBeingAPlainServiceException() {
    ApiException original = new ApiException(429, "rate_limited", "Too many", java.util.Map.of("Retry-After", "7"));
    ServiceException onTheWire = new ServiceException(original.failureCode(), original.getMessage(), original.getDebugInfo());
    ApiException back = ApiException.from(onTheWire);
    assertThat(back.status()).isEqualTo(429);
    assertThat(back.code()).isEqualTo("rate_limited");
    assertThat(back.headers()).containsEntry("Retry-After", "7");
    // A failure that names no code is not a refusal: it stays an internal error.
    assertThat(ApiException.from(new ServiceException(-1, "boom"))).isNull();
    assertThat(ApiException.from(new IllegalStateException("boom"))).isNull();
  }

  @Test
  void oneProfileValidation() {
    assertThat(Profile.of(" Alice ", "https://cdn.example.com/a.png")).isEqualTo(new Profile("Alice", "https://cdn.example.com/a.png"));
    assertThat(Profile.of(null, null)).isEqualTo(Profile.NONE);
    for (Object nickname : new Object[] {"", "  ", "a\u0000b", "bell\u0007", "esc\u001b", "line\nbreak", "rtl\u202Eevil", "x".repeat(65), 42}) {
      assertThatThrownBy(() -> Profile.of(nickname, null)).as(String.valueOf(nickname))
          .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.code()).isEqualTo("invalid_profile"));
    }
    for (Object url : new Object[] {"javascript:alert(1)", "data:image/png;base64,AAAA", "vbscript:x", "http://tmp/abc.png",
        "wxfile://tmp_abc.png", "ftp://example.com/a.png", "https://ex\u0000ample.com/a.png", "/relative.png", "https://"}) {
      assertThatThrownBy(() -> Profile.of(null, url)).as(String.valueOf(url))
          .isInstanceOfSatisfying(ApiException.class, e -> assertThat(e.code()).isEqualTo("invalid_profile"));
    }
  }
}
