package io.scangate.avatar;

import io.scangate.config.ScanGateConfig;
import io.scangate.error.ApiException;
import io.scangate.error.Failures;
import io.scangate.http.ErrorHandlers;
import io.scangate.qr.QrIds;
import io.scangate.qr.QrSession;
import io.scangate.qr.QrSessions;
import io.scangate.ratelimit.RateLimiter;
import io.scangate.token.InvalidTokenException;
import io.scangate.token.TokenVerifier;
import io.scangate.util.Randoms;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;

import java.util.regex.Pattern;

/**
 * {@link AvatarService} itself: who may upload (an access token's user, or the phone holding the
 * scan token of a live SCANNED session), what may be uploaded, and the images in PostgreSQL.
 */
public final class AvatarServiceImpl implements AvatarService {

  /** Uploads per uploader and minute: a profile needs one picture; this only stops filling the database. */
  static final int UPLOADS_PER_MINUTE = 10;
  private static final Pattern ID = Pattern.compile("[A-Za-z0-9_-]{22}");

  private final ScanGateConfig config;
  private final Pool postgres;
  private final QrSessions sessions;
  private final TokenVerifier verifier;
  private final RateLimiter rateLimiter;

  public AvatarServiceImpl(ScanGateConfig config, Pool postgres, QrSessions sessions, TokenVerifier verifier,
                           RateLimiter rateLimiter) {
    this.config = config;
    this.postgres = postgres;
    this.sessions = sessions;
    this.verifier = verifier;
    this.rateLimiter = rateLimiter;
  }

  @Override
  public Future<JsonObject> upload(Buffer image, String scanToken, String accessToken) {
    return Failures.forBus(uploader(scanToken, accessToken).compose(uploader -> {
      if (image.length() > Avatars.MAX_BYTES) {
        return Future.failedFuture(new ApiException(413, "avatar_too_large", "The image is larger than 1 MB"));
      }
      Avatars.ImageType type = Avatars.sniff(image);
      if (type == null) {
        return Future.failedFuture(new ApiException(415, "unsupported_image_type", "The file is not a PNG, JPEG or WebP image"));
      }
      String id = Randoms.urlSafe(16);
      return rateLimiter.acquire("avatar", uploader, UPLOADS_PER_MINUTE, "avatar uploads")
          .compose(v -> postgres.preparedQuery("INSERT INTO avatars (id, content_type, image, uploaded_by) VALUES ($1, $2, $3, $4)")
              .execute(Tuple.of(id, type.mediaType, image, uploader)))
          .map(done -> new JsonObject().put("avatarUrl",
              config.server().publicUrl() + "/api/v1/avatars/" + id + "." + type.extension));
    }));
  }

  @Override
  public Future<JsonObject> get(String id) {
    if (id == null || !ID.matcher(id).matches()) return Future.succeededFuture(null);
    return Failures.forBus(postgres.preparedQuery("SELECT content_type, image FROM avatars WHERE id = $1").execute(Tuple.of(id))
        .map(rows -> {
          if (rows.size() == 0) return null;
          Row row = rows.iterator().next();
          return new JsonObject().put("contentType", row.getString(0)).put("image", row.getBuffer(1).getBytes());
        }));
  }

  /** Who uploads: {@code user:<id>} for a bearer token (preferred when both are given), {@code scan:<sessionId>} for a scan token. */
  private Future<String> uploader(String scanToken, String accessToken) {
    if (accessToken != null) {
      return verifier.verifyAccess(accessToken, null)
          .recover(e -> Future.failedFuture(e instanceof InvalidTokenException invalid ? ErrorHandlers.invalidToken(invalid.getMessage()) : e))
          .map(token -> "user:" + token.subject());
    }
    if (scanToken == null) {
      return Future.failedFuture(new ApiException(401, "unauthorized",
          "Give the scan token of a scanned QR code (field scanToken) or a bearer access token"));
    }
    if (!QrIds.looksLikeId(scanToken)) return Future.failedFuture(notLive());
    return sessions.getByScanToken(QrIds.hash(scanToken)).compose(found -> {
      QrSession session = found.orElse(null);
      if (session == null || session.statusAt(System.currentTimeMillis()) != QrSession.Status.SCANNED) {
        return Future.failedFuture(notLive());
      }
      return Future.succeededFuture("scan:" + session.sessionId());
    });
  }

  private static ApiException notLive() {
    return new ApiException(403, "invalid_scan_token", "The scan token is not the current one of a scanned, unexpired QR code");
  }
}
