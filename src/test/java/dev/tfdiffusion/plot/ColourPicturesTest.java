package dev.tfdiffusion.plot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Grids and GIFs of 3-channel (HWC) images come out in colour; 1-channel ones as before. */
class ColourPicturesTest {
  @TempDir
  Path dir;

  /** A {@code size x size} HWC image of one colour. */
  private static float[] flat(int size, float r, float g, float b) {
    float[] px = new float[size * size * 3];
    for (int p = 0; p < size * size; p++) {
      px[3 * p] = r;
      px[3 * p + 1] = g;
      px[3 * p + 2] = b;
    }
    return px;
  }

  @Test
  void gridCellsAreInColour() throws IOException {
    Path png = dir.resolve("grid.png");
    ImageGrid.write(png, List.of(flat(4, 1, 0, 0), flat(4, 0, 0.4f, 1)), 4, 4, 3, 2, 16, null);
    BufferedImage read = ImageIO.read(png.toFile());
    // cells of 16 pixels after a gap of 4: centres at (12, 12) and (32, 12)
    assertEquals(0xff0000, read.getRGB(12, 12) & 0xffffff);
    assertEquals(0x0066ff, read.getRGB(32, 12) & 0xffffff);
    assertEquals(0xffffff, read.getRGB(1, 1) & 0xffffff);
  }

  @Test
  void oneChannelIsGrayAsBefore() {
    float[] gray = {0f, 0.2f, 0.5f, 1.5f};
    float[] rgb = new float[12];
    for (int p = 0; p < 4; p++) {
      rgb[3 * p] = gray[p];
      rgb[3 * p + 1] = gray[p];
      rgb[3 * p + 2] = gray[p];
    }
    BufferedImage one = ImageGrid.toImage(gray, 2, 2);
    BufferedImage three = ImageGrid.toImage(rgb, 2, 2, 3);
    for (int p = 0; p < 4; p++) {
      assertEquals(one.getRGB(p % 2, p / 2), three.getRGB(p % 2, p / 2));
    }
    assertEquals(0xffffff, one.getRGB(1, 1) & 0xffffff); // clipped
    assertEquals(0x333333, one.getRGB(1, 0) & 0xffffff);
  }

  @Test
  void gifFramesAreInColour() throws IOException {
    Path gif = dir.resolve("reverse.gif");
    List<float[]> first = List.of(flat(4, 1, 0, 0), flat(4, 0, 1, 0));
    List<float[]> last = List.of(flat(4, 0, 0, 1), flat(4, 0.2f, 0.6f, 0.8f));
    AnimatedGif.write(gif, List.of(first, last), List.of("t = 2", "t = 0"), 4, 4, 3);
    int[][] frames = new int[2][];
    try (ImageInputStream in = ImageIO.createImageInputStream(gif.toFile())) {
      ImageReader reader = ImageIO.getImageReadersByFormatName("gif").next();
      reader.setInput(in);
      assertEquals(2, reader.getNumImages(true));
      for (int f = 0; f < 2; f++) {
        BufferedImage frame = reader.read(f);
        // two cells of 96 pixels after a border of 2: centres at (50, 50) and (148, 50)
        frames[f] = new int[] {frame.getRGB(50, 50) & 0xffffff, frame.getRGB(148, 50) & 0xffffff};
      }
      reader.dispose();
    }
    // few colours per frame: the GIF writer's palette holds them exactly
    assertArrayEquals(new int[] {0xff0000, 0x00ff00}, frames[0]);
    assertArrayEquals(new int[] {0x0000ff, 0x3399cc}, frames[1]);
  }

  @Test
  void grayGifsAreTheOneChannelForm() throws IOException {
    List<List<float[]>> grids = List.of(List.of(new float[] {0f, 0.3f, 0.6f, 1f}), List.of(new float[] {1f, 0f,
        0.5f, 0.25f}));
    AnimatedGif.write(dir.resolve("a.gif"), grids, List.of("1", "2"), 2, 2);
    AnimatedGif.write(dir.resolve("b.gif"), grids, List.of("1", "2"), 2, 2, 1);
    assertArrayEquals(Files.readAllBytes(dir.resolve("a.gif")), Files.readAllBytes(dir.resolve("b.gif")));
  }
}
