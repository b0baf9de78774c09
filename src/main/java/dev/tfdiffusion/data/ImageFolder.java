package dev.tfdiffusion.data;

import dev.tfdiffusion.UserError;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

/**
 * A folder of PNG/JPEG images, converted to grayscale [0, 1]. Images in sub-folders named 0..9 get that label; others
 * are unlabelled. All must have one size unless {@code imageSize} asks for a resize.
 */
public final class ImageFolder {
  private ImageFolder() {}

  public static Images read(Path dir, int imageSize) {
    List<Path> files = new ArrayList<>();
    try (Stream<Path> walk = Files.walk(dir, 2)) {
      walk.filter(Files::isRegularFile).filter(ImageFolder::isImage).sorted().forEach(files::add);
    } catch (IOException e) {
      throw new UserError("Cannot read the image folder " + dir + ": " + e.getMessage() + ".");
    }
    if (files.isEmpty()) {
      throw new UserError(dir + " holds no PNG or JPEG images.");
    }
    List<float[]> pixels = new ArrayList<>();
    int[] labels = new int[files.size()];
    int height = -1;
    int width = -1;
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
      if (imageSize > 0) {
        img = ImageResize.gray(img, imageSize, imageSize);
      }
      if (height < 0) {
        height = img.getHeight();
        width = img.getWidth();
        first = f;
      } else if (img.getHeight() != height || img.getWidth() != width) {
        throw new UserError(f + " is " + img.getWidth() + "x" + img.getHeight() + " but " + first + " is " + width
            + "x" + height + "; give --image-size N to resize them all to N x N.");
      }
      pixels.add(ImageResize.grayValues(img));
      labels[i] = labelOf(dir, f);
    }
    float[] all = new float[pixels.size() * height * width];
    for (int i = 0; i < pixels.size(); i++) {
      System.arraycopy(pixels.get(i), 0, all, i * height * width, height * width);
    }
    return new Images(all, labels, height, width);
  }

  private static boolean isImage(Path f) {
    String n = f.getFileName().toString().toLowerCase(Locale.ROOT);
    return n.endsWith(".png") || n.endsWith(".jpg") || n.endsWith(".jpeg");
  }

  private static int labelOf(Path root, Path file) {
    Path parent = file.getParent();
    if (parent == null || parent.equals(root)) {
      return -1;
    }
    String name = parent.getFileName().toString();
    return name.matches("[0-9]") ? Integer.parseInt(name) : -1;
  }
}
