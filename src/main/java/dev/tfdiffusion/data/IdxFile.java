package dev.tfdiffusion.data;

import dev.tfdiffusion.UserError;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * MNIST's IDX format (plain or gzip): big-endian magic {@code 0x00000803} with count, rows, columns and unsigned bytes
 * for images; {@code 0x00000801} with count and bytes for labels. Pixels are scaled by 1/255 to [0, 1]. The labels
 * file is found beside the images by MNIST's naming ({@code ...-images-idx3-ubyte} / {@code ...-labels-idx1-ubyte}).
 */
public final class IdxFile {
  static final int IMAGES_MAGIC = 0x00000803;
  static final int LABELS_MAGIC = 0x00000801;

  private IdxFile() {}

  /** Whether {@code file} starts with the IDX images magic (after gunzip). */
  static boolean isIdxImages(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file); InputStream body = DigitsCsv.maybeGunzip(in)) {
      byte[] head = body.readNBytes(4);
      return head.length == 4 && head[0] == 0 && head[1] == 0 && head[2] == 8 && head[3] == 3;
    }
  }

  public static Images read(Path imagesFile) {
    try (InputStream in = Files.newInputStream(imagesFile);
         DataInputStream data = new DataInputStream(DigitsCsv.maybeGunzip(in))) {
      int magic = data.readInt();
      if (magic != IMAGES_MAGIC) {
        throw new UserError(String.format("%s is not an IDX images file: its magic number is 0x%08x, not 0x%08x.",
            imagesFile, magic, IMAGES_MAGIC));
      }
      int count = data.readInt();
      int rows = data.readInt();
      int cols = data.readInt();
      if (count <= 0 || rows <= 0 || cols <= 0 || (long) count * rows * cols > Integer.MAX_VALUE) {
        throw new UserError(imagesFile + " declares " + count + " images of " + rows + "x" + cols
            + ", which cannot be right.");
      }
      byte[] pixels = new byte[count * rows * cols];
      data.readFully(pixels);
      float[] scaled = new float[pixels.length];
      for (int i = 0; i < pixels.length; i++) {
        scaled[i] = (pixels[i] & 0xff) / 255f;
      }
      int[] labels = readLabels(labelsBeside(imagesFile), count);
      return new Images(scaled, labels, rows, cols);
    } catch (NoSuchFileException e) {
      throw new UserError("Data file " + imagesFile + " does not exist.");
    } catch (EOFException e) {
      throw new UserError(imagesFile + " ends before all the images its header declares.");
    } catch (IOException e) {
      throw new UserError("Cannot read " + imagesFile + ": " + e.getMessage() + ".");
    }
  }

  /** MNIST naming: images-idx3 -> labels-idx1, same compression. */
  static Path labelsBeside(Path imagesFile) {
    String name = imagesFile.getFileName().toString();
    String labels = name.replace("images-idx3", "labels-idx1").replace("images.idx3", "labels.idx1");
    return labels.equals(name) ? null : imagesFile.resolveSibling(labels);
  }

  /** The labels, or -1 for each image when there is no labels file. */
  static int[] readLabels(Path labelsFile, int count) throws IOException {
    int[] labels = new int[count];
    java.util.Arrays.fill(labels, -1);
    if (labelsFile == null || !Files.isRegularFile(labelsFile)) {
      return labels;
    }
    try (InputStream in = Files.newInputStream(labelsFile);
         DataInputStream data = new DataInputStream(DigitsCsv.maybeGunzip(in))) {
      int magic = data.readInt();
      if (magic != LABELS_MAGIC) {
        throw new UserError(String.format("%s is not an IDX labels file: its magic number is 0x%08x, not 0x%08x.",
            labelsFile, magic, LABELS_MAGIC));
      }
      int n = data.readInt();
      if (n != count) {
        throw new UserError(labelsFile + " has " + n + " labels for " + count + " images.");
      }
      for (int i = 0; i < n; i++) {
        labels[i] = data.readUnsignedByte();
      }
      return labels;
    } catch (EOFException e) {
      throw new UserError(labelsFile + " ends before all the labels its header declares.");
    }
  }
}
