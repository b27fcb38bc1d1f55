package io.scangate.http;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class RequestLogTest {

  @Test
  void longOpaquePathSegmentsAreMaskedInLogs() {
    assertThat(RequestLog.maskedPath("/api/v1/qr/sessions/AbCdEfGhIjKlMnOpQrStUvWx/events"))
        .isEqualTo("/api/v1/qr/sessions/***/events");
    assertThat(RequestLog.maskedPath("/qr/Zx9_-Zx9_-Zx9_-Zx9_-Zx")).isEqualTo("/qr/***");
    assertThat(RequestLog.maskedPath("/health/ready")).isEqualTo("/health/ready");
  }
}
