package io.scangate.avatar;

import io.vertx.codegen.annotations.Nullable;
import io.vertx.codegen.annotations.ProxyGen;
import io.vertx.codegen.annotations.VertxGen;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.serviceproxy.ServiceProxyBuilder;

/**
 * Avatar images on the event bus ({@value #ADDRESS}): the mini program uploads the picture its
 * user chose ({@code chooseAvatar} gives a temporary local path that means nothing to anyone
 * else), and gets a gateway URL to put in a profile. Refusals are
 * {@link io.scangate.error.ApiException}s with codes from {@code docs/errors.md}.
 */
@ProxyGen
@VertxGen
public interface AvatarService {

  String ADDRESS = "scangate.avatar";

  static AvatarService proxy(Vertx vertx) {
    return new ServiceProxyBuilder(vertx).setAddress(ADDRESS).build(AvatarService.class);
  }

  /**
   * Stores {@code image} for the holder of a bearer access token, or else of the scan token of a
   * live SCANNED QR session: {@code {"avatarUrl"}}. The bytes must be PNG, JPEG or WebP by their
   * magic number (415 {@code unsupported_image_type}) and at most {@link Avatars#MAX_BYTES}
   * (413 {@code avatar_too_large}); neither token → 401 {@code unauthorized}.
   */
  Future<JsonObject> upload(Buffer image, @Nullable String scanToken, @Nullable String accessToken);

  /** {@code {"contentType", "image"}} (image as binary) for an avatar's id, or null when there is none. */
  Future<@Nullable JsonObject> get(String id);
}
