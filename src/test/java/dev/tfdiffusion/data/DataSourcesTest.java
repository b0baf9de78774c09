package dev.tfdiffusion.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tfdiffusion.UserError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --data beyond the bundled digits, on fixtures made here: IDX (plain and gzip) and folders of PNG/JPEG images. */
class DataSourcesTest {
  @TempDir
  Path dir;

  @Test
  void readsGzippedMnistFilesWithTheirLabels() throws IOException {
    Path images = dir.resolve("train-images-idx3-ubyte.gz");
    Fixtures.gzip(images, Fixtures.idxImages(3, 28, 28, IdxFile.IMAGES_MAGIC));
    Fixtures.gzip(dir.resolve("train-labels-idx1-ubyte.gz"), Fixtures.idxLabels(7, 1, 7));
    Images read = DataSources.load(images.toString(), 0, false);
    assertEquals(3, read.count());
    assertEquals(28, read.height());
    assertEquals(28, read.width());
    assertArrayEquals(new int[] {7, 1, 7}, read.labels());
    assertEquals(40 / 255f, read.image(1)[0]);
    assertEquals(2, read.withLabel(7).count());
  }

  @Test
  void readsPlainIdxWithoutLabelsAndResizes() throws IOException {
    Path images = dir.resolve("faces.idx3");
    Files.write(images, Fixtures.idxImages(2, 6, 6, IdxFile.IMAGES_MAGIC));
    Images read = DataSources.load(images.toString(), 0, false);
    assertArrayEquals(new int[] {-1, -1}, read.labels());
    Images small = DataSources.load(images.toString(), 3, false);
    assertEquals(3, small.height());
    assertEquals(2 * 9, small.pixels().length);
  }

  @Test
  void wrongMagicNumber() throws IOException {
    Path images = dir.resolve("t10k-images-idx3-ubyte");
    Files.write(images, Fixtures.idxImages(1, 4, 4, IdxFile.IMAGES_MAGIC));
    Path labels = dir.resolve("t10k-labels-idx1-ubyte");
    Files.write(labels, Fixtures.idxImages(1, 4, 4, 0x00000803));
    UserError e = assertThrows(UserError.class, () -> DataSources.load(images.toString(), 0, false));
    assertEquals(labels + " is not an IDX labels file: its magic number is 0x00000803, not 0x00000801.",
        e.getMessage());
  }

  @Test
  void truncatedIdx() throws IOException {
    Path images = dir.resolve("cut-images-idx3-ubyte");
    byte[] full = Fixtures.idxImages(4, 5, 5, IdxFile.IMAGES_MAGIC);
    Files.write(images, java.util.Arrays.copyOf(full, full.length - 10));
    assertEquals(images + " ends before all the images its header declares.",
        assertThrows(UserError.class, () -> DataSources.load(images.toString(), 0, false)).getMessage());
  }

  @Test
  void readsAFolderOfImagesWithLabelsFromSubfolders() throws IOException {
    Path folder = dir.resolve("imgs");
    Fixtures.png(folder.resolve("3/a.png"), 10, 10, 255);
    Fixtures.png(folder.resolve("3/b.png"), 10, 10, 0);
    Fixtures.png(folder.resolve("loose.png"), 10, 10, 51);
    Images read = DataSources.load(folder.toString(), 0, false);
    assertEquals(3, read.count());
    assertEquals(10, read.height());
    assertArrayEquals(new int[] {3, 3, -1}, read.labels());
    assertEquals(1f, read.image(0)[0], 1e-6);
    assertEquals(0.2f, read.image(2)[0], 1e-6);
  }

  @Test
  void mixedSizesNeedImageSize() throws IOException {
    Path folder = dir.resolve("mixed");
    Fixtures.png(folder.resolve("a.png"), 10, 10, 100);
    Fixtures.png(folder.resolve("b.png"), 12, 9, 100);
    UserError e = assertThrows(UserError.class, () -> DataSources.load(folder.toString(), 0, false));
    assertEquals(folder.resolve("b.png") + " is 12x9 but " + folder.resolve("a.png") + " is 10x10; give "
        + "--image-size N to resize them all to N x N.", e.getMessage());
    Images resized = DataSources.load(folder.toString(), 8, false);
    assertEquals(2, resized.count());
    assertEquals(8, resized.width());
    assertEquals(100 / 255f, resized.image(1)[20], 0.01);
  }

  @Test
  void resizingKeepsGrayValues() throws IOException {
    // columns 0, 50, .., 250 averaged in pairs; Java2D alone would treat them as linear light and brighten them
    float[] pixels = new float[6 * 6];
    for (int k = 0; k < pixels.length; k++) {
      pixels[k] = (k % 6) * 50 / 255f;
    }
    float[] expected = new float[9];
    for (int k = 0; k < expected.length; k++) {
      expected[k] = new float[] {25 / 255f, 125 / 255f, 225 / 255f}[k % 3];
    }
    assertArrayEquals(expected, DataSources.resized(new Images(pixels, new int[] {-1}, 6, 6), 3).image(0));
    Path folder = dir.resolve("gray");
    Fixtures.png(folder.resolve("a.png"), 5, 5, 50);
    Images read = DataSources.load(folder.toString(), 3, false);
    assertEquals(50 / 255f, read.image(0)[4]);
  }

  @Test
  void unreadableImage() throws IOException {
    Path folder = dir.resolve("broken");
    Fixtures.png(folder.resolve("a.png"), 4, 4, 10);
    Files.writeString(folder.resolve("b.jpg"), "this is not a JPEG");
    assertEquals(folder.resolve("b.jpg") + " is not a readable PNG or JPEG image.",
        assertThrows(UserError.class, () -> DataSources.load(folder.toString(), 0, false)).getMessage());
  }

  @Test
  void emptyFolder() throws IOException {
    Path folder = Files.createDirectories(dir.resolve("empty"));
    assertEquals(folder + " holds no PNG or JPEG images.",
        assertThrows(UserError.class, () -> DataSources.load(folder.toString(), 0, false)).getMessage());
  }
}
