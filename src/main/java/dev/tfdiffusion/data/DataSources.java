package dev.tfdiffusion.data;

import dev.tfdiffusion.UserError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What {@code --data PATH} can be: a folder of PNG/JPEG images, a CIFAR-10 binary file ({@code *.bin}) or a folder of
 * its batches, an MNIST IDX images file (labels beside it), or a CSV in the bundled digits' format; nothing means the
 * bundled digits. {@code imageSize > 0} resizes to N x N; {@code grayscale} converts colour images (a folder's, or
 * CIFAR-10's) to one gray channel, otherwise they keep their 3 channels.
 */
public final class DataSources {
  private DataSources() {}

  /** The images at {@code path} (null for the bundled digits), at {@code imageSize} when that is above 0. */
  public static Images load(String path, int imageSize, boolean grayscale) {
    Images images = loadStored(path, imageSize, grayscale);
    return imageSize > 0 && (images.height() != imageSize || images.width() != imageSize)
        ? ImageResize.resize(images, imageSize) : images;
  }

  /**
   * As {@link #load}, but files keep their stored size (resize them with {@link #resized}); a folder's images, which
   * may differ in size, are resized as they are read.
   */
  static Images loadStored(String path, int imageSize, boolean grayscale) {
    Images images;
    if (path == null) {
      images = DigitsCsv.bundled();
    } else {
      Path p = Path.of(path);
      if (!Files.exists(p)) {
        throw new UserError("Data file " + p + " does not exist.");
      }
      if (CifarFile.isCifar(p)) {
        return CifarFile.read(p, grayscale);
      }
      if (Files.isDirectory(p)) {
        return ImageFolder.read(p, imageSize, grayscale);
      }
      boolean idx;
      try {
        idx = IdxFile.isIdxImages(p);
      } catch (IOException e) {
        throw new UserError("Cannot read data file " + p + ": " + e.getMessage() + ".");
      }
      images = idx ? IdxFile.read(p) : DigitsCsv.read(p);
    }
    return images;
  }

  /** {@code images} at {@code imageSize} x {@code imageSize} (unchanged for 0 or when already that size). */
  static Images resized(Images images, int imageSize) {
    return imageSize > 0 && (images.height() != imageSize || images.width() != imageSize)
        ? ImageResize.resize(images, imageSize) : images;
  }
}
