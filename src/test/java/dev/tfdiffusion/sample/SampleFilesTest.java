package dev.tfdiffusion.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Samples with 3 channels: one CSV row of H*W*3 values per image, and a colour grid. */
class SampleFilesTest {
  @TempDir
  Path dir;

  /** Two 2x2 RGB images: red then blue, HWC. */
  private static float[] twoColourImages() {
    float[] v = new float[2 * 2 * 2 * 3];
    for (int p = 0; p < 4; p++) {
      v[3 * p] = 1.2f; // clipped to 1
      v[12 + 3 * p + 2] = 1f;
    }
    return v;
  }

  @Test
  void csvRowsHoldEveryChannel() throws IOException {
    Path csv = dir.resolve("samples.csv");
    SampleFiles.writeCsv(csv, twoColourImages(), 2 * 2 * 3);
    List<String> rows = Files.readAllLines(csv);
    assertEquals(2, rows.size());
    assertEquals(12, rows.get(0).split(",").length);
    assertEquals("1.0,0.0,0.0,1.0,0.0,0.0,1.0,0.0,0.0,1.0,0.0,0.0", rows.get(0));
    assertEquals("0.0,0.0,1.0,0.0,0.0,1.0,0.0,0.0,1.0,0.0,0.0,1.0", rows.get(1));
  }

  @Test
  void gridIsInColour() throws IOException {
    Path png = dir.resolve("samples.png");
    SampleFiles.writeGrid(png, twoColourImages(), 2, 2, 3);
    BufferedImage read = ImageIO.read(png.toFile());
    // two columns of 192-pixel cells after a gap of 4: centres at (100, 100) and (296, 100)
    assertEquals(0xff0000, read.getRGB(100, 100) & 0xffffff);
    assertEquals(0x0000ff, read.getRGB(296, 100) & 0xffffff);
  }
}
