package dev.tfdiffusion.plot;

import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * Grids of small gray or RGB images as PNG: values in [0, 1] map to black..white, or to 0..255 per colour channel
 * (clipped, not rescaled per image, so brightness is comparable across cells), each pixel enlarged with bicubic
 * smoothing like the tutorial's {@code interpolation='gaussian'} figures.
 */
public final class ImageGrid {
  private static final int GAP = 4;

  private ImageGrid() {}

  /**
   * Writes a grid of gray images.
   *
   * @param images row-major {@code height x width} images
   * @param labels an optional caption per cell (null for none)
   */
  public static void write(Path png, List<float[]> images, int height, int width, int columns, int cellPixels,
                           List<String> labels) throws IOException {
    write(png, images, height, width, 1, columns, cellPixels, labels);
  }

  /**
   * Writes a grid of gray ({@code channels} 1) or RGB ({@code channels} 3) images.
   *
   * @param images row-major {@code height x width x channels} images (HWC)
   * @param labels an optional caption per cell (null for none)
   */
  public static void write(Path png, List<float[]> images, int height, int width, int channels, int columns,
                           int cellPixels, List<String> labels) throws IOException {
    checkChannels(channels);
    int rows = (images.size() + columns - 1) / columns;
    int caption = labels == null ? 0 : 14;
    int cellW = cellPixels;
    int cellH = Math.max(1, cellPixels * height / width);
    BufferedImage out = new BufferedImage(columns * (cellW + GAP) + GAP, rows * (cellH + GAP + caption) + GAP,
        BufferedImage.TYPE_INT_RGB);
    Graphics2D g = out.createGraphics();
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, out.getWidth(), out.getHeight());
    g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BICUBIC);
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
    for (int i = 0; i < images.size(); i++) {
      int x = GAP + (i % columns) * (cellW + GAP);
      int y = GAP + (i / columns) * (cellH + GAP + caption);
      if (labels != null) {
        g.setColor(Color.DARK_GRAY);
        g.drawString(labels.get(i), x, y + 11);
      }
      g.drawImage(toImage(images.get(i), height, width, channels), x, y + caption, cellW, cellH, null);
    }
    g.dispose();
    Path tmp = png.resolveSibling(png.getFileName() + ".tmp");
    if (!ImageIO.write(out, "png", tmp.toFile())) {
      throw new IOException("no PNG writer available");
    }
    Files.move(tmp, png, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  /** One row-major gray image as an RGB image (the 1-channel form of the next). */
  static BufferedImage toImage(float[] pixels, int height, int width) {
    return toImage(pixels, height, width, 1);
  }

  /** One HWC image with 1 (gray) or 3 (RGB) channels, values clipped to [0, 1], as an RGB image. */
  static BufferedImage toImage(float[] pixels, int height, int width, int channels) {
    checkChannels(channels);
    BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    for (int r = 0; r < height; r++) {
      for (int c = 0; c < width; c++) {
        int k = (r * width + c) * channels;
        int red = to8Bit(pixels[k]);
        int rgb = channels == 1 ? (red << 16) | (red << 8) | red
            : (red << 16) | (to8Bit(pixels[k + 1]) << 8) | to8Bit(pixels[k + 2]);
        img.setRGB(c, r, rgb);
      }
    }
    return img;
  }

  private static int to8Bit(float value) {
    return Math.round(Math.max(0f, Math.min(1f, value)) * 255f);
  }

  static void checkChannels(int channels) {
    if (channels != 1 && channels != 3) {
      throw new IllegalArgumentException("images have 1 or 3 channels, not " + channels);
    }
  }
}
