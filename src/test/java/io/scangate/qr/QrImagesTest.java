package io.scangate.qr;

import io.scangate.sandbox.QrDecode;
import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;

import static org.assertj.core.api.Assertions.assertThat;

/** The codes the gateway draws: one-bit PNGs without a logo (a tenth of the bytes), RGB with one; both scan. */
class QrImagesTest {

  private static final String CONTENT = "https://login.example.com/qr/AbCdEfGhIjKlMnOpQrStUv";

  @Test
  void aCodeWithoutALogoIsAOneBitPngThatScans() throws Exception {
    byte[] png = QrImages.png(CONTENT, null);
    BufferedImage image = ImageIO.read(new ByteArrayInputStream(png));
    assertThat(image.getColorModel().getPixelSize()).isEqualTo(1);
    assertThat(image.getWidth()).isEqualTo(QrImages.SIZE);
    assertThat(png.length).as("bytes").isLessThan(2_000);
    assertThat(QrDecode.text(png)).isEqualTo(CONTENT);
  }

  @Test
  void aCodeWithALogoKeepsItsColoursAndScans() throws Exception {
    BufferedImage logo = new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = logo.createGraphics();
    g.setColor(new Color(0x07C160));
    g.fillRect(0, 0, 64, 64);
    g.dispose();
    byte[] png = QrImages.png(CONTENT, logo);
    BufferedImage image = ImageIO.read(new ByteArrayInputStream(png));
    assertThat(image.getColorModel().getPixelSize()).isGreaterThanOrEqualTo(24);
    int centre = image.getRGB(QrImages.SIZE / 2, QrImages.SIZE / 2) & 0xFFFFFF;
    assertThat(centre).as("the logo's green in the middle").isEqualTo(0x07C160);
    assertThat(QrDecode.text(png)).isEqualTo(CONTENT);
  }
}
