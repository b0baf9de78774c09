package dev.tfdiffusion.model;

import dev.tfdiffusion.UserError;
import java.lang.management.ManagementFactory;
import java.util.Locale;
import java.util.function.IntToDoubleFunction;

/**
 * How much memory a U-Net needs, from closed formulas (no graph is built), so that sizes that cannot fit are refused
 * before anything is allocated or written, with the estimate, the limit and the largest value that fits.
 *
 * <p>Training keeps, in float32 tensors: the weights, their moving average, Adam's two moments and the gradient (five
 * copies of every parameter, {@link #TRAIN_STATE_COPIES}); the training images (on the Java heap and in a graph
 * variable); and the activations of a step. A step with the gradient penalty keeps the forward activations and those
 * of the input gradient for the second-order backward pass. Fitted to the peak resident memory of one-step runs
 * (features 4 at 32x32 and 64x64, features 2 at 128x128, batches 8 to 172), a training image costs about 1.6 times its
 * forward pass's convolution-side floats ({@link #convolutionFloats}) and 3.7 times its attention scores
 * ({@link #attentionFloats}); the estimate takes {@link #TRAIN_CONV_COPIES} = 2 and {@link #TRAIN_ATTENTION_COPIES}
 * = 4.5, to err on the side of refusing (a 512x512 run the fit puts at 22 GB was killed by the kernel at 20 GB).
 * TensorFlow allocates these outside the Java heap, so the limit is the machine's physical memory (the container's
 * limit where there is one), less {@link #RUNTIME_BYTES} for the JVM and TensorFlow themselves.
 */
public final class MemoryEstimate {
  /** Weights, their moving average, Adam's first and second moments, the gradient. */
  public static final int TRAIN_STATE_COPIES = 5;
  /** Convolution-side activations kept per image by a training step, in multiples of one forward pass's. */
  public static final double TRAIN_CONV_COPIES = 2;
  /** Attention-score activations kept per image by a training step, in multiples of one forward pass's. */
  public static final double TRAIN_ATTENTION_COPIES = 4.5;
  /** The JVM, TensorFlow's libraries and the graph: about 0.9 GB measured for a features-4 run. */
  public static final long RUNTIME_BYTES = 1L << 30;
  /** Tensors of one residual block, in multiples of its output: convs, shortcut, LayerNorm and GELU intermediates. */
  private static final int RESIDUAL_TENSORS = 32;

  private MemoryEstimate() {}

  /** The U-Net's parameter count (equal to {@link ModelSummary#totalParameters()}), as a double: never overflows. */
  public static double parameters(double features, double timeEmbedding) {
    double f = features;
    double t = timeEmbedding;
    double p = 2 * (t * t + t); // time_mlp_1, time_mlp_2
    p += t * 15 * f + 15 * f; // time_proj1..4 (f, 2f, 4f, 8f)
    p += residual(1, f) + residual(f, 2 * f) + residual(2 * f, 4 * f) + residual(4 * f, 8 * f);
    p += residual(8 * f, 16 * f) + residual(16 * f, 16 * f);
    p += residual(24 * f, 8 * f) + residual(12 * f, 4 * f) + residual(6 * f, 2 * f) + residual(3 * f, f);
    p += attention(4 * f) + attention(8 * f) + attention(16 * f);
    p += 2 * f + 9 * f + 1; // final_norm, final_conv
    return p;
  }

  private static double residual(double in, double out) {
    return 10 * in * out + 9 * out * out + 7 * out;
  }

  private static double attention(double c) {
    return 3 * (c * c + c);
  }

  /** Floats of the tensors one forward pass computes per image: {@link #convolutionFloats} + {@link #attentionFloats}. */
  public static double activationFloats(double features, int height, int width) {
    return convolutionFloats(features, height, width) + attentionFloats(height, width);
  }

  /** Positions per level: ceil(h / 2^l) x ceil(w / 2^l) for l = 0..4. */
  private static double[] positions(int height, int width) {
    double[] s = new double[5];
    for (int l = 0; l < 5; l++) {
      s[l] = Math.ceil(height / Math.pow(2, l)) * Math.ceil(width / Math.pow(2, l));
    }
    return s;
  }

  /**
   * Floats per image of everything but the attention scores: each residual block's intermediates, the skip
   * concatenations, the time projections, the attention's queries, keys, values and output, the final layers.
   */
  public static double convolutionFloats(double features, int height, int width) {
    double[] s = positions(height, width);
    double f = features;
    double a = 0;
    for (int l = 0; l < 4; l++) {
      double c = f * Math.pow(2, l);
      a += 2 * RESIDUAL_TENSORS * s[l] * c; // encoder and decoder block of this level
      a += s[l] * c; // time projection added
      a += 2 * s[l] * 3 * c; // upsampled input and skip, concatenated
    }
    a += 2 * RESIDUAL_TENSORS * s[4] * 16 * f; // bridge_down, bridge_up
    for (int l = 2; l < 5; l++) {
      a += 6 * s[l] * f * Math.pow(2, l); // q, k, v, output
    }
    a += 15 * s[0] * f + s[0]; // final norm, GELU, conv
    return a;
  }

  /** Floats per image of the attention scores (scaled scores, softmax): quadratic in the positions of each level. */
  public static double attentionFloats(int height, int width) {
    double[] s = positions(height, width);
    double a = 0;
    for (int l = 2; l < 5; l++) {
      a += 3 * s[l] * s[l];
    }
    return a;
  }

  /** Bytes a training step needs beside the runtime: weights and optimizer state, images, activations. */
  public static double trainingBytes(int features, int timeEmbedding, int height, int width, int batch,
                                     int images) {
    return stateBytes(features, timeEmbedding) + 8.0 * images * height * width
        + 4.0 * batch * (TRAIN_CONV_COPIES * convolutionFloats(features, height, width)
        + TRAIN_ATTENTION_COPIES * attentionFloats(height, width));
  }

  /** The weights and their optimizer state alone. */
  public static double stateBytes(int features, int timeEmbedding) {
    return 4.0 * TRAIN_STATE_COPIES * parameters(features, timeEmbedding);
  }

  /** What sampling or timing the sampler on {@code batch} images at once needs: weights and one forward pass each. */
  public static double inferenceBytes(int features, int timeEmbedding, int height, int width, int batch) {
    return 4.0 * parameters(features, timeEmbedding) + 4.0 * batch * activationFloats(features, height, width);
  }

  /** The memory TensorFlow's tensors may use: physical memory (or the container's limit) less the runtime's share. */
  public static long nativeLimit() {
    return physicalMemory() - RUNTIME_BYTES;
  }

  /** Total physical memory, as the JVM sees it (container-aware); 0 where unknown. */
  public static long physicalMemory() {
    if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
      return os.getTotalMemorySize();
    }
    return 0;
  }

  /**
   * Refuses a training run that cannot fit: names the option to lower, the estimate, this machine's memory and the
   * largest value that fits: --features (or --time-embedding) when the weights dominate, else {@code batchOption}
   * (train's --batch-size, bench's --batch), else --features.
   */
  public static void requireTrainingFits(int features, int timeEmbedding, int height, int width, int batch,
                                         String batchOption, int images, long limit) {
    double need = trainingBytes(features, timeEmbedding, height, width, batch, images);
    if (need <= limit || limit <= 0) {
      return;
    }
    double state = stateBytes(features, timeEmbedding);
    String machine = "; this machine has " + bytes(limit + RUNTIME_BYTES) + " of memory";
    int maxFeatures = largest(features, f -> trainingBytes(f, timeEmbedding, height, width, batch, images), limit);
    if (state > need / 2) {
      if (maxFeatures >= 1) {
        throw UserError.usage("--features " + features + " needs about " + bytes(state) + " for the weights and "
            + "their optimizer state" + machine + " (use at most --features " + maxFeatures + ").");
      }
      int maxTime = 2 * largest(timeEmbedding / 2,
          t -> trainingBytes(features, 2 * t, height, width, batch, images), limit);
      if (maxTime >= 4) {
        throw UserError.usage("--time-embedding " + timeEmbedding + " needs about " + bytes(state) + " for the "
            + "weights and their optimizer state" + machine + " (use at most --time-embedding " + maxTime + ").");
      }
    }
    int maxBatch = largest(batch, b -> trainingBytes(features, timeEmbedding, height, width, b, images), limit);
    String step = batchOption + " " + batch + " with " + height + "x" + width + " images at --features " + features
        + " needs about " + bytes(need - state) + " for the images and activations of a training step" + machine;
    if (maxBatch >= 1) {
      throw UserError.usage(step + " (use at most " + batchOption + " " + maxBatch + ").");
    }
    if (maxFeatures >= 1) {
      throw UserError.usage(step + " (use at most --features " + maxFeatures + ").");
    }
    throw UserError.usage(step + " (use smaller images, --image-size N).");
  }

  /** Java-heap bytes per pixel of the training images: the resized copy and the selection's copy, 4 bytes each. */
  public static final int HEAP_BYTES_PER_PIXEL = 8;

  /**
   * Refuses training images of {@code channels} that, resized to {@code height} x {@code width}, cannot be held in the
   * Java heap.
   */
  public static void requireImagesFit(int images, int height, int width, int channels, long maxHeap) {
    long values = (long) images * channels;
    double need = (double) HEAP_BYTES_PER_PIXEL * values * height * width;
    if (need <= maxHeap && values * height * width < Integer.MAX_VALUE - 8) {
      return;
    }
    int max = largest(Math.max(height, width), s -> values * s * s < Integer.MAX_VALUE - 8
        ? (double) HEAP_BYTES_PER_PIXEL * values * s * s : Double.MAX_VALUE, maxHeap);
    throw UserError.usage("--image-size " + height + " needs about " + bytes(need) + " of Java heap for the "
        + images + (channels == 3 ? " colour" : "") + " images; this JVM may use " + bytes(maxHeap)
        + " (use at most --image-size " + max + ", fewer images, or run java with a larger -Xmx).");
  }

  /**
   * Refuses running the sampler on {@code batch} images at once (bench's --sample-images) when it cannot fit.
   */
  public static void requireInferenceFits(String option, int features, int timeEmbedding, int height, int width,
                                          int batch, long limit) {
    double need = inferenceBytes(features, timeEmbedding, height, width, batch);
    if (need <= limit || limit <= 0) {
      return;
    }
    int max = largest(batch, b -> inferenceBytes(features, timeEmbedding, height, width, b), limit);
    throw UserError.usage(option + " " + batch + " needs about " + bytes(need) + " for the sampler's activations at "
        + "--features " + features + "; this machine has " + bytes(limit + RUNTIME_BYTES) + " of memory"
        + (max >= 1 ? " (use at most " + option + " " + max + ")." : "."));
  }

  /** The largest n in [1, upTo] with need(n) <= limit (need grows with n), or 0 if none. */
  static int largest(int upTo, IntToDoubleFunction need, long limit) {
    int lo = 0;
    int hi = upTo;
    while (lo < hi) {
      int mid = (int) (((long) lo + hi + 1) / 2);
      if (need.applyAsDouble(mid) <= limit) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    return lo;
  }

  /** 2.1 TB, 23 GB, 512 MB: one or two significant digits, binary units. */
  public static String bytes(double b) {
    String[] units = {"bytes", "KB", "MB", "GB", "TB", "PB", "EB"};
    int u = 0;
    while (b >= 1024 && u < units.length - 1) {
      b /= 1024;
      u++;
    }
    return (b >= 10 || u == 0 ? String.format(Locale.ROOT, "%.0f", b) : String.format(Locale.ROOT, "%.1f", b)) + " "
        + units[u];
  }
}
