package dev.tfdiffusion.model;

import java.util.Arrays;
import java.util.List;
import java.util.function.BiConsumer;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Max;
import org.tensorflow.op.math.Mean;
import org.tensorflow.op.train.BatchMatMul;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TFloating;

/**
 * The U-Net's building blocks, written so that TensorFlow's C++ gradient registry can differentiate them TWICE (the
 * loss's gradient penalty is a gradient of a gradient). TF 2.18 has no second-order gradient for Rsqrt, Tanh,
 * MaxPool, ResizeNearestNeighbor or OnesLike, so each block here uses only ops whose gradients are themselves
 * differentiable (README, "Second-order gradients").
 *
 * <p>Tensors are NHWC with a dynamic batch dimension; spatial sizes and channels are static.
 *
 * <p>One class of about 350 lines on purpose: every block shares the weight source, the name scope, the shape trace
 * and the multiply-add count, and each block is a short method that reads like its Flax counterpart.
 */
public final class Layers<T extends TFloating> {
  /** Flax's LayerNorm epsilon. */
  public static final double LAYER_NORM_EPS = 1e-6;
  /** Cap of the exponent in {@link #gelu}. */
  private static final double GELU_EXP_CAP = 20.0;

  private final Ops tf;
  private final Class<T> type;
  private final WeightSource<T> weights;
  private final String prefix;
  private final BiConsumer<String, Shape> trace;
  private final long[] multiplyAdds;

  public Layers(Ops tf, Class<T> type, WeightSource<T> weights) {
    this(tf, type, weights, "", (block, shape) -> {}, new long[1]);
  }

  private Layers(Ops tf, Class<T> type, WeightSource<T> weights, String prefix, BiConsumer<String, Shape> trace,
                 long[] multiplyAdds) {
    this.tf = tf;
    this.type = type;
    this.weights = weights;
    this.prefix = prefix;
    this.trace = trace;
    this.multiplyAdds = multiplyAdds;
  }

  /** Blocks built through the returned object name their ops and weights under {@code name/}. */
  public Layers<T> in(String name) {
    return new Layers<>(tf.withSubScope(name), type, weights, prefix + name + "/", trace, multiplyAdds);
  }

  /** Reports each top-level block's output shape to {@code trace} (for {@code summary}). */
  public Layers<T> tracing(BiConsumer<String, Shape> trace) {
    return new Layers<>(tf, type, weights, prefix, trace, multiplyAdds);
  }

  /**
   * Multiply-adds per example of the convolutions, dense layers and attention products built so far through this
   * object and its sub-blocks, counting only products with real input values: a 3x3 SAME convolution on an n x m map
   * has (3n - 2)(3m - 2) in-bounds (output, tap) pairs, not 9nm.
   */
  public long multiplyAdds() {
    return multiplyAdds[0];
  }

  private void count(long macs) {
    multiplyAdds[0] += macs;
  }

  public Ops tf() {
    return tf;
  }

  public Class<T> type() {
    return type;
  }

  /** Reports a top-level block's output to the trace (for {@code summary}) and returns it. */
  private Operand<T> block(String name, Operand<T> y) {
    if (prefix.isEmpty()) {
      trace.accept(name, y.shape());
    }
    return y;
  }

  public Operand<T> constant(double v) {
    return tf.constant(type, v);
  }

  private Operand<T> weight(String name, long[] shape, Init init) {
    return weights.weight(prefix + name, Shape.of(shape), init);
  }

  private static long channels(Operand<?> x) {
    Shape s = x.shape();
    return s.get(s.numDimensions() - 1);
  }

  // ---- linear layers -------------------------------------------------------------------------------------------

  /**
   * {@code nnx.Conv}: k x k, stride 1, SAME padding, with bias. BiasAdd is safe here although BiasAddGrad has no
   * gradient: the penalty differentiates only the input path of a BiasAdd, which is the identity.
   * On 1x1 and 2x2 maps a 3x3 SAME convolution mostly multiplies padding, so those cases are computed exactly as
   * matrix products over the in-bounds taps only (same variables, same results; see {@link #smallMapConv}); a 1x1
   * convolution is a matrix product too ({@link #pointwiseConv}).
   */
  public Operand<T> conv(String name, Operand<T> x, long outChannels, int k) {
    long in = channels(x);
    Layers<T> l = in(name);
    Operand<T> kernel = l.weight("kernel", new long[] {k, k, in, outChannels}, Init.LECUN_NORMAL);
    Operand<T> bias = l.weight("bias", new long[] {outChannels}, Init.ZEROS);
    long h = x.shape().get(1);
    long w = x.shape().get(2);
    long pairs = k == 1 ? h * w : (k * h - (k - 1)) * (k * w - (k - 1));
    count(pairs * in * outChannels);
    Operand<T> y;
    if (k == 1) {
      y = l.pointwiseConv(x, kernel);
    } else if (k == 3 && h <= 2 && w <= 2) {
      int mapH = (int) h;
      int mapW = (int) w;
      // a function of the kernel alone: a sampler loop builds it once, not at every step (WeightSource#derived)
      Operand<T> taps = weights.derived(l.tf, l.prefix + "kernel", kernel, (o, kk) -> tapMatrix(o, kk, mapH, mapW));
      y = l.overPixels(x, taps, mapH, mapW);
    } else {
      y = l.tf.nn.conv2d(x, kernel, List.of(1L, 1L, 1L, 1L), "SAME");
    }
    return block(name, l.tf.nn.biasAdd(y, bias));
  }

  /**
   * A 1x1 convolution as x_flat [B*h*w, cin] times the kernel [cin, cout]. TF's {@code Conv2DBackpropInput}, which
   * the gradients of {@code Conv2D} use, is far slower for 1x1 kernels on wide small maps than the equal matrix
   * product (README, Performance, has the measurement).
   */
  Operand<T> pointwiseConv(Operand<T> x, Operand<T> kernel) {
    long[] ks = kernel.shape().asArray();
    long[] xs = x.shape().asArray();
    Operand<T> flat = tf.reshape(x, tf.constant(new long[] {-1, ks[2]}));
    Operand<T> y = tf.linalg.matMul(flat, tf.reshape(kernel, tf.constant(new long[] {ks[2], ks[3]})));
    return tf.reshape(y, tf.constant(new long[] {-1, xs[1], xs[2], ks[3]}));
  }

  /**
   * A 3x3 SAME convolution on an h x w map with h, w <= 2, as one matrix product: output pixel o sees input pixel p
   * through tap (p - o + 1), so y[b, o, :] = sum_p x[b, p, :] K[tap(p, o)] is x_flat [B, hw*cin] times a block
   * matrix [hw*cin, hw*cout] built from the kernel's in-bounds taps ({@link #tapMatrix}). At 1x1 that is the centre
   * tap alone (1/9 of the plain convolution's work); at 2x2, 16 of its 36 tap products.
   */
  Operand<T> smallMapConv(Operand<T> x, Operand<T> kernel, int h, int w) {
    return overPixels(x, tapMatrix(tf, kernel, h, w), h, w);
  }

  /** x [B, h, w, cin] times a [h*w*cin, h*w*cout] matrix, as [B, h, w, cout]. */
  private Operand<T> overPixels(Operand<T> x, Operand<T> matrix, int h, int w) {
    long pixels = (long) h * w;
    long in = channels(x);
    long out = matrix.shape().get(1) / pixels;
    Operand<T> flat = tf.reshape(x, tf.constant(new long[] {-1, pixels * in}));
    return tf.reshape(tf.linalg.matMul(flat, matrix), tf.constant(new long[] {-1, h, w, out}));
  }

  /**
   * The block matrix [h*w*cin, h*w*cout] of {@link #smallMapConv}: block (p, o) is the 3x3 kernel's tap linking
   * input pixel p to output pixel o. The taps are picked by a product with a constant 0/1 matrix, not a gather: a
   * gather's gradient is an {@code UnsortedSegmentSum}, several times slower.
   */
  static <T extends TFloating> Operand<T> tapMatrix(Ops tf, Operand<T> kernel, int h, int w) {
    long[] ks = kernel.shape().asArray();
    long in = ks[2];
    long out = ks[3];
    int pixels = h * w;
    // select[p * pixels + o][tap] = 1 for the tap linking input pixel p to output pixel o
    double[][] select = new double[pixels * pixels][9];
    for (int p = 0; p < pixels; p++) {
      for (int o = 0; o < pixels; o++) {
        int dy = p / w - o / w + 1;
        int dx = p % w - o % w + 1;
        select[p * pixels + o][dy * 3 + dx] = 1;
      }
    }
    Operand<T> flatKernel = tf.reshape(kernel, tf.constant(new long[] {9, in * out}));
    Operand<T> picked = tf.linalg.matMul(tf.dtypes.cast(tf.constant(select), kernel.type()), flatKernel);
    if (pixels == 1) {
      return tf.reshape(picked, tf.constant(new long[] {in, out}));
    }
    Operand<T> perPair = tf.reshape(picked, tf.constant(new long[] {pixels, pixels, in, out}));
    // [p, o, in, out] -> [p, in, o, out] -> [p*in, o*out]
    return tf.reshape(tf.linalg.transpose(perPair, tf.constant(new int[] {0, 2, 1, 3})),
        tf.constant(new long[] {pixels * in, pixels * out}));
  }

  /** {@code nnx.Linear} over the last axis of a tensor of any rank. */
  public Operand<T> dense(String name, Operand<T> x, long outFeatures) {
    long in = channels(x);
    Layers<T> l = in(name);
    Operand<T> kernel = l.weight("kernel", new long[] {in, outFeatures}, Init.LECUN_NORMAL);
    Operand<T> bias = l.weight("bias", new long[] {outFeatures}, Init.ZEROS);
    long[] shape = x.shape().asArray();
    long positions = 1;
    for (int i = 1; i < shape.length - 1; i++) {
      positions *= shape[i];
    }
    count(positions * in * outFeatures);
    Operand<T> flat = shape.length == 2 ? x : l.tf.reshape(x, l.tf.constant(new long[] {-1, in}));
    Operand<T> y = l.tf.nn.biasAdd(l.tf.linalg.matMul(flat, kernel), bias);
    if (shape.length == 2) {
      return block(name, y);
    }
    long[] outShape = Arrays.copyOf(shape, shape.length);
    outShape[0] = -1;
    outShape[shape.length - 1] = outFeatures;
    return block(name, l.tf.reshape(y, l.tf.constant(outShape)));
  }

  // ---- normalisation and activation ---------------------------------------------------------------------------

  /**
   * {@code nnx.LayerNorm} over the channel axis: (x - mean) * (var + eps)^-1/2 * scale + bias, with pow instead of
   * rsqrt, whose gradient TF cannot differentiate again.
   */
  public Operand<T> layerNorm(String name, Operand<T> x) {
    long c = channels(x);
    Layers<T> l = in(name);
    Operand<T> scale = l.weight("scale", new long[] {c}, Init.ONES);
    Operand<T> bias = l.weight("bias", new long[] {c}, Init.ZEROS);
    Ops t = l.tf;
    long[] shape = x.shape().asArray();
    long[] statShape = Arrays.copyOf(shape, shape.length);
    statShape[0] = -1;
    statShape[shape.length - 1] = 1;
    // channel means as a product with a constant 1/C column: its gradients are plain MatMuls, where Mean's are a
    // dozen shape ops (Range, DynamicStitch, Tile, ...) in each of the three derivative orders the loss builds
    Operand<T> average = t.fill(t.constant(new long[] {c, 1}), constant(1.0 / c));
    Operand<TInt64> rows = t.constant(new long[] {-1, c});
    Operand<TInt64> stats = t.constant(statShape);
    Operand<T> mean = t.reshape(t.linalg.matMul(t.reshape(x, rows), average), stats);
    Operand<T> centred = t.math.sub(x, mean);
    Operand<T> variance = t.reshape(t.linalg.matMul(t.reshape(t.math.square(centred), rows), average), stats);
    Operand<T> inverseStd = t.math.pow(t.math.add(variance, constant(LAYER_NORM_EPS)), constant(-0.5));
    return block(name, t.math.add(t.math.mul(t.math.mul(centred, inverseStd), scale), bias));
  }

  /**
   * Flax's default {@code nnx.gelu}, the tanh approximation 0.5 x (1 + tanh(z)) with z = sqrt(2/pi) (x + 0.044715 x^3),
   * written as x / (1 + exp(-2z)) (the same function: 0.5 (1 + tanh z) = sigmoid(2z)). TanhGrad has no gradient in
   * TF's C++ registry, and this form also needs the fewest ops in all three derivative orders the loss builds. -2z is
   * capped at 20 so that powers of exp(-2z) in the higher derivatives stay finite in float32; below the cap
   * (x < -5.4) the output, |x| * 2e-9, differs from the exact one by less than float32 rounding of x.
   */
  public Operand<T> gelu(Operand<T> x) {
    Operand<T> cube = tf.math.mul(tf.math.square(x), x);
    Operand<T> minusTwoZ = tf.math.mul(constant(-2 * Math.sqrt(2.0 / Math.PI)),
        tf.math.add(x, tf.math.mul(constant(0.044715), cube)));
    Operand<T> e = tf.math.exp(tf.math.minimum(minusTwoZ, constant(GELU_EXP_CAP)));
    return tf.math.div(x, tf.math.add(constant(1.0), e));
  }

  // ---- the tutorial's blocks ------------------------------------------------------------------------------------

  /** {@code _create_residual_block}: conv-norm-gelu twice, plus a 1x1-conv shortcut. */
  public Operand<T> residualBlock(String name, Operand<T> x, long outChannels) {
    Layers<T> l = in(name);
    Operand<T> identity = l.conv("shortcut", x, outChannels, 1);
    Operand<T> h = l.gelu(l.layerNorm("norm1", l.conv("conv1", x, outChannels, 3)));
    h = l.gelu(l.layerNorm("norm2", l.conv("conv2", h, outChannels, 3)));
    return block(name, l.tf.math.add(h, identity));
  }

  /** {@code _create_attention_block}: single-head self-attention over all positions, with a residual connection. */
  public Operand<T> attention(String name, Operand<T> x) {
    long[] s = x.shape().asArray();
    long c = s[3];
    Layers<T> l = in(name);
    Ops t = l.tf;
    Operand<TInt32> tokens = t.constant(new int[] {-1, (int) (s[1] * s[2]), (int) c});
    Operand<T> q = t.reshape(l.dense("query", x, c), tokens);
    Operand<T> k = t.reshape(l.dense("key", x, c), tokens);
    Operand<T> v = t.reshape(l.dense("value", x, c), tokens);
    count(2 * s[1] * s[2] * s[1] * s[2] * c); // q k^T and attention-weighted values
    Operand<T> scores = t.math.div(t.train.batchMatMul(q, k, type, BatchMatMul.adjY(true)),
        constant(Math.sqrt(c)));
    Operand<T> out = t.train.batchMatMul(t.nn.softmax(scores), v, type);
    return block(name, t.math.add(x, t.reshape(out, t.constant(new long[] {-1, s[1], s[2], c}))));
  }

  // ---- time --------------------------------------------------------------------------------------------------------

  /**
   * {@code _pos_encoding}: concat(sin(t f), cos(t f)) with f_i = exp(-i ln(10000) / (dim/2 - 1)), the frequencies
   * computed on the host in float64.
   */
  public Operand<T> positionalEncoding(Operand<TInt32> t, int dim) {
    int half = dim / 2;
    double scale = Math.log(10000.0) / (half - 1);
    double[][] freqs = new double[1][half];
    for (int i = 0; i < half; i++) {
      freqs[0][i] = Math.exp(-scale * i);
    }
    Operand<T> f = tf.dtypes.cast(tf.constant(freqs), type);
    Operand<T> tf32 = tf.reshape(tf.dtypes.cast(t, type), tf.constant(new long[] {-1, 1}));
    Operand<T> angles = tf.math.mul(tf32, f);
    return tf.concat(List.of(tf.math.sin(angles), tf.math.cos(angles)), tf.constant(1));
  }

  /**
   * {@code nnx.Embed}: row {@code labels[i]} of a learned [rows, dim] table, as one_hot(labels) · table, a matrix
   * product whose gradients (to any order) TensorFlow has, where a gather's would be sparse.
   */
  public Operand<T> embedding(String name, Operand<TInt32> labels, long rows, long dim) {
    Layers<T> l = in(name);
    Operand<T> table = l.weight("embedding", new long[] {rows, dim}, Init.EMBEDDING);
    Operand<T> oneHot = tf.oneHot(labels, tf.constant((int) rows), constant(1.0), constant(0.0));
    count(rows * dim);
    return block(name, tf.linalg.matMul(oneHot, table));
  }

  // ---- resampling -------------------------------------------------------------------------------------------------

  /**
   * {@code nnx.max_pool} with a 2x2 window, stride 2 and SAME padding, from reshape + reduce-max (MaxPoolGrad has no
   * gradient). Odd sizes are padded at the end with a large negative value, as SAME padding does; a 1x1 map passes
   * through.
   */
  public Operand<T> maxPool2x2(Operand<T> x) {
    long[] s = x.shape().asArray();
    long h = s[1];
    long w = s[2];
    long c = s[3];
    if (h == 1 && w == 1) {
      return x;
    }
    Operand<T> padded = x;
    if (h % 2 != 0 || w % 2 != 0) {
      Operand<TInt32> pads = tf.constant(new int[][] {{0, 0}, {0, (int) (h % 2)}, {0, (int) (w % 2)}, {0, 0}});
      padded = tf.pad(x, pads, constant(-1e30));
      h += h % 2;
      w += w % 2;
    }
    Operand<T> windows = tf.reshape(padded, tf.constant(new long[] {-1, h / 2, 2, w / 2, 2, c}));
    return tf.max(windows, tf.constant(new int[] {2, 4}), Max.keepDims(false));
  }

  /**
   * Nearest-neighbour resize to {@code height x width} ({@code jax.image.resize(..., 'nearest')}). Doubling is a
   * reshape and a broadcasting multiply (ResizeNearestNeighborGrad has no gradient); other ratios gather rows and
   * columns at floor((i + 0.5) * in / out).
   */
  public Operand<T> upsample(Operand<T> x, long height, long width) {
    long[] s = x.shape().asArray();
    long h = s[1];
    long w = s[2];
    long c = s[3];
    if (h == height && w == width) {
      return x;
    }
    if (height == 2 * h && width == 2 * w) {
      Operand<T> cells = tf.reshape(x, tf.constant(new long[] {-1, h, 1, w, 1, c}));
      Operand<T> spread = tf.math.mul(cells, tf.fill(tf.constant(new long[] {1, 1, 2, 1, 2, 1}), constant(1.0)));
      return tf.reshape(spread, tf.constant(new long[] {-1, height, width, c}));
    }
    Operand<T> rows = tf.gather(x, tf.constant(nearestIndices(h, height)), tf.constant(1));
    return tf.gather(rows, tf.constant(nearestIndices(w, width)), tf.constant(2));
  }

  static int[] nearestIndices(long in, long out) {
    int[] idx = new int[(int) out];
    for (int i = 0; i < out; i++) {
      idx[i] = (int) Math.min(in - 1, (long) Math.floor((i + 0.5) * in / out));
    }
    return idx;
  }
}
