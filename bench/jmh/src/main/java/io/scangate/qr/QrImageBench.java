package io.scangate.qr;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.concurrent.TimeUnit;

/**
 * The per-image cost of {@code GET /api/v1/qr/images/{scene}.png} for url-style codes:
 * {@link QrImages#png(String, BufferedImage)} at the default 360 px, which the gateway runs in
 * executeBlocking. Without a logo the code uses error correction M; with one, level H and the
 * logo scaled into the centre on every call.
 *
 * <p>{@code logo}: {@code none}, or the side in pixels of a square PNG logo with transparency,
 * decoded with ImageIO as {@link QrImages#readLogo} does (the configured file is drawn as is, at
 * whatever size it has).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = "-Djava.awt.headless=true")
public class QrImageBench {

  @Param({"none", "128", "1024"})
  public String logo;

  /** What a url-style mini program code carries: {publicUrl}/qr/{22-character scene}. */
  String content;
  BufferedImage logoImage;

  @Setup
  public void setUp() throws Exception {
    content = "https://login.example.com/qr/" + QrIds.scene(QrIds.newTag());
    logoImage = logo.equals("none") ? null : pngLogo(Integer.parseInt(logo));
    byte[] png = QrImages.png(content, logoImage);
    if (ImageIO.read(new ByteArrayInputStream(png)).getWidth() != QrImages.SIZE) throw new IllegalStateException("bad image");
  }

  @Benchmark
  public byte[] png() {
    return QrImages.png(content, logoImage);
  }

  /** A round green logo with a transparent background, through PNG and back. */
  static BufferedImage pngLogo(int side) throws Exception {
    BufferedImage drawn = new BufferedImage(side, side, BufferedImage.TYPE_INT_ARGB);
    Graphics2D g = drawn.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setColor(new Color(0x07C160));
    g.fillOval(0, 0, side, side);
    g.setColor(Color.WHITE);
    g.fillOval(side / 4, side / 4, side / 2, side / 2);
    g.dispose();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ImageIO.write(drawn, "png", out);
    return ImageIO.read(new ByteArrayInputStream(out.toByteArray()));
  }
}
