package dev.tfdiffusion.data;

import java.util.Arrays;

/**
 * A set of images on the training scale [0, 1], each row-major with its channels interleaved (HWC, as the graph's
 * NHWC tensors), with their labels (-1 where unknown).
 *
 * @param pixels {@code count * height * width * channels} values, image after image
 * @param channels 1 (grayscale) or 3 (RGB)
 */
public record Images(float[] pixels, int[] labels, int height, int width, int channels) {

  public Images {
    if (channels < 1 || pixels.length != (long) labels.length * height * width * channels) {
      throw new IllegalArgumentException("pixel count does not match labels, size and channels");
    }
  }

  /** Grayscale images. */
  public Images(float[] pixels, int[] labels, int height, int width) {
    this(pixels, labels, height, width, 1);
  }

  /** What a graph needs to know of a set of images: their count, size and channels. */
  public record Shape(int count, int height, int width, int channels) {}

  public Shape shape() {
    return new Shape(count(), height, width, channels);
  }

  public int count() {
    return labels.length;
  }

  /** Values per image: height * width * channels. */
  public int pixelsPerImage() {
    return height * width * channels;
  }

  public float[] image(int i) {
    int n = pixelsPerImage();
    return Arrays.copyOfRange(pixels, i * n, (i + 1) * n);
  }

  /** The images at {@code indices}, in that order. */
  public Images select(int[] indices) {
    int n = pixelsPerImage();
    float[] out = new float[indices.length * n];
    int[] outLabels = new int[indices.length];
    for (int k = 0; k < indices.length; k++) {
      System.arraycopy(pixels, indices[k] * n, out, k * n, n);
      outLabels[k] = labels[indices[k]];
    }
    return new Images(out, outLabels, height, width, channels);
  }

  /** The images whose label is {@code label}, in file order. */
  public Images withLabel(int label) {
    return select(Arrays.stream(indicesOf(label)).toArray());
  }

  private int[] indicesOf(int label) {
    return java.util.stream.IntStream.range(0, count()).filter(i -> labels[i] == label).toArray();
  }

  /**
   * Splits like scikit-learn's {@code train_test_split(images, test_size=testFraction, random_state=seed)}: the test
   * set has {@code ceil(testFraction * count)} images, both parts in the order of numpy's seeded permutation.
   */
  public Split split(double testFraction, long seed) {
    int n = count();
    int nTest = (int) Math.ceil(testFraction * n);
    int[] permutation = new Mt19937(seed).permutation(n);
    int[] test = Arrays.copyOfRange(permutation, 0, nTest);
    int[] train = Arrays.copyOfRange(permutation, nTest, n);
    return new Split(select(train), select(test));
  }

  /** Training and held-out parts of a data set. */
  public record Split(Images train, Images test) {}
}
