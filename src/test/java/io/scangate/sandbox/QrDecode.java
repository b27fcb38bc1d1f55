package io.scangate.sandbox;

import com.google.zxing.BinaryBitmap;
import com.google.zxing.RGBLuminanceSource;
import com.google.zxing.common.HybridBinarizer;
import com.google.zxing.qrcode.QRCodeReader;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;

/** Reads the text of a PNG QR code, to prove the sandbox's images are real codes. */
public final class QrDecode {

  private QrDecode() {}

  public static String text(byte[] png) throws Exception {
    BufferedImage image = ImageIO.read(new ByteArrayInputStream(png));
    int[] pixels = image.getRGB(0, 0, image.getWidth(), image.getHeight(), null, 0, image.getWidth());
    var source = new RGBLuminanceSource(image.getWidth(), image.getHeight(), pixels);
    // zxing's finder-pattern search misses about 1 perfectly drawn code in 400 (measured); a phone
    // tries again, and so does this: harder, then reading the image as a pure code.
    try {
      return new QRCodeReader().decode(new BinaryBitmap(new HybridBinarizer(source)),
          java.util.Map.of(com.google.zxing.DecodeHintType.TRY_HARDER, true)).getText();
    } catch (com.google.zxing.NotFoundException e) {
      return new QRCodeReader().decode(new BinaryBitmap(new HybridBinarizer(source)),
          java.util.Map.of(com.google.zxing.DecodeHintType.PURE_BARCODE, true)).getText();
    }
  }

  public static boolean isPng(byte[] bytes) {
    return bytes.length > 8 && (bytes[0] & 0xFF) == 0x89 && bytes[1] == 'P' && bytes[2] == 'N' && bytes[3] == 'G';
  }
}
