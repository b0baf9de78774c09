package dev.tfdiffusion.train;

import dev.tfdiffusion.model.VariableStore.Param;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;

/**
 * The exponential moving average of the weights, updated in the training graph after each optimizer step:
 *
 * <pre>
 *   d_k = min(decay, (1 + k) / (10 + k));   ema = d_k ema + (1 - d_k) p       (k = the step just taken)
 * </pre>
 *
 * The warm-up (TensorFlow's {@code ExponentialMovingAverage} with {@code num_updates}) keeps the early average from
 * remembering the random initialisation. Export uses the averages: they sample better than the last step's weights.
 */
final class WeightAverage {
  private final double decay;
  private final List<Variable<TFloat32>> averages = new ArrayList<>();

  /** The averages start at the weights' initial values (create them before the gradients; see AdamW). */
  WeightAverage(Ops tf, List<Param<TFloat32>> params, double decay) {
    this.decay = decay;
    Ops scope = tf.withSubScope("ema");
    for (Param<TFloat32> p : params) {
      averages.add(scope.withName(p.name().replace('/', '.')).variable(p.initial()));
    }
  }

  List<Variable<TFloat32>> averages() {
    return averages;
  }

  /** d_k for step k (float64, as the graph computes it). */
  static double decayAt(double decay, long step) {
    return Math.min(decay, (1.0 + step) / (10.0 + step));
  }

  /** Updates run after {@code updates} (the optimizer's); returns the ops that finish the step. */
  List<Op> apply(Ops tf, List<Param<TFloat32>> params, List<Op> updates, Operand<TFloat64> step) {
    Ops s = tf.withSubScope("ema_update");
    Operand<TFloat64> d = s.math.minimum(s.constant(decay),
        s.math.div(s.math.add(s.constant(1.0), step), s.math.add(s.constant(10.0), step)));
    Operand<TFloat32> rate = s.dtypes.cast(s.math.sub(s.constant(1.0), d), TFloat32.class);
    Ops after = s.withControlDependencies(updates);
    List<Op> done = new ArrayList<>();
    for (int i = 0; i < params.size(); i++) {
      Variable<TFloat32> average = averages.get(i);
      // ema -= (1 - d) (ema - p), in place
      Operand<TFloat32> gap = after.math.sub(average, params.get(i).variable());
      done.add(after.train.applyGradientDescent(average, rate, gap));
    }
    return done;
  }
}
