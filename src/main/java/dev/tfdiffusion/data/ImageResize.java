package dev.tfdiffusion.data;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;

/** Grayscale conversion and area-averaging resize with Java2D. */
final class ImageResize {
  private ImageResize() {}

  /** {@code img} as an 8-bit gray image of {@code width x height}; a gray image keeps its stored values. */
  static BufferedImage gray(BufferedImage img, int width, int height) {
    // Java2D takes gray images for linear light and would brighten them on the way (50 -> 122), so feed it their
    // stored values as sRGB, which come back unchanged: (77 + 150 + 29) v / 256 = v
    if (img.getColorModel().getNumColorComponents() == 1) {
      img = grayAsRgb(img);
    }
    BufferedImage out = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
    Graphics2D g = out.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
    g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
    g.drawImage(img.getScaledInstance(width, height, java.awt.Image.SCALE_AREA_AVERAGING), 0, 0, null);
    g.dispose();
    return out;
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

  /** Resizes a set of images to {@code size x size}. */
  static Images resize(Images images, int size) {
    if (images.height() == size && images.width() == size) {
      return images;
    }
    float[] out = new float[images.count() * size * size];
    for (int i = 0; i < images.count(); i++) {
      BufferedImage img = new BufferedImage(images.width(), images.height(), BufferedImage.TYPE_BYTE_GRAY);
      float[] px = images.image(i);
      for (int y = 0; y < images.height(); y++) {
        for (int x = 0; x < images.width(); x++) {
          img.getRaster().setSample(x, y, 0, Math.round(Math.max(0, Math.min(1, px[y * images.width() + x])) * 255));
        }
      }
      System.arraycopy(grayValues(gray(img, size, size)), 0, out, i * size * size, size * size);
    }
    return new Images(out, images.labels(), size, size);
  }
}
