package io.scangate.qr;

import io.scangate.config.ScanGateConfig;
import io.scangate.config.ScanGateConfig.Connection;
import io.scangate.config.ScanGateConfig.ConnectionType;
import io.scangate.config.ScanGateConfig.QrStyle;
import io.scangate.http.ApiException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;

import java.awt.image.BufferedImage;
import java.util.function.Supplier;

/**
 * What a session's QR code carries and how it looks, per connection type (CONTRACT section 3):
 * Official Account codes carry the URL WeChat returns for the scene; url-style mini program codes
 * carry {@code {publicUrl}/qr/{scene}}; WeChat mini program codes (wxacode) carry the scene.
 */
public class QrContentSource {

  protected final Vertx vertx;
  protected final ScanGateConfig config;

  public QrContentSource(Vertx vertx, ScanGateConfig config) {
    this.vertx = vertx;
    this.config = config;
  }

  public Future<String> qrContent(Connection connection, String scene) {
    if (connection.type() == ConnectionType.WECHAT_MINIPROGRAM_QRCODE) {
      return Future.succeededFuture(connection.qrStyle() == QrStyle.WXACODE ? scene : config.server().publicUrl() + "/qr/" + scene);
    }
    return Future.failedFuture(new ApiException(501, "not_implemented", "This connection type has no QR codes yet"));
  }

  public Future<Buffer> image(Connection connection, QrSession session, Supplier<BufferedImage> logo) {
    return vertx.executeBlocking(() -> Buffer.buffer(QrImages.png(session.qrContent(), logo.get())), false);
  }
}
