package dev.tfdiffusion.data;

import dev.tfdiffusion.UserError;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

/**
 * A folder of PNG/JPEG images with values in [0, 1]. Colour images (RGB, or RGBA whose alpha is dropped, not
 * composited) give 3 channels; gray ones (one colour component) give 1; all must have the same channel count unless
 * {@code grayscale} converts every image to 1 gray channel. Images in sub-folders are labelled:
 * sub-folders named 0..9 give that digit; otherwise each sub-folder is a class numbered 0..K-1 in name order (see
 * {@link #classNames}). Images directly in the folder are unlabelled. All must have one size unless
 * {@code imageSize} asks for a resize.
 */
public final class ImageFolder {
  private ImageFolder() {}

  /**
   * The folder's images, image after image in path order, HWC.
   *
   * @param imageSize resize every image to this size squared as it is read; 0 keeps the stored size
   * @param grayscale convert colour images to gray (Java2D's conversion, which RGBA composites over black)
   */
  public static Images read(Path dir, int imageSize, boolean grayscale) {
    List<Path> files = imageFiles(dir);
    if (files.isEmpty()) {
      throw new UserError(dir + " holds no PNG or JPEG images.");
    }
    List<String> classes = classNames(dir, files);
    List<float[]> pixels = new ArrayList<>();
    int[] labels = new int[files.size()];
    int height = -1;
    int width = -1;
    int channels = -1;
    Path first = null;
    for (int i = 0; i < files.size(); i++) {
      Path f = files.get(i);
      BufferedImage img;
      try {
        img = ImageIO.read(f.toFile());
      } catch (IOException e) {
        img = null;
      }
      if (img == null) {
        throw new UserError(f + " is not a readable PNG or JPEG image.");
      }
      // gray images, and everything under --grayscale, take the one-channel path of before colour
      boolean gray = grayscale || ImageResize.isGray(img);
      if (gray) {
        img = imageSize > 0 ? ImageResize.gray(img, imageSize, imageSize) : img;
      } else {
        img = ImageResize.opaque(img);
        img = imageSize > 0 ? ImageResize.rgb(img, imageSize, imageSize) : img;
      }
      int c = gray ? 1 : 3;
      if (height < 0) {
        height = img.getHeight();
        width = img.getWidth();
        channels = c;
        first = f;
      } else if (img.getHeight() != height || img.getWidth() != width) {
        throw new UserError(f + " is " + img.getWidth() + "x" + img.getHeight() + " but " + first + " is " + width
            + "x" + height + "; give --image-size N to resize them all to N x N.");
      } else if (c != channels) {
        throw new UserError(f + " has " + (c == 3 ? "3 channels (colour)" : "1 channel (gray)") + " but " + first
            + " has " + (channels == 3 ? "3 (colour)" : "1 (gray)") + "; give --grayscale to train on them all in "
            + "gray.");
      }
      pixels.add(gray ? ImageResize.grayValues(img) : ImageResize.rgbValues(img));
      labels[i] = labelOf(dir, f, classes);
    }
    int n = height * width * channels;
    float[] all = new float[pixels.size() * n];
    for (int i = 0; i < pixels.size(); i++) {
      System.arraycopy(pixels.get(i), 0, all, i * n, n);
    }
    return new Images(all, labels, height, width, channels);
  }

  /**
   * The class names of {@code dir}'s sub-folders, label 0 first: the names of the sub-folders holding images in
   * sorted order, or an empty list when there are none or all are named 0..9 (then the label is the digit).
   */
  public static List<String> classNames(Path dir) {
    return classNames(dir, imageFiles(dir));
  }

  private static List<Path> imageFiles(Path dir) {
    List<Path> files = new ArrayList<>();
    try (Stream<Path> walk = Files.walk(dir, 2)) {
      walk.filter(Files::isRegularFile).filter(ImageFolder::isImage).sorted().forEach(files::add);
    } catch (IOException e) {
      throw new UserError("Cannot read the image folder " + dir + ": " + e.getMessage() + ".");
    }
    return files;
  }

  private static List<String> classNames(Path root, List<Path> files) {
    TreeSet<String> names = new TreeSet<>();
    for (Path f : files) {
      Path parent = f.getParent();
      if (parent != null && !parent.equals(root)) {
        names.add(parent.getFileName().toString());
      }
    }
    return names.stream().allMatch(ImageFolder::isDigit) ? List.of() : List.copyOf(names);
  }

  private static boolean isImage(Path f) {
    String n = f.getFileName().toString().toLowerCase(Locale.ROOT);
    return n.endsWith(".png") || n.endsWith(".jpg") || n.endsWith(".jpeg");
  }

  private static boolean isDigit(String name) {
    return name.matches("[0-9]");
  }

  private static int labelOf(Path root, Path file, List<String> classes) {
    Path parent = file.getParent();
    if (parent == null || parent.equals(root)) {
      return -1;
    }
    String name = parent.getFileName().toString();
    return classes.isEmpty() ? Integer.parseInt(name) : classes.indexOf(name);
  }
}
