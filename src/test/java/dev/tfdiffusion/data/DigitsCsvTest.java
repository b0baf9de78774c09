package dev.tfdiffusion.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tfdiffusion.FileSnapshot;
import dev.tfdiffusion.UserError;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DigitsCsvTest {
  @TempDir
  Path dir;

  @Test
  void bundledDataHasTheDigitsOfScikitLearn() {
    Images all = DigitsCsv.bundled();
    assertEquals(1797, all.count());
    assertEquals(8, all.height());
    assertEquals(182, all.withLabel(1).count());
    // first row of load_digits(): a zero; pixel (0, 2) is 5/16
    assertEquals(0, all.labels()[0]);
    assertEquals(5f / 16f, all.pixels()[2]);
    float max = 0;
    for (float p : all.pixels()) {
      max = Math.max(max, p);
    }
    assertEquals(1f, max);
  }

  @Test
  void splitReproducesScikitLearnTrainTestSplit() {
    Images ones = DigitsCsv.bundled().withLabel(1);
    // tag each image with its index so the split's order can be read back
    Images indexed = new Images(ones.pixels(), java.util.stream.IntStream.range(0, ones.count()).toArray(), 8, 8);
    Images.Split split = indexed.split(0.05, 42);
    assertEquals(172, split.train().count());
    assertEquals(10, split.test().count());
    // from: train_test_split(np.arange(182), test_size=0.05, random_state=42)  (numpy 2.4, scikit-learn)
    assertArrayEquals(new int[] {19, 42, 154, 98, 146, 15, 24, 68, 115, 96}, split.test().labels());
    assertArrayEquals(new int[] {95, 160, 69, 111, 45, 16, 51, 127, 97, 56, 174, 122},
        java.util.Arrays.copyOf(split.train().labels(), 12));
  }

  @Test
  void numpyPermutationMatches() {
    // np.random.RandomState(42).permutation(20)
    assertArrayEquals(new int[] {0, 17, 15, 1, 8, 5, 11, 3, 18, 16, 13, 2, 9, 19, 4, 12, 7, 10, 14, 6},
        new Mt19937(42).permutation(20));
  }

  @Test
  void readsPlainAndGzippedFiles() throws IOException {
    String row = "0,".repeat(64) + "3\n";
    Path plain = dir.resolve("d.csv");
    Files.writeString(plain, row + row);
    assertEquals(2, DigitsCsv.read(plain).count());
    Path gz = dir.resolve("d.csv.gz");
    try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(gz))) {
      out.write(row.getBytes());
    }
    Images one = DigitsCsv.read(gz);
    assertEquals(1, one.count());
    assertEquals(3, one.labels()[0]);
  }

  private String errorFor(String content) throws IOException {
    Path f = dir.resolve("bad.csv");
    Files.writeString(f, content);
    // nothing is written: the folder, with the bad file in it, is the same afterwards
    return FileSnapshot.assertWritesNothing(() -> assertThrows(UserError.class, () -> DigitsCsv.read(f)), dir)
        .getMessage();
  }

  @Test
  void malformedFilesNameTheFileAndLine() throws IOException {
    String good = "0,".repeat(64) + "1\n";
    String f = dir.resolve("bad.csv").toString();
    assertEquals(f + " line 2: expected 65 comma-separated values (64 pixels and a label), found 3.",
        errorFor(good + "1,2,3\n"));
    assertEquals(f + " line 1: value 5 is 'x', not a whole number.",
        errorFor("0,0,0,0,x," + "0,".repeat(59) + "1\n"));
    assertEquals(f + " line 1: pixel 1 is 17, outside 0..16.", errorFor("17," + "0,".repeat(63) + "1\n"));
    assertEquals(f + " line 1: label is 10, outside 0..9.", errorFor("0,".repeat(64) + "10\n"));
    assertEquals(f + " holds no images.", errorFor(""));
  }

  @Test
  void missingFileIsOneSentence() {
    Path missing = dir.resolve("nope.csv");
    assertEquals("Data file " + missing + " does not exist.", FileSnapshot.assertWritesNothing(
        () -> assertThrows(UserError.class, () -> DigitsCsv.read(missing)), dir).getMessage());
    assertFalse(Files.exists(missing));
  }

  @Test
  void badGzippedFileWritesNothing() throws IOException {
    // the .csv.gz path of the same checks: a label out of range inside a gzipped file
    Path gz = dir.resolve("bad.csv.gz");
    try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(gz))) {
      out.write(("0,".repeat(64) + "12\n").getBytes());
    }
    String message = FileSnapshot.assertWritesNothing(
        () -> assertThrows(UserError.class, () -> DigitsCsv.read(gz)), dir).getMessage();
    assertEquals(gz + " line 1: label is 12, outside 0..9.", message);
  }
}
