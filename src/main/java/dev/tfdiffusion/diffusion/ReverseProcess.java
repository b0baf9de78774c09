package dev.tfdiffusion.diffusion;

import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * One ancestral (DDPM) step in the graph, as the tutorial's {@code reverse_diffusion_batch} writes it:
 *
 * <pre>
 *   x_{t-1} = (x_t - beta_t / sqrt(1 - abar_t) * eps_hat) / sqrt(alpha_t) + sigma_t z,   sigma_t = sqrt(beta_t),
 * </pre>
 *
 * with no noise added at t = 0. The schedule's coefficients are host-computed float64 tables gathered by t.
 */
public final class ReverseProcess {
  private final Operand<TFloat32> noiseCoefficient;
  private final Operand<TFloat32> inverseSqrtAlpha;
  private final Operand<TFloat32> sigma;

  /** Builds the coefficient tables in {@code tf}'s graph (call it inside the function body that uses them). */
  public ReverseProcess(Ops tf, NoiseSchedule schedule) {
    int n = schedule.length();
    float[] noiseCoef = new float[n];
    float[] invSqrtAlpha = new float[n];
    float[] sig = new float[n];
    for (int t = 0; t < n; t++) {
      double beta = schedule.beta(t);
      noiseCoef[t] = (float) (beta / Math.sqrt(1 - schedule.alphaCumulative(t)));
      invSqrtAlpha[t] = (float) (1 / Math.sqrt(1 - beta));
      sig[t] = (float) Math.sqrt(beta);
    }
    this.noiseCoefficient = tf.constant(noiseCoef);
    this.inverseSqrtAlpha = tf.constant(invSqrtAlpha);
    this.sigma = tf.constant(sig);
  }

  /** x_{t-1} from x_t, the predicted noise and fresh noise {@code z}; {@code t} is a scalar. */
  public Operand<TFloat32> step(Ops tf, Operand<TFloat32> x, Operand<TFloat32> epsHat, Operand<TInt32> t,
                                Operand<TFloat32> z) {
    Operand<TInt32> axis = tf.constant(0);
    Operand<TFloat32> mean = tf.math.mul(tf.gather(inverseSqrtAlpha, t, axis),
        tf.math.sub(x, tf.math.mul(tf.gather(noiseCoefficient, t, axis), epsHat)));
    Operand<TFloat32> noiseScale = tf.select(tf.math.greater(t, tf.constant(0)), tf.gather(sigma, t, axis),
        tf.constant(0f));
    return tf.math.add(mean, tf.math.mul(noiseScale, z));
  }
}
