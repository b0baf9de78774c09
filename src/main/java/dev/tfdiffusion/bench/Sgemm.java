package dev.tfdiffusion.bench;

import dev.tfdiffusion.util.Compute;
import dev.tfdiffusion.util.SessionOptions;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;
import org.tensorflow.op.random.RandomStandardNormal;
import org.tensorflow.types.TFloat32;

/**
 * The machine's own yardstick: a float32 n x n matrix product through TensorFlow itself, with the thread settings the
 * training step uses, best of a few runs. Dividing our useful FLOP rate by it says how much of this CPU we use,
 * whatever the CPU.
 */
public final class Sgemm {
  private Sgemm() {}

  /** GFLOP/s (2 n^3 per product) of the best of {@code repeats} timed runs, after one warm-up run. */
  public static double gflops(int n, int repeats, boolean xla) {
    return gflops(n, repeats, Compute.of(xla));
  }

  /** As {@link #gflops(int, int, boolean)}, computed as {@code compute} says (a 16-bit precision included). */
  public static double gflops(int n, int repeats, Compute compute) {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Operand<TFloat32> a = tf.variable(tf.withInitScope().random.randomStandardNormal(
          tf.withInitScope().constant(new long[] {n, n}), TFloat32.class, RandomStandardNormal.seed(1L)));
      Operand<TFloat32> b = tf.variable(tf.withInitScope().random.randomStandardNormal(
          tf.withInitScope().constant(new long[] {n, n}), TFloat32.class, RandomStandardNormal.seed(2L)));
      // reduce to a scalar so that fetching the result costs nothing next to the product
      Operand<TFloat32> product = tf.reduceSum(tf.linalg.matMul(a, b), tf.constant(new int[] {0, 1}));
      try (Session s = new Session(g, SessionOptions.create(compute, 0))) {
        s.initialize();
        s.runner().fetch(product).run().close();
        double best = Double.MAX_VALUE;
        for (int i = 0; i < repeats; i++) {
          long t = System.nanoTime();
          s.runner().fetch(product).run().close();
          best = Math.min(best, (System.nanoTime() - t) / 1e9);
        }
        return 2.0 * n * n * (double) n / best / 1e9;
      }
    }
  }
}
