package dev.tfdiffusion.train;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat64;

/**
 * The tutorial's {@code optax.join_schedules}: linear warm-up from 0 to {@code peak} over {@code warmupSteps}, then
 * {@code optax.cosine_decay_schedule} to {@code finalFraction * peak} over the remaining steps. Computed in the graph
 * from the step counter, in float64 (float32 cos loses the tail of the decay).
 */
public record LearningRateSchedule(double peak, int warmupSteps, int totalSteps, double finalFraction) {

  public Operand<TFloat64> build(Ops tf, Operand<TFloat64> step) {
    Ops s = tf.withSubScope("learning_rate");
    Operand<TFloat64> peakLr = s.constant(peak);
    Operand<TFloat64> warmup = s.constant((double) warmupSteps);
    double decaySteps = totalSteps - warmupSteps;
    // cosine branch: count = clip(step - warmup, 0, decaySteps)
    Operand<TFloat64> count = s.math.minimum(s.math.maximum(s.math.sub(step, warmup), s.constant(0.0)),
        s.constant(decaySteps));
    Operand<TFloat64> cosine = s.math.mul(s.constant(0.5),
        s.math.add(s.constant(1.0), s.math.cos(s.math.mul(s.constant(Math.PI / decaySteps), count))));
    Operand<TFloat64> decayed = s.math.mul(peakLr,
        s.math.add(s.math.mul(s.constant(1.0 - finalFraction), cosine), s.constant(finalFraction)));
    if (warmupSteps == 0) {
      return decayed;
    }
    Operand<TFloat64> warm = s.math.mul(peakLr, s.math.div(s.math.minimum(step, warmup), warmup));
    return s.select(s.math.less(step, warmup), warm, decayed);
  }
}
