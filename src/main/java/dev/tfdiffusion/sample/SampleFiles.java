package dev.tfdiffusion.sample;

import dev.tfdiffusion.UserError;
import dev.tfdiffusion.plot.ImageGrid;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Writes samples as a PNG grid and as CSV (no header; one image per row, its H*W*C values clipped to [0, 1], row-major
 * with the channels interleaved: H*W gray values, or R,G,B of each pixel in turn for colour).
 */
public final class SampleFiles {
  private SampleFiles() {}

  /** {@code samples.png} -> {@code samples.csv}. */
  public static Path csvFor(Path png) {
    String name = png.getFileName().toString();
    int dot = name.lastIndexOf('.');
    return png.resolveSibling((dot > 0 ? name.substring(0, dot) : name) + ".csv");
  }

  /** Refuses to replace existing files unless {@code overwrite}. */
  public static void checkWritable(boolean overwrite, Path... files) {
    for (Path f : files) {
      if (f == null) {
        continue;
      }
      if (Files.isDirectory(f)) {
        throw UserError.usage(f + " is a folder; give a file name.");
      }
      if (Files.exists(f) && !overwrite) {
        throw UserError.usage(f + " already exists; choose another name or add --overwrite.");
      }
      Path parent = f.toAbsolutePath().getParent();
      if (parent != null && Files.exists(parent) && !Files.isWritable(parent)) {
        throw new UserError("Cannot write " + f + ": " + parent + " is not writable.");
      }
    }
  }

  public static List<float[]> split(float[] values, int pixels) {
    List<float[]> out = new ArrayList<>();
    for (int i = 0; i + pixels <= values.length; i += pixels) {
      out.add(Arrays.copyOfRange(values, i, i + pixels));
    }
    return out;
  }

  /**
   * Writes one image per line.
   *
   * @param pixels values per image: height * width * channels
   */
  public static void writeCsv(Path csv, float[] values, int pixels) throws IOException {
    writeCsv(csv, values, pixels, null);
  }

  /**
   * As {@link #writeCsv(Path, float[], int)}, each line ending with the class the image was drawn for when
   * {@code labels} is given (a conditional model's samples, in the bundled digits' layout: pixels, then label).
   */
  public static void writeCsv(Path csv, float[] values, int pixels, int[] labels) throws IOException {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < values.length; i++) {
      b.append(Math.max(0f, Math.min(1f, values[i])));
      if ((i + 1) % pixels != 0) {
        b.append(',');
      } else {
        if (labels != null) {
          b.append(',').append(labels[i / pixels]);
        }
        b.append('\n');
      }
    }
    writeAtomically(csv, b.toString());
  }

  /** Writes {@code text} beside {@code file} and renames it into place: readers see the old file or the new one. */
  public static void writeAtomically(Path file, String text) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(tmp, text, StandardCharsets.UTF_8);
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  /** Writes gray images as a square-ish grid. */
  public static void writeGrid(Path png, float[] values, int height, int width) throws IOException {
    writeGrid(png, values, height, width, 1);
  }

  /** Writes gray ({@code channels} 1) or RGB ({@code channels} 3) HWC images as a square-ish grid. */
  public static void writeGrid(Path png, float[] values, int height, int width, int channels) throws IOException {
    writeGrid(png, values, height, width, channels, squareColumns(values.length / (height * width * channels)));
  }

  /** As {@link #writeGrid(Path, float[], int, int, int)} with {@code columns} images per row. */
  public static void writeGrid(Path png, float[] values, int height, int width, int channels, int columns)
      throws IOException {
    List<float[]> images = split(values, height * width * channels);
    ImageGrid.write(png, images, height, width, channels, columns, Math.max(32, 384 / columns), null);
  }

  /** Columns of a square-ish grid of {@code count} images. */
  public static int squareColumns(int count) {
    return (int) Math.ceil(Math.sqrt(count));
  }
}
