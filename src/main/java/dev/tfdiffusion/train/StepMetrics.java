package dev.tfdiffusion.train;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;

/**
 * What one training step reports, decoded once from the float64 vector the graph fetches (one fetch per step; its
 * layout is private to this record).
 *
 * @param loss the loss (main + penalty)
 * @param step the step just taken, counted from 0
 * @param finite whether the loss and the gradient norm are finite
 * @param emaLoss the loss's moving average (the tutorial's, decay 0.99) after this step
 * @param gradNorm the global norm of the raw gradient, before clipping
 */
public record StepMetrics(double loss, double main, double penalty, double learningRate, double gradNorm, long step,
                          boolean finite, double emaLoss) {

  /** The graph's metrics vector, in this record's component order. */
  static Operand<TFloat64> pack(Ops tf, DiffusionLoss.Terms<TFloat32> loss, Operand<TFloat64> learningRate,
                                Operand<TFloat32> gradNorm, Operand<TFloat64> step, Operand<TFloat64> emaLoss) {
    Operand<TFloat64> finite = tf.dtypes.cast(tf.math.logicalAnd(tf.math.isFinite(loss.total()),
        tf.math.isFinite(gradNorm)), TFloat64.class);
    return tf.withName("metrics").stack(List.of(tf.dtypes.cast(loss.total(), TFloat64.class),
        tf.dtypes.cast(loss.main(), TFloat64.class), tf.dtypes.cast(loss.penalty(), TFloat64.class), learningRate,
        tf.dtypes.cast(gradNorm, TFloat64.class), step, finite, emaLoss));
  }

  /** The same metrics as TensorBoard scalars, by tag (float32, as TensorBoard stores them). */
  static Map<String, Operand<TFloat32>> scalars(Ops tf, DiffusionLoss.Terms<TFloat32> loss,
                                                Operand<TFloat64> learningRate, Operand<TFloat32> gradNorm,
                                                Operand<TFloat64> emaLoss) {
    Map<String, Operand<TFloat32>> scalars = new LinkedHashMap<>();
    scalars.put("loss", loss.total());
    scalars.put("ema_loss", tf.dtypes.cast(emaLoss, TFloat32.class));
    scalars.put("main_loss", loss.main());
    scalars.put("penalty", loss.penalty());
    scalars.put("learning_rate", tf.dtypes.cast(learningRate, TFloat32.class));
    scalars.put("grad_norm", gradNorm);
    return scalars;
  }

  /** The record from the vector {@link #pack} built. */
  static StepMetrics unpack(double[] m) {
    return new StepMetrics(m[0], m[1], m[2], m[3], m[4], (long) m[5], m[6] != 0, m[7]);
  }
}
