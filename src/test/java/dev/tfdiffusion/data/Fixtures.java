package dev.tfdiffusion.data;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.function.IntBinaryOperator;
import java.util.zip.GZIPOutputStream;
import javax.imageio.ImageIO;

/**
 * Data files made by tests: MNIST IDX images and labels, small gray and colour PNG/JPEG images and folders of them,
 * and CIFAR-10 binary files.
 */
public final class Fixtures {
  public static final int IMAGES_MAGIC = IdxFile.IMAGES_MAGIC;
  /** Class sub-folders of {@link #rgbFolder}, labels 0..2 in this (name) order; image i is in class i % 3. */
  public static final List<String> RGB_CLASSES = List.of("blue", "green", "red");

  private Fixtures() {}

  /** An MNIST-style images file: image i has pixel value (i * 40 + k) % 256 at position k. */
  public static byte[] idxImages(int count, int rows, int cols, int magic) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    DataOutputStream out = new DataOutputStream(bytes);
    out.writeInt(magic);
    out.writeInt(count);
    out.writeInt(rows);
    out.writeInt(cols);
    for (int i = 0; i < count; i++) {
      for (int k = 0; k < rows * cols; k++) {
        out.writeByte((i * 40 + k) % 256);
      }
    }
    return bytes.toByteArray();
  }

  public static byte[] idxLabels(int... labels) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    DataOutputStream out = new DataOutputStream(bytes);
    out.writeInt(IdxFile.LABELS_MAGIC);
    out.writeInt(labels.length);
    for (int l : labels) {
      out.writeByte(l);
    }
    return bytes.toByteArray();
  }

  public static void gzip(Path file, byte[] content) throws IOException {
    try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(file))) {
      out.write(content);
    }
  }

  /** A gray PNG or JPEG (by the name's extension) of one value 0..255, stored as 8-bit gray: read as 1 channel. */
  public static void png(Path file, int width, int height, int value) throws IOException {
    BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        img.getRaster().setSample(x, y, 0, value); // setRGB would convert to linear gray
      }
    }
    write(file, img);
  }

  /**
   * A colour PNG whose pixel (x, y) is {@code argb.applyAsInt(x, y)}: stored as RGBA when {@code alpha}, else as RGB
   * (the alpha byte ignored).
   */
  public static void rgbPng(Path file, int width, int height, boolean alpha, IntBinaryOperator argb)
      throws IOException {
    BufferedImage img = new BufferedImage(width, height,
        alpha ? BufferedImage.TYPE_INT_ARGB : BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        img.setRGB(x, y, argb.applyAsInt(x, y));
      }
    }
    write(file, img);
  }

  private static void write(Path file, BufferedImage img) throws IOException {
    Files.createDirectories(file.getParent());
    if (!ImageIO.write(img, file.toString().endsWith(".png") ? "png" : "jpg", file.toFile())) {
      throw new IOException("no writer for " + file);
    }
  }

  /**
   * {@code count} colour PNGs of {@code size x size} in the class sub-folders {@link #RGB_CLASSES} of {@code dir}:
   * image i is {@code <class i % 3>/img<iii>.png} with pixels {@link #rgbFolderPixel}. Read back, the images come in
   * path order (all blue ones first). Returns {@code dir}.
   */
  public static Path rgbFolder(Path dir, int count, int size) throws IOException {
    for (int i = 0; i < count; i++) {
      int image = i;
      rgbPng(dir.resolve(RGB_CLASSES.get(i % 3)).resolve(String.format("img%03d.png", i)), size, size, false,
          (x, y) -> rgbFolderPixel(image, x, y));
    }
    return dir;
  }

  /** Pixel (x, y) of {@link #rgbFolder}'s image i as 0xRRGGBB: bright in its class's channel, patterned in all. */
  public static int rgbFolderPixel(int image, int x, int y) {
    int[] c = {(x * 29 + y * 7 + image * 13) % 100, (x * 11 + y * 31 + image * 5) % 100, (x * 3 + y * 17) % 100};
    int bright = 2 - image % 3; // blue, green, red: channel 2, 1, 0 of RGB
    c[bright] += 155;
    return (c[0] << 16) | (c[1] << 8) | c[2];
  }

  /**
   * {@code records} CIFAR-10 records: record i has label i % 10 and 3072 pixel bytes from {@code new Random(seed)}
   * (record after record).
   */
  public static byte[] cifarRecords(int records, long seed) {
    byte[] bytes = new byte[records * CifarFile.RECORD_BYTES];
    Random random = new Random(seed);
    byte[] pixels = new byte[CifarFile.RECORD_BYTES - 1];
    for (int i = 0; i < records; i++) {
      random.nextBytes(pixels);
      bytes[i * CifarFile.RECORD_BYTES] = (byte) (i % 10);
      System.arraycopy(pixels, 0, bytes, i * CifarFile.RECORD_BYTES + 1, pixels.length);
    }
    return bytes;
  }

  /** Writes {@link #cifarRecords} as {@code dir/data_batch_1.bin} and returns that file. */
  public static Path cifar(Path dir, int records, long seed) throws IOException {
    Files.createDirectories(dir);
    return Files.write(dir.resolve("data_batch_1.bin"), cifarRecords(records, seed));
  }
}
