package io.scangate.avatar;

import io.vertx.core.buffer.Buffer;

/** What an avatar may be: its size limit, and its image type told by the bytes themselves. */
public final class Avatars {

  /** 1 MiB (CONTRACT section 4). */
  public static final int MAX_BYTES = 1024 * 1024;

  private Avatars() {}

  /** An accepted image type: its media type and the extension its URL ends with. */
  public enum ImageType {
    PNG("image/png", "png"), JPEG("image/jpeg", "jpg"), WEBP("image/webp", "webp");

    public final String mediaType;
    public final String extension;

    ImageType(String mediaType, String extension) {
      this.mediaType = mediaType;
      this.extension = extension;
    }
  }

  /**
   * The type the bytes' magic number shows, or null: a client's Content-Type or file name is
   * never believed (a page served as image/png must be one, or browsers may sniff it as HTML).
   */
  public static ImageType sniff(Buffer b) {
    int n = b.length();
    if (n >= 8 && (b.getByte(0) & 0xff) == 0x89 && b.getByte(1) == 'P' && b.getByte(2) == 'N' && b.getByte(3) == 'G'
        && b.getByte(4) == 0x0d && b.getByte(5) == 0x0a && b.getByte(6) == 0x1a && b.getByte(7) == 0x0a) {
      return ImageType.PNG;
    }
    if (n >= 3 && (b.getByte(0) & 0xff) == 0xff && (b.getByte(1) & 0xff) == 0xd8 && (b.getByte(2) & 0xff) == 0xff) {
      return ImageType.JPEG;
    }
    if (n >= 12 && "RIFF".equals(b.getString(0, 4, "ISO-8859-1")) && "WEBP".equals(b.getString(8, 12, "ISO-8859-1"))) {
      return ImageType.WEBP;
    }
    return null;
  }
}
