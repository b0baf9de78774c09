package dev.tfdiffusion.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;

/** The graph blocks against the tutorial's formulas evaluated in plain Java (float64). */
class LayersTest {
  private Graph graph;
  private Ops tf;
  private Layers<TFloat64> layers;

  @BeforeEach
  void setUp() {
    graph = new Graph();
    tf = Ops.create(graph);
    // weights at their Flax initial values where the test needs them (LayerNorm: scale 1, bias 0)
    layers = new Layers<>(tf, TFloat64.class, new VariableStore<>(tf, TFloat64.class, 1));
  }

  @AfterEach
  void tearDown() {
    graph.close();
  }

  private double[] eval(Operand<TFloat64> y) {
    try (Session s = new Session(graph)) {
      s.initialize();
      try (Result r = s.runner().fetch(y).run()) {
        TFloat64 t = (TFloat64) r.get(0);
        double[] out = new double[(int) t.size()];
        t.copyTo(DataBuffers.of(out, false, false));
        return out;
      }
    }
  }

  private Operand<TFloat64> constant(double[] v, long... shape) {
    return tf.constant(Shape.of(shape), DataBuffers.of(v, true, false));
  }

  @Test
  void geluIsFlaxTanhApproximation() {
    double[] x = new double[201];
    for (int i = 0; i < x.length; i++) {
      x[i] = -5 + i * 0.05 + 0.001;
    }
    double[] y = eval(layers.gelu(constant(x, x.length)));
    for (int i = 0; i < x.length; i++) {
      double v = x[i];
      double expected = 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
      assertEquals(expected, y[i], 1e-14, "gelu(" + v + ")");
    }
  }

  @Test
  void layerNormNormalisesEachPixelOverChannels() {
    Random rng = new Random(3);
    double[] x = new double[2 * 3 * 5];
    for (int i = 0; i < x.length; i++) {
      x[i] = 3 * rng.nextGaussian() + 1;
    }
    double[] y = eval(layers.layerNorm("ln", constant(x, 2, 3, 1, 5)));
    for (int p = 0; p < 6; p++) {
      double mean = 0;
      double var = 0;
      for (int c = 0; c < 5; c++) {
        mean += x[p * 5 + c] / 5;
      }
      for (int c = 0; c < 5; c++) {
        var += (x[p * 5 + c] - mean) * (x[p * 5 + c] - mean) / 5;
      }
      for (int c = 0; c < 5; c++) {
        assertEquals((x[p * 5 + c] - mean) / Math.sqrt(var + 1e-6), y[p * 5 + c], 1e-12);
      }
    }
  }

  @Test
  void maxPoolTakesEach2x2WindowsMaximumWithSamePadding() {
    double[] x = new double[5 * 5];
    Random rng = new Random(4);
    for (int i = 0; i < x.length; i++) {
      x[i] = rng.nextGaussian();
    }
    double[] y = eval(layers.maxPool2x2(constant(x, 1, 5, 5, 1)));
    assertEquals(9, y.length);
    for (int r = 0; r < 3; r++) {
      for (int c = 0; c < 3; c++) {
        double m = Double.NEGATIVE_INFINITY;
        for (int dr = 0; dr < 2; dr++) {
          for (int dc = 0; dc < 2; dc++) {
            if (2 * r + dr < 5 && 2 * c + dc < 5) {
              m = Math.max(m, x[(2 * r + dr) * 5 + 2 * c + dc]);
            }
          }
        }
        assertEquals(m, y[r * 3 + c], 0.0);
      }
    }
    double[] one = eval(layers.maxPool2x2(constant(new double[] {7, -2}, 1, 1, 1, 2)));
    assertEquals(7, one[0]);
    assertEquals(-2, one[1]);
  }

  @Test
  void upsampleRepeatsEachPixel() {
    double[] x = {1, 2, 3, 4};
    double[] y = eval(layers.upsample(constant(x, 1, 2, 2, 1), 4, 4));
    double[] expected = {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4};
    for (int i = 0; i < 16; i++) {
      assertEquals(expected[i], y[i]);
    }
    // jax.image.resize(method='nearest') from 2 to 3: source index floor((i + 0.5) * 2 / 3) = 0, 1, 1
    double[] z = eval(layers.upsample(constant(x, 1, 2, 2, 1), 3, 3));
    double[] expected3 = {1, 2, 2, 3, 4, 4, 3, 4, 4};
    for (int i = 0; i < 9; i++) {
      assertEquals(expected3[i], z[i]);
    }
  }

  @Test
  void positionalEncodingIsTheTutorials() {
    int dim = 128;
    double[] y = eval(layers.positionalEncoding(tf.constant(new int[] {0, 7, 999}), dim));
    int half = dim / 2;
    double scale = Math.log(10000.0) / (half - 1);
    int[] t = {0, 7, 999};
    for (int b = 0; b < 3; b++) {
      for (int i = 0; i < half; i++) {
        double angle = t[b] * Math.exp(-scale * i);
        assertEquals(Math.sin(angle), y[b * dim + i], 1e-12);
        assertEquals(Math.cos(angle), y[b * dim + half + i], 1e-12);
      }
    }
  }

  @Test
  void attentionAddsSoftmaxWeightedValues() {
    // with query/key/value weights fed as identity, attention(x) = x + softmax(x x^T / sqrt(C)) x
    double[] x = {0.5, -1, 2, 0.25, 1, 1, -0.5, 0.75};
    Layers<TFloat64> identity = new Layers<>(tf, TFloat64.class, (name, shape, init) ->
        name.endsWith("kernel") ? tf.constant(new double[][] {{1, 0}, {0, 1}}) : tf.constant(new double[] {0, 0}));
    double[] y = eval(identity.attention("a", constant(x, 1, 2, 2, 2)));
    for (int i = 0; i < 4; i++) {
      double[] w = new double[4];
      double sum = 0;
      for (int j = 0; j < 4; j++) {
        w[j] = Math.exp((x[2 * i] * x[2 * j] + x[2 * i + 1] * x[2 * j + 1]) / Math.sqrt(2));
        sum += w[j];
      }
      for (int c = 0; c < 2; c++) {
        double out = 0;
        for (int j = 0; j < 4; j++) {
          out += w[j] / sum * x[2 * j + c];
        }
        assertEquals(x[2 * i + c] + out, y[2 * i + c], 1e-12);
      }
    }
  }
}
