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

  /** sqrt(sum of all squared entries), from L2Loss (sum(g^2) / 2, one fused pass per tensor). */
  static Operand<TFloat32> globalNorm(Ops tf, List<Operand<TFloat32>> grads) {
    List<Operand<TFloat32>> halfSums = new ArrayList<>();
    for (Operand<TFloat32> g : grads) {
      halfSums.add(tf.nn.l2Loss(g));
    }
    return tf.math.sqrt(tf.math.mul(tf.constant(2f), tf.math.addN(halfSums)));
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
}
