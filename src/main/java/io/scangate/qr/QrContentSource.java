package io.scangate.qr;

import io.scangate.config.ScanGateConfig;
import io.scangate.config.ScanGateConfig.Connection;
import io.scangate.config.ScanGateConfig.MiniProgramQrConnection;
import io.scangate.config.ScanGateConfig.OfficialAccountConnection;
import io.scangate.config.ScanGateConfig.QrStyle;
import io.scangate.redis.RedisKeys;
import io.scangate.wechat.WeChatClient;
import io.scangate.wechat.WeChatException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;

import java.awt.image.BufferedImage;
import java.time.Duration;
import java.util.function.Supplier;

/**
 * What a session's QR code carries and how it looks, per connection type (CONTRACT section 3):
 * Official Account codes carry the URL WeChat returns from qrcode/create for the scene; url-style
 * mini program codes carry {@code {publicUrl}/qr/{scene}}; WeChat mini program codes (wxacode)
 * carry the scene, and their image comes from WeChat, cached in Redis for the session's life.
 */
public final class QrContentSource {

  /** WeChat's parametric codes live 60 s to 30 days. */
  static final Duration MP_MIN = Duration.ofSeconds(60);
  static final Duration MP_MAX = Duration.ofDays(30);

  private final Vertx vertx;
  private final ScanGateConfig config;
  private final WeChatClient wechat;
  private final Redis redis;
  private final RedisKeys keys;

  public QrContentSource(Vertx vertx, ScanGateConfig config, WeChatClient wechat, Redis redis, RedisKeys keys) {
    this.vertx = vertx;
    this.config = config;
    this.wechat = wechat;
    this.redis = redis;
    this.keys = keys;
  }

  public Future<String> qrContent(Connection connection, String scene) {
    if (connection instanceof OfficialAccountConnection) {
      Duration ttl = config.qr().sessionTtl();
      Duration expire = ttl.compareTo(MP_MIN) < 0 ? MP_MIN : ttl.compareTo(MP_MAX) > 0 ? MP_MAX : ttl;
      return wechat.createQrCode(connection, scene, expire).recover(WeChatException::asApiFailure).map(WeChatClient.QrTicket::url);
    }
    boolean wxaCode = connection instanceof MiniProgramQrConnection mini && mini.qrStyle() == QrStyle.WXACODE;
    return Future.succeededFuture(wxaCode ? scene : config.server().publicUrl() + "/qr/" + scene);
  }

  public Future<Buffer> image(Connection connection, QrSession session, Supplier<BufferedImage> logo) {
    if (connection instanceof MiniProgramQrConnection mini && mini.qrStyle() == QrStyle.WXACODE) {
      return wxaCode(mini, session);
    }
    boolean withLogo = connection instanceof MiniProgramQrConnection;
    return vertx.executeBlocking(() -> Buffer.buffer(QrImages.png(session.qrContent(), withLogo ? logo.get() : null)), false);
  }

  /** One getwxacodeunlimit call per session, however often the page reloads the image. */
  private Future<Buffer> wxaCode(MiniProgramQrConnection connection, QrSession session) {
    String key = keys.key("qr", "wxacode", session.scene());
    return redis.send(Request.cmd(Command.GET).arg(key)).compose(cached -> {
      if (cached != null) return Future.succeededFuture(cached.toBuffer());
      return wechat.wxaCode(connection, session.scene(), connection.page(), connection.envVersion())
          .recover(WeChatException::asApiFailure)
          .compose(png -> {
            long ttl = Math.max(1, (session.expiresAt() - System.currentTimeMillis()) / 1000 + 1);
            return redis.send(Request.cmd(Command.SET).arg(key).arg(png).arg("EX").arg(ttl)).map(ok -> png);
          });
    });
  }
}
