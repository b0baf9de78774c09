package dev.tfdiffusion.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Gradients;
import org.tensorflow.types.TFloat64;

/**
 * The matrix-product rewrites of 3x3 SAME convolutions on 1x1 and 2x2 maps and of 1x1 convolutions are exact: same
 * outputs, same gradients with respect to input and kernel, and the same second-order gradient (kernel gradient of
 * an input-gradient penalty, as the loss takes it) as TensorFlow's Conv2D.
 */
class SmallMapConvTest {

  private static Operand<TFloat64> random(Ops tf, Random rng, long... shape) {
    double[] v = new double[(int) Shape.of(shape).size()];
    for (int i = 0; i < v.length; i++) {
      v[i] = rng.nextGaussian();
    }
    return tf.constant(Shape.of(shape), DataBuffers.of(v, true, false));
  }

  private static double[] values(Result r, int i) {
    TFloat64 t = (TFloat64) r.get(i);
    double[] out = new double[(int) t.size()];
    t.copyTo(DataBuffers.of(out, false, false));
    return out;
  }

  @ParameterizedTest
  @CsvSource({"3,1,1", "3,2,2", "3,1,2", "3,2,1", "1,1,1", "1,2,2", "1,4,4", "1,3,5"})
  void matchesConv2dToRoundingIncludingSecondOrder(int size, int h, int w) {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Random rng = new Random(5);
      Operand<TFloat64> x = random(tf, rng, 3, h, w, 5);
      Operand<TFloat64> kernel = random(tf, rng, size, size, 5, 4);
      Operand<TFloat64> probe = random(tf, rng, 3, h, w, 4);
      Layers<TFloat64> l = new Layers<>(tf, TFloat64.class, (name, shape, init) -> {
        throw new AssertionError();
      });
      Operand<TFloat64> fast = size == 1 ? l.pointwiseConv(x, kernel) : l.smallMapConv(x, kernel, h, w);
      Operand<TFloat64> plain = tf.nn.conv2d(x, kernel, List.of(1L, 1L, 1L, 1L), "SAME");

      Operand<?>[] fetches = new Operand<?>[8];
      int k = 0;
      for (Operand<TFloat64> y : List.of(fast, plain)) {
        Operand<TFloat64> objective = tf.sum(tf.math.mul(y, probe), tf.constant(new int[] {0, 1, 2, 3}));
        Gradients first = tf.gradients(objective, List.of(x, kernel), Gradients.dx(List.of(tf.constant(1.0))));
        Operand<TFloat64> dx = first.dy(0);
        Operand<TFloat64> penalty = tf.sum(tf.math.square(dx), tf.constant(new int[] {0, 1, 2, 3}));
        Gradients second = tf.gradients(penalty, List.of(kernel), Gradients.dx(List.of(tf.constant(1.0))));
        fetches[k++] = y;
        fetches[k++] = dx;
        fetches[k++] = first.dy(1);
        fetches[k++] = second.dy(0);
      }
      try (Session s = new Session(g)) {
        Session.Runner runner = s.runner();
        for (Operand<?> f : fetches) {
          runner.fetch(f);
        }
        try (Result r = runner.run()) {
          String[] what = {"output", "input gradient", "kernel gradient", "second-order kernel gradient"};
          for (int i = 0; i < 4; i++) {
            double[] a = values(r, i);
            double[] b = values(r, i + 4);
            assertEquals(b.length, a.length);
            for (int j = 0; j < a.length; j++) {
              assertEquals(b[j], a[j], 1e-12 * Math.max(1, Math.abs(b[j])), what[i] + " [" + j + "] of " + size + "x" + size + " at " + h + "x" + w);
            }
          }
        }
      }
    }
  }
}
