package dev.tfdiffusion.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tfdiffusion.UserError;
import dev.tfdiffusion.config.Presets;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** CIFAR-10 binary files as --data: one file or a folder of batches, in colour or gray, and their errors. */
class CifarFileTest {
  private static final int R = CifarFile.RECORD_BYTES;

  @TempDir
  Path dir;

  /** Two records with labels 3 and 9; record i's pixel p is red p % 256, green (3p + i) % 256, blue 255 - p % 256. */
  private static byte[] knownRecords() {
    byte[] b = new byte[2 * R];
    for (int i = 0; i < 2; i++) {
      b[i * R] = (byte) (i == 0 ? 3 : 9);
      for (int p = 0; p < 1024; p++) {
        b[i * R + 1 + p] = (byte) (p % 256);
        b[i * R + 1 + 1024 + p] = (byte) ((3 * p + i) % 256);
        b[i * R + 1 + 2048 + p] = (byte) (255 - p % 256);
      }
    }
    return b;
  }

  @Test
  void readsRecordsAsHwcColourWithLabels() throws IOException {
    Path file = Files.write(dir.resolve("test_batch.bin"), knownRecords());
    Images read = DataSources.load(file.toString(), 0, false);
    assertEquals(2, read.count());
    assertEquals(32, read.height());
    assertEquals(32, read.width());
    assertEquals(3, read.channels());
    assertArrayEquals(new int[] {3, 9}, read.labels());
    // pixel (row 1, column 1) = p 33 of record 1: red 33, green 100, blue 222, interleaved
    assertArrayEquals(new float[] {33 / 255f, 100 / 255f, 222 / 255f},
        Arrays.copyOfRange(read.image(1), 33 * 3, 33 * 3 + 3));
    for (int i = 0; i < 2; i++) {
      float[] image = read.image(i);
      for (int p = 0; p < 1024; p++) {
        assertEquals((p % 256) / 255f, image[3 * p]);
        assertEquals(((3 * p + i) % 256) / 255f, image[3 * p + 1]);
        assertEquals((255 - p % 256) / 255f, image[3 * p + 2]);
      }
    }
  }

  @Test
  void grayscaleIsTheGrayOfTheSameImagesAsPngs() throws IOException {
    byte[] bytes = knownRecords();
    Path file = Files.write(dir.resolve("data_batch_1.bin"), bytes);
    Images gray = DataSources.load(file.toString(), 0, true);
    assertEquals(1, gray.channels());
    assertEquals(2 * 1024, gray.pixels().length);
    // Java2D's formula: (77 * 33 + 150 * 99 + 29 * 222 + 128) / 256 = 93 for record 0's pixel 33
    assertEquals(93 / 255f, gray.image(0)[33]);
    Path pngs = dir.resolve("pngs");
    for (int i = 0; i < 2; i++) {
      int at = i * R + 1;
      Fixtures.rgbPng(pngs.resolve("r" + i + ".png"), 32, 32, false, (x, y) -> {
        int p = y * 32 + x;
        return ((bytes[at + p] & 0xff) << 16) | ((bytes[at + 1024 + p] & 0xff) << 8) | (bytes[at + 2048 + p] & 0xff);
      });
    }
    Images fromPngs = DataSources.load(pngs.toString(), 0, true);
    assertArrayEquals(fromPngs.pixels(), gray.pixels());
    assertArrayEquals(DataSources.load(pngs.toString(), 0, false).pixels(),
        DataSources.load(file.toString(), 0, false).pixels());
  }

  @Test
  void folderReadsDataBatchesThenTheTestBatch() throws IOException {
    Path folder = dir.resolve("cifar-10-batches-bin");
    Files.createDirectories(folder);
    Files.write(folder.resolve("test_batch.bin"), Fixtures.cifarRecords(2, 3));
    Files.write(folder.resolve("data_batch_2.bin"), Fixtures.cifarRecords(1, 2));
    Path first = Fixtures.cifar(folder, 3, 1);
    Files.writeString(folder.resolve("batches.meta.txt"), String.join("\n", CifarFile.CLASS_NAMES));
    Images all = DataSources.load(folder.toString(), 0, false);
    assertEquals(6, all.count());
    assertArrayEquals(new int[] {0, 1, 2, 0, 0, 1}, all.labels());
    Images one = DataSources.load(first.toString(), 0, false);
    Images test = DataSources.load(folder.resolve("test_batch.bin").toString(), 0, false);
    assertArrayEquals(one.image(2), all.image(2));
    assertArrayEquals(test.image(0), all.image(4));
    assertArrayEquals(test.image(1), all.image(5));
    // the fixture's bytes, read back
    byte[] raw = Fixtures.cifarRecords(3, 1);
    assertEquals((raw[R + 1 + 1024 + 5] & 0xff) / 255f, one.image(1)[5 * 3 + 1]);
  }

  @Test
  void resizesColourImages() throws IOException {
    byte[] b = new byte[R];
    Arrays.fill(b, 1, 1 + 1024, (byte) 200);
    Arrays.fill(b, 1 + 1024, 1 + 2048, (byte) 40);
    Arrays.fill(b, 1 + 2048, R, (byte) 90);
    Path file = Files.write(dir.resolve("one.bin"), b);
    Images small = DataSources.load(file.toString(), 8, false);
    assertEquals(8, small.height());
    assertEquals(3, small.channels());
    assertEquals(8 * 8 * 3, small.pixels().length);
    assertArrayEquals(new float[] {200 / 255f, 40 / 255f, 90 / 255f}, Arrays.copyOfRange(small.image(0), 27, 30));
  }

  @Test
  void trainingDataPassesGrayscaleThrough() throws IOException {
    Path file = Fixtures.cifar(dir, 20, 5);
    Map<String, Object> data = Map.of("data", file.toString(), "digit", "all", "test-fraction", 0.1);
    assertEquals(3, TrainingData.load(Presets.quick().with(data)).train().channels());
    Map<String, Object> gray = new java.util.HashMap<>(data);
    gray.put("grayscale", true);
    Images.Split split = TrainingData.load(Presets.quick().with(gray));
    assertEquals(1, split.train().channels());
    assertEquals(18, split.train().count());
  }

  @Test
  void fileOfTheWrongSize() throws IOException {
    Path file = Files.write(dir.resolve("data_batch_1.bin"), new byte[2 * R + 5]);
    assertEquals(file + " is 6151 bytes, not a whole number of 3073-byte CIFAR-10 records.",
        assertThrows(UserError.class, () -> DataSources.load(file.toString(), 0, false)).getMessage());
    Path folder = file.getParent();
    assertEquals(file + " is 6151 bytes, not a whole number of 3073-byte CIFAR-10 records.",
        assertThrows(UserError.class, () -> DataSources.load(folder.toString(), 0, false)).getMessage());
  }

  @Test
  void emptyFile() throws IOException {
    Path file = Files.write(dir.resolve("empty.bin"), new byte[0]);
    assertEquals(file + " is empty, not a file of 3073-byte CIFAR-10 records.",
        assertThrows(UserError.class, () -> DataSources.load(file.toString(), 0, false)).getMessage());
  }

  @Test
  void labelAboveNine() throws IOException {
    byte[] b = Fixtures.cifarRecords(3, 1);
    b[R] = 12;
    Path file = Files.write(dir.resolve("cifar100.bin"), b);
    assertEquals(file + " has label 12 in record 2, but CIFAR-10 labels are 0..9.",
        assertThrows(UserError.class, () -> DataSources.load(file.toString(), 0, false)).getMessage());
  }
}
