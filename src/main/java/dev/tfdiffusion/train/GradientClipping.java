package dev.tfdiffusion.train;

import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/** The tutorial's two clippings: element-wise to [-v, v] in {@code train_step}, then optax's global-norm clip. */
final class GradientClipping {
  private GradientClipping() {}

  static List<Operand<TFloat32>> byValue(Ops tf, List<Operand<TFloat32>> grads, double limit) {
    List<Operand<TFloat32>> out = new ArrayList<>();
    for (Operand<TFloat32> g : grads) {
      out.add(tf.clipByValue(g, tf.constant((float) -limit), tf.constant((float) limit)));
    }
    return out;
  }

  /** sqrt(sum of all squared entries). */
  static Operand<TFloat32> globalNorm(Ops tf, List<Operand<TFloat32>> grads) {
    List<Operand<TFloat32>> sums = new ArrayList<>();
    for (Operand<TFloat32> g : grads) {
      sums.add(tf.sum(tf.math.square(g), tf.constant(allAxes(g))));
    }
    return tf.math.sqrt(tf.math.addN(sums));
  }

  /** optax.clip_by_global_norm: g * maxNorm / norm when norm exceeds maxNorm, else g. */
  static List<Operand<TFloat32>> byGlobalNorm(Ops tf, List<Operand<TFloat32>> grads, Operand<TFloat32> norm,
                                              double maxNorm) {
    Operand<TFloat32> max = tf.constant((float) maxNorm);
    Operand<TFloat32> scale = tf.select(tf.math.less(norm, max), tf.constant(1f), tf.math.div(max, norm));
    List<Operand<TFloat32>> out = new ArrayList<>();
    for (Operand<TFloat32> g : grads) {
      out.add(tf.math.mul(g, scale));
    }
    return out;
  }

  private static int[] allAxes(Operand<?> x) {
    int rank = x.shape().numDimensions();
    int[] axes = new int[rank];
    for (int i = 0; i < rank; i++) {
      axes[i] = i;
    }
    return axes;
  }
}
