package io.scangate.avatar;

import io.scangate.error.ApiException;
import io.scangate.http.Responses;
import io.scangate.http.Routes;
import io.scangate.token.OAuthRequests;
import io.vertx.core.Vertx;
import io.vertx.ext.web.FileUpload;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * {@code POST /api/v1/miniprogram/avatar} (multipart: {@code file}, and {@code scanToken} or a
 * bearer token) and {@code GET /api/v1/avatars/{id}.{ext}}: thin adapters over {@link AvatarService}.
 */
public final class AvatarRoutes implements Routes {

  static final String UPLOAD_PATH = "/api/v1/miniprogram/avatar";
  /** Room for the multipart framing and the scanToken field around a 1 MB file. */
  static final long UPLOAD_BODY_LIMIT = Avatars.MAX_BYTES + 16 * 1024;
  /** An avatar's id is random and its row never changes: caches may keep it for a year. */
  static final String CACHE_FOREVER = "public, max-age=31536000, immutable";

  private final Vertx vertx;
  private final AvatarService avatars;

  public AvatarRoutes(Vertx vertx, AvatarService avatars) {
    this.vertx = vertx;
    this.avatars = avatars;
  }

  @Override
  public Set<String> ownBodyPaths() {
    return Set.of(UPLOAD_PATH);
  }

  @Override
  public void mount(Router router) {
    // The one route that takes a file: vertx-web's multipart parser streams it to a temporary
    // file (deleted when the request ends), under a limit just above the image limit.
    BodyHandler uploads = BodyHandler.create(true)
        .setBodyLimit(UPLOAD_BODY_LIMIT)
        .setUploadsDirectory(Path.of(System.getProperty("java.io.tmpdir"), "scangate-uploads").toString())
        .setDeleteUploadedFilesOnEnd(true);
    router.post(UPLOAD_PATH).handler(ctx -> {
      String type = ctx.request().getHeader("Content-Type");
      if (type == null || !type.toLowerCase(java.util.Locale.ROOT).startsWith("multipart/form-data")) {
        throw new ApiException(415, "unsupported_media_type", "Send the image as multipart/form-data with a part named file");
      }
      ctx.next();
    }).handler(ctx -> uploads.handle(ctx)).handler(this::upload);
    router.get("/api/v1/avatars/:file").handler(this::serve);
  }

  private void upload(RoutingContext ctx) {
    String accessToken = OAuthRequests.bearer(ctx);
    String scanToken = ctx.request().getFormAttribute("scanToken");
    List<FileUpload> files = ctx.fileUploads().stream().filter(f -> "file".equals(f.name())).toList();
    if (files.size() != 1) {
      throw ApiException.badRequest("invalid_request", "Give exactly one file part named \"file\"");
    }
    FileUpload file = files.get(0);
    if (file.size() > Avatars.MAX_BYTES) {
      throw new ApiException(413, "avatar_too_large", "The image is larger than 1 MB");
    }
    vertx.fileSystem().readFile(file.uploadedFileName())
        .compose(image -> avatars.upload(image, blankToNull(scanToken), accessToken))
        .onSuccess(answer -> Responses.json(ctx, 200, answer))
        .onFailure(ctx::fail);
  }

  private void serve(RoutingContext ctx) {
    String file = ctx.pathParam("file");
    int dot = file.lastIndexOf('.');
    String id = dot < 0 ? file : file.substring(0, dot);
    avatars.get(id)
        .onSuccess(found -> {
          if (found == null) {
            ctx.fail(ApiException.notFound("avatar_not_found", "No such avatar"));
            return;
          }
          ctx.response()
              .putHeader("Content-Type", found.getString("contentType"))
              .putHeader("X-Content-Type-Options", "nosniff")
              .putHeader("Cache-Control", CACHE_FOREVER)
              // Opened directly, it is a picture and nothing else.
              .putHeader("Content-Security-Policy", "default-src 'none'; sandbox")
              .end(io.vertx.core.buffer.Buffer.buffer(found.getBinary("image")));
        })
        .onFailure(ctx::fail);
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s;
  }
}
