package dev.tfdiffusion.data;

import dev.tfdiffusion.UserError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * CIFAR-10's binary format: records of 1 label byte (0..9) and 3072 pixel bytes, 1024 red, 1024 green then 1024 blue,
 * each plane 32x32 row-major. Read as HWC values /255 in [0, 1]; with {@code grayscale}, as one channel of Java2D's
 * gray {@code (77 R + 150 G + 29 B + 128) / 256} (integer division, on the bytes) /255, the gray a folder of the same
 * images as PNG gives. Either one file or a folder holding {@code data_batch_*.bin} and/or {@code test_batch.bin}.
 */
public final class CifarFile {
  /** Bytes per record: label and 32 x 32 x 3 pixels. */
  public static final int RECORD_BYTES = 1 + 3 * 32 * 32;
  /** CIFAR-10's classes in label order (from its {@code batches.meta.txt}). */
  public static final List<String> CLASS_NAMES = List.of("airplane", "automobile", "bird", "cat", "deer", "dog",
      "frog", "horse", "ship", "truck");

  private static final int SIDE = 32;
  private static final int PLANE = SIDE * SIDE;

  private CifarFile() {}

  /** Whether {@code path} is CIFAR-10 data: a {@code .bin} file or a folder with the batch files. */
  static boolean isCifar(Path path) {
    return Files.isDirectory(path) ? !batches(path).isEmpty()
        : path.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".bin");
  }

  /**
   * The images of a CIFAR-10 file, or of all the batches of a folder (sorted by name: data batches, then the test
   * batch), with their labels.
   */
  public static Images read(Path path, boolean grayscale) {
    List<Path> files = Files.isDirectory(path) ? batches(path) : List.of(path);
    long records = 0;
    for (Path f : files) {
      records += recordsIn(f);
    }
    int channels = grayscale ? 1 : 3;
    if (records * PLANE * channels > Integer.MAX_VALUE - 8) {
      throw new UserError(path + " holds " + records + " CIFAR-10 images, more than fit in memory at once.");
    }
    float[] pixels = new float[(int) records * PLANE * channels];
    int[] labels = new int[(int) records];
    int image = 0;
    for (Path f : files) {
      byte[] bytes;
      try {
        bytes = Files.readAllBytes(f);
      } catch (IOException e) {
        throw new UserError("Cannot read data file " + f + ": " + e.getMessage() + ".");
      }
      for (int r = 0; r * RECORD_BYTES < bytes.length; r++, image++) {
        int at = r * RECORD_BYTES;
        labels[image] = bytes[at] & 0xff;
        if (labels[image] > 9) {
          throw new UserError(f + " has label " + labels[image] + " in record " + (r + 1)
              + ", but CIFAR-10 labels are 0..9.");
        }
        decode(bytes, at + 1, pixels, image * PLANE * channels, grayscale);
      }
    }
    return new Images(pixels, labels, SIDE, SIDE, channels);
  }

  /** One record's CHW bytes at {@code from} as HWC (or gray) values at {@code to}. */
  private static void decode(byte[] bytes, int from, float[] out, int to, boolean grayscale) {
    for (int p = 0; p < PLANE; p++) {
      int r = bytes[from + p] & 0xff;
      int g = bytes[from + PLANE + p] & 0xff;
      int b = bytes[from + 2 * PLANE + p] & 0xff;
      if (grayscale) {
        out[to + p] = ImageResize.grayOf(r, g, b) / 255f;
      } else {
        out[to + 3 * p] = r / 255f;
        out[to + 3 * p + 1] = g / 255f;
        out[to + 3 * p + 2] = b / 255f;
      }
    }
  }

  private static long recordsIn(Path f) {
    long size;
    try {
      size = Files.size(f);
    } catch (NoSuchFileException e) {
      throw new UserError("Data file " + f + " does not exist.");
    } catch (IOException e) {
      throw new UserError("Cannot read data file " + f + ": " + e.getMessage() + ".");
    }
    if (size == 0) {
      throw new UserError(f + " is empty, not a file of " + RECORD_BYTES + "-byte CIFAR-10 records.");
    }
    if (size % RECORD_BYTES != 0) {
      throw new UserError(f + " is " + size + " bytes, not a whole number of " + RECORD_BYTES
          + "-byte CIFAR-10 records.");
    }
    return size / RECORD_BYTES;
  }

  /** A folder's {@code data_batch_*.bin} and {@code test_batch.bin}, sorted by name. */
  private static List<Path> batches(Path dir) {
    List<Path> files = new ArrayList<>();
    try (Stream<Path> list = Files.list(dir)) {
      list.filter(Files::isRegularFile).filter(f -> {
        String n = f.getFileName().toString();
        return n.equals("test_batch.bin") || (n.startsWith("data_batch_") && n.endsWith(".bin"));
      }).sorted().forEach(files::add);
    } catch (IOException e) {
      throw new UserError("Cannot read the folder " + dir + ": " + e.getMessage() + ".");
    }
    return files;
  }
}
