package dev.tfdiffusion.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.framework.initializers.Initializer;
import org.tensorflow.framework.initializers.LeCun;
import org.tensorflow.framework.initializers.VarianceScaling;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * The drawn start weights have the tutorial's (Flax's) statistics: lecun_normal kernels a truncated normal with
 * variance 1/fan_in (fan_in = the product of all but the last dimension), embeddings a normal with variance 1/width,
 * biases 0 and norm scales 1; and where the framework's own LeCun initializer differs (conv kernels).
 */
class WeightInitTest {
  private static float[] draw(Initializer<TFloat32> init, Shape shape) {
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      Operand<TFloat32> values = init.call(tf, tf.constant(shape), TFloat32.class);
      try (Result r = s.runner().fetch(values).run()) {
        TFloat32 t = (TFloat32) r.get(0);
        float[] out = new float[(int) t.size()];
        t.copyTo(DataBuffers.of(out, false, false));
        return out;
      }
    }
  }

  private static double mean(float[] v) {
    double m = 0;
    for (float x : v) {
      m += x;
    }
    return m / v.length;
  }

  private static double std(float[] v) {
    double m = mean(v);
    double s = 0;
    for (float x : v) {
      s += (x - m) * (x - m);
    }
    return Math.sqrt(s / v.length);
  }

  private static double maxAbs(float[] v) {
    double m = 0;
    for (float x : v) {
      m = Math.max(m, Math.abs(x));
    }
    return m;
  }

  /** A truncated normal with std sqrt(1/fan_in): mean 0, that std, nothing beyond the truncation at 2 raw std. */
  private static void assertLecunNormal(float[] w, long fanIn) {
    double expected = Math.sqrt(1.0 / fanIn);
    double raw = expected / Init.TRUNCATED_NORMAL_STD;
    assertEquals(0, mean(w), 4 * expected / Math.sqrt(w.length), "mean");
    assertEquals(expected, std(w), 0.02 * expected, "std sqrt(1/" + fanIn + ")");
    assertTrue(maxAbs(w) <= 2 * raw * (1 + 1e-6), "truncated at 2 std of the untruncated normal");
    assertTrue(maxAbs(w) > 1.9 * raw, "and reaching near it");
  }

  @Test
  void lecunNormalKernelsHaveVarianceOneOverFanIn() {
    Shape dense = Shape.of(256, 512);
    assertLecunNormal(draw(WeightInit.of(Init.LECUN_NORMAL, dense, 42, "time_mlp_1/kernel"), dense), 256);
    Shape conv = Shape.of(3, 3, 64, 32);
    assertLecunNormal(draw(WeightInit.of(Init.LECUN_NORMAL, conv, 42, "down_conv2/conv1/kernel"), conv), 3 * 3 * 64);
  }

  @Test
  void embeddingsAreNormalWithVarianceOneOverWidth() {
    Shape table = Shape.of(101, 128);
    float[] w = draw(WeightInit.of(Init.EMBEDDING, table, 42, "class_embedding/embedding"), table);
    double expected = Math.sqrt(1.0 / 128);
    assertEquals(0, mean(w), 4 * expected / Math.sqrt(w.length));
    assertEquals(expected, std(w), 0.03 * expected);
    long beyondTwo = 0;
    for (float x : w) {
      beyondTwo += Math.abs(x) > 2 * expected ? 1 : 0;
    }
    // not truncated: a normal puts 4.55 % beyond two standard deviations (12,928 values: 588 expected)
    assertEquals(0.0455, (double) beyondTwo / w.length, 0.01);
  }

  @Test
  void biasesStartAtZeroAndNormScalesAtOne() {
    Shape s = Shape.of(7, 3);
    float[] zeros = draw(WeightInit.of(Init.ZEROS, s, 42, "a/bias"), s);
    float[] ones = draw(WeightInit.of(Init.ONES, s, 42, "a/scale"), s);
    float[] expectedOnes = new float[21];
    Arrays.fill(expectedOnes, 1f);
    assertArrayEquals(new float[21], zeros);
    assertArrayEquals(expectedOnes, ones);
  }

  @Test
  void aWeightsValuesDependOnTheRunSeedAndItsNameOnly() {
    Shape s = Shape.of(16, 16);
    float[] a = draw(WeightInit.of(Init.LECUN_NORMAL, s, 42, "x/kernel"), s);
    assertArrayEquals(a, draw(WeightInit.of(Init.LECUN_NORMAL, s, 42, "x/kernel"), s));
    assertFalse(Arrays.equals(a, draw(WeightInit.of(Init.LECUN_NORMAL, s, 42, "y/kernel"), s)));
    assertFalse(Arrays.equals(a, draw(WeightInit.of(Init.LECUN_NORMAL, s, 43, "x/kernel"), s)));
  }

  /**
   * Why the framework's LeCun is not ours: it agrees on a dense kernel, but on a conv kernel [k, k, in, out] it counts
   * the input channels twice (fan_in k² in²), so its std is √in times too small.
   */
  @Test
  void theFrameworksLecunAgreesOnDenseKernelsButNotOnConvKernels() {
    Shape dense = Shape.of(256, 512);
    float[] framework = draw(new LeCun<>(VarianceScaling.Distribution.TRUNCATED_NORMAL, 42), dense);
    assertLecunNormal(framework, 256);
    Shape conv = Shape.of(3, 3, 64, 32);
    double frameworkStd = std(draw(new LeCun<>(VarianceScaling.Distribution.TRUNCATED_NORMAL, 42), conv));
    assertEquals(Math.sqrt(1.0 / (3 * 3 * 64 * 64)), frameworkStd, 0.02 * Math.sqrt(1.0 / (3 * 3 * 64 * 64)));
  }
}
