package dev.tfdiffusion.data;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;

/**
 * Grayscale conversion and area-averaging resize with Java2D. Java2D's RGB to 8-bit gray is
 * {@code (77 R + 150 G + 29 B + 128) / 256} (integer division) on 8-bit values, which {@link #grayOf} repeats for
 * data that does not come as a {@link BufferedImage}.
 */
final class ImageResize {
  private ImageResize() {}

  /** {@code img} as an 8-bit gray image of {@code width x height}; a gray image keeps its stored values. */
  static BufferedImage gray(BufferedImage img, int width, int height) {
    // Java2D takes gray images for linear light and would brighten them on the way (50 -> 122), so feed it their
    // stored values as sRGB, which come back unchanged: (77 + 150 + 29) v / 256 = v
    return draw(isGray(img) ? grayAsRgb(img) : img, new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY));
  }

  /** A gray image's stored values (scaled to 8 bits; alpha dropped) as equal red, green and blue. */
  private static BufferedImage grayAsRgb(BufferedImage img) {
    int max = (1 << img.getColorModel().getComponentSize(0)) - 1;
    BufferedImage out = new BufferedImage(img.getWidth(), img.getHeight(), BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < img.getHeight(); y++) {
      for (int x = 0; x < img.getWidth(); x++) {
        int v = Math.round(img.getRaster().getSample(x, y, 0) * 255f / max);
        out.setRGB(x, y, v * 0x010101);
      }
    }
    return out;
  }

  /** {@code img} (opaque, see {@link #opaque}) as an RGB image of {@code width x height}, resized as {@link #gray}. */
  static BufferedImage rgb(BufferedImage img, int width, int height) {
    return draw(img, new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB));
  }

  private static BufferedImage draw(BufferedImage img, BufferedImage out) {
    Graphics2D g = out.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
    g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
    g.drawImage(img.getScaledInstance(out.getWidth(), out.getHeight(), java.awt.Image.SCALE_AREA_AVERAGING), 0, 0,
        null);
    g.dispose();
    return out;
  }

  /** Whether {@code img} has a single colour component (gray, with or without alpha). */
  static boolean isGray(BufferedImage img) {
    return img.getColorModel().getNumColorComponents() == 1;
  }

  /**
   * {@code img}'s stored colours as an opaque RGB image: alpha is dropped, not composited over a background, so a
   * transparent pixel keeps the colour its file holds.
   */
  static BufferedImage opaque(BufferedImage img) {
    if (img.getType() == BufferedImage.TYPE_INT_RGB) {
      return img;
    }
    int w = img.getWidth();
    BufferedImage out = new BufferedImage(w, img.getHeight(), BufferedImage.TYPE_INT_RGB);
    int[] row = new int[w];
    for (int y = 0; y < img.getHeight(); y++) {
      img.getRGB(0, y, w, 1, row, 0, w); // non-premultiplied ARGB; TYPE_INT_RGB ignores the alpha byte
      out.setRGB(0, y, w, 1, row, 0, w);
    }
    return out;
  }

  /** Luminance in [0, 1], row-major. */
  static float[] grayValues(BufferedImage img) {
    BufferedImage gray = img.getType() == BufferedImage.TYPE_BYTE_GRAY ? img
        : gray(img, img.getWidth(), img.getHeight());
    float[] v = new float[gray.getWidth() * gray.getHeight()];
    for (int y = 0; y < gray.getHeight(); y++) {
      for (int x = 0; x < gray.getWidth(); x++) {
        v[y * gray.getWidth() + x] = (gray.getRaster().getSample(x, y, 0)) / 255f;
      }
    }
    return v;
  }

  /** Red, green and blue in [0, 1], row-major with the channels interleaved (HWC); alpha is ignored. */
  static float[] rgbValues(BufferedImage img) {
    int w = img.getWidth();
    float[] v = new float[w * img.getHeight() * 3];
    int[] row = new int[w];
    for (int y = 0; y < img.getHeight(); y++) {
      img.getRGB(0, y, w, 1, row, 0, w);
      for (int x = 0; x < w; x++) {
        int k = (y * w + x) * 3;
        v[k] = ((row[x] >> 16) & 0xff) / 255f;
        v[k + 1] = ((row[x] >> 8) & 0xff) / 255f;
        v[k + 2] = (row[x] & 0xff) / 255f;
      }
    }
    return v;
  }

  /** Java2D's 8-bit gray of an 8-bit RGB colour (see the class comment). */
  static int grayOf(int r, int g, int b) {
    return (77 * r + 150 * g + 29 * b + 128) >> 8;
  }

  /** Resizes a set of images to {@code size x size}, each channel as {@link #gray} or {@link #rgb} would. */
  static Images resize(Images images, int size) {
    if (images.height() == size && images.width() == size) {
      return images;
    }
    if (images.channels() != 1 && images.channels() != 3) {
      throw new IllegalArgumentException("can resize 1 or 3 channels, not " + images.channels());
    }
    boolean colour = images.channels() == 3;
    int n = size * size * images.channels();
    float[] out = new float[images.count() * n];
    for (int i = 0; i < images.count(); i++) {
      float[] px = images.image(i);
      float[] resized;
      if (colour) {
        BufferedImage img = new BufferedImage(images.width(), images.height(), BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < images.height(); y++) {
          for (int x = 0; x < images.width(); x++) {
            int k = (y * images.width() + x) * 3;
            img.setRGB(x, y, (to8Bit(px[k]) << 16) | (to8Bit(px[k + 1]) << 8) | to8Bit(px[k + 2]));
          }
        }
        resized = rgbValues(rgb(img, size, size));
      } else {
        BufferedImage img = new BufferedImage(images.width(), images.height(), BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < images.height(); y++) {
          for (int x = 0; x < images.width(); x++) {
            img.getRaster().setSample(x, y, 0, to8Bit(px[y * images.width() + x]));
          }
        }
        resized = grayValues(gray(img, size, size));
      }
      System.arraycopy(resized, 0, out, i * n, n);
    }
    return new Images(out, images.labels(), size, size, images.channels());
  }

  private static int to8Bit(float v) {
    return Math.round(Math.max(0, Math.min(1, v)) * 255);
  }
}
