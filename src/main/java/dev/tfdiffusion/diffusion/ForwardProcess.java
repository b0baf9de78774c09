package dev.tfdiffusion.diffusion;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TFloating;

/**
 * The forward (noising) process q(x_t | x_0) in the graph: the schedule's float64 host arrays become constants of the
 * graph's float type, gathered per example by timestep.
 */
public final class ForwardProcess<T extends TFloating> {
  private final Ops tf;
  private final Operand<T> sqrtAlphaCumulative;
  private final Operand<T> sqrtOneMinusAlphaCumulative;

  public ForwardProcess(Ops tf, Class<T> type, NoiseSchedule schedule) {
    Ops s = tf.withSubScope("schedule");
    this.tf = tf;
    this.sqrtAlphaCumulative = s.dtypes.cast(s.constant(schedule.sqrtAlphaCumulative()), type);
    this.sqrtOneMinusAlphaCumulative = s.dtypes.cast(s.constant(schedule.sqrtOneMinusAlphaCumulative()), type);
  }

  /** sqrt(alpha_bar[t]) as [B, 1, 1, 1], ready to scale NHWC images. */
  public Operand<T> sqrtAlphaCumulative(Operand<TInt32> t) {
    return perExample(sqrtAlphaCumulative, t);
  }

  /** sqrt(1 - alpha_bar[t]) as [B, 1, 1, 1]. */
  public Operand<T> sqrtOneMinusAlphaCumulative(Operand<TInt32> t) {
    return perExample(sqrtOneMinusAlphaCumulative, t);
  }

  /** x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) noise. */
  public Operand<T> noisy(Operand<T> x0, Operand<TInt32> t, Operand<T> noise) {
    return tf.math.add(tf.math.mul(sqrtAlphaCumulative(t), x0), tf.math.mul(sqrtOneMinusAlphaCumulative(t), noise));
  }

  private Operand<T> perExample(Operand<T> table, Operand<TInt32> t) {
    return tf.reshape(tf.gather(table, t, tf.constant(0)), tf.constant(new long[] {-1, 1, 1, 1}));
  }
}
