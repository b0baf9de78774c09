package dev.tfdiffusion.data;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;
import javax.imageio.ImageIO;

/** Data files made by tests: MNIST IDX images and labels, and small PNG/JPEG images. */
public final class Fixtures {
  public static final int IMAGES_MAGIC = IdxFile.IMAGES_MAGIC;

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

  /** A gray PNG or JPEG (by the name's extension) of one value 0..255, stored as 8-bit gray. */
  public static void png(Path file, int width, int height, int value) throws IOException {
    BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        img.getRaster().setSample(x, y, 0, value); // setRGB would convert to linear gray
      }
    }
    Files.createDirectories(file.getParent());
    ImageIO.write(img, file.toString().endsWith(".png") ? "png" : "jpg", file.toFile());
  }

}
