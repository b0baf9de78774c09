package dev.tfdiffusion.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tfdiffusion.UserError;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Folders of colour PNGs: channels kept, alpha dropped, --grayscale as before, mixed folders, class sub-folders. */
class ColourFolderTest {
  @TempDir
  Path dir;

  @Test
  void readsRgbChannelsExactly() throws IOException {
    Path folder = Fixtures.rgbFolder(dir.resolve("rgb"), 4, 5);
    Images read = DataSources.load(folder.toString(), 0, false);
    assertEquals(4, read.count());
    assertEquals(3, read.channels());
    assertEquals(5, read.height());
    // path order: blue/img000, blue/img003, green/img001, red/img002
    int[] order = {0, 3, 1, 2};
    assertArrayEquals(new int[] {0, 0, 1, 2}, read.labels());
    assertEquals(Fixtures.RGB_CLASSES, ImageFolder.classNames(folder));
    for (int i = 0; i < 4; i++) {
      float[] image = read.image(i);
      for (int y = 0; y < 5; y++) {
        for (int x = 0; x < 5; x++) {
          int rgb = Fixtures.rgbFolderPixel(order[i], x, y);
          int k = (y * 5 + x) * 3;
          assertArrayEquals(new float[] {(rgb >> 16) / 255f, ((rgb >> 8) & 0xff) / 255f, (rgb & 0xff) / 255f},
              new float[] {image[k], image[k + 1], image[k + 2]}, "image " + i + " at " + x + "," + y);
        }
      }
    }
  }

  @Test
  void dropsAlphaWithoutCompositing() throws IOException {
    Path folder = dir.resolve("rgba");
    // alpha 0, 128 and 255 over the same colour: all read as that colour
    Fixtures.rgbPng(folder.resolve("a.png"), 3, 1, true, (x, y) -> (new int[] {0, 128, 255}[x] << 24) | 0x40a0ff);
    Images read = DataSources.load(folder.toString(), 0, false);
    assertEquals(3, read.channels());
    float[] colour = {0x40 / 255f, 0xa0 / 255f, 1f};
    assertArrayEquals(new float[] {colour[0], colour[1], colour[2], colour[0], colour[1], colour[2], colour[0],
        colour[1], colour[2]}, read.image(0));
  }

  @Test
  void grayscaleGivesTheGrayValuesOfBefore() throws IOException {
    Path folder = Fixtures.rgbFolder(dir.resolve("rgb"), 3, 6);
    Fixtures.rgbPng(folder.resolve("red/rgba.png"), 6, 6, true, (x, y) -> ((x * 40) << 24) | (y * 40 << 8) | 0xc0);
    Images gray = DataSources.load(folder.toString(), 0, true);
    assertEquals(1, gray.channels());
    assertEquals(4, gray.count());
    // as the reader converted every image before colour: Java2D's gray (RGBA composited over black)
    assertArrayEquals(ImageResize.grayValues(ImageIO.read(folder.resolve("red/rgba.png").toFile())), gray.image(3));
    int rgb = Fixtures.rgbFolderPixel(0, 2, 1);
    assertEquals(ImageResize.grayOf(rgb >> 16, (rgb >> 8) & 0xff, rgb & 0xff) / 255f, gray.image(0)[6 + 2]);
    Images small = DataSources.load(folder.toString(), 4, true);
    assertArrayEquals(ImageResize.grayValues(ImageResize.gray(ImageIO.read(folder.resolve("blue/img000.png")
        .toFile()), 4, 4)), small.image(0));
  }

  @Test
  void resizesColourImages() throws IOException {
    Path folder = dir.resolve("flat");
    Fixtures.rgbPng(folder.resolve("a.png"), 10, 10, false, (x, y) -> 0xc83c64);
    Fixtures.rgbPng(folder.resolve("b.png"), 7, 12, false, (x, y) -> 0x1020f0);
    Images small = DataSources.load(folder.toString(), 4, false);
    assertEquals(3, small.channels());
    assertEquals(4 * 4 * 3, small.pixelsPerImage());
    assertArrayEquals(new float[] {0xc8 / 255f, 0x3c / 255f, 0x64 / 255f}, java.util.Arrays.copyOfRange(
        small.image(0), 15, 18));
    assertArrayEquals(new float[] {0x10 / 255f, 0x20 / 255f, 0xf0 / 255f}, java.util.Arrays.copyOfRange(
        small.image(1), 15, 18));
    Images again = ImageResize.resize(DataSources.load(folder.toString(), 10, false), 4);
    assertArrayEquals(small.image(0), again.image(0));
  }

  @Test
  void grayAndColourTogetherNeedGrayscale() throws IOException {
    Path folder = dir.resolve("mixed");
    Fixtures.png(folder.resolve("a.png"), 4, 4, 100);
    Fixtures.rgbPng(folder.resolve("b.png"), 4, 4, false, (x, y) -> 0xff0000);
    assertEquals(folder.resolve("b.png") + " has 3 channels (colour) but " + folder.resolve("a.png") + " has 1 "
        + "(gray); give --grayscale to train on them all in gray.",
        assertThrows(UserError.class, () -> DataSources.load(folder.toString(), 0, false)).getMessage());
    Fixtures.png(folder.resolve("c.png"), 4, 4, 100);
    Fixtures.rgbPng(folder.resolve("0.png"), 4, 4, false, (x, y) -> 0xff0000);
    assertEquals(folder.resolve("a.png") + " has 1 channel (gray) but " + folder.resolve("0.png") + " has 3 "
        + "(colour); give --grayscale to train on them all in gray.",
        assertThrows(UserError.class, () -> DataSources.load(folder.toString(), 0, false)).getMessage());
    Images gray = DataSources.load(folder.toString(), 0, true);
    assertEquals(1, gray.channels());
    assertEquals(100 / 255f, gray.image(1)[0]);
    assertEquals(77 / 255f, gray.image(0)[0]); // pure red: (77 * 255 + 128) / 256
  }

  @Test
  void grayImagesStayOneChannel() throws IOException {
    Path folder = dir.resolve("gray");
    Fixtures.png(folder.resolve("7/a.png"), 3, 3, 51);
    Fixtures.png(folder.resolve("7/b.jpg"), 3, 3, 204);
    Images read = DataSources.load(folder.toString(), 0, false);
    assertEquals(1, read.channels());
    assertArrayEquals(new int[] {7, 7}, read.labels());
    assertEquals(List.of(), ImageFolder.classNames(folder));
    assertEquals(0.2f, read.image(0)[4]);
  }

  @Test
  void namedSubFoldersAreClassesInNameOrder() throws IOException {
    Path folder = dir.resolve("named");
    Fixtures.png(folder.resolve("dog/a.png"), 2, 2, 1);
    Fixtures.png(folder.resolve("cat/a.png"), 2, 2, 2);
    Fixtures.png(folder.resolve("cat/b.png"), 2, 2, 3);
    Fixtures.png(folder.resolve("3/a.png"), 2, 2, 4);
    Fixtures.png(folder.resolve("loose.png"), 2, 2, 5);
    Images read = DataSources.load(folder.toString(), 0, false);
    // path order 3/a, cat/a, cat/b, dog/a, loose; with a non-digit name the digit folder is a class like the others
    assertArrayEquals(new int[] {0, 1, 1, 2, -1}, read.labels());
    assertEquals(List.of("3", "cat", "dog"), ImageFolder.classNames(folder));
  }
}
