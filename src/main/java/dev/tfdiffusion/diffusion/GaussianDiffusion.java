package dev.tfdiffusion.diffusion;

import dev.tfdiffusion.config.TrainConfig;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TFloating;

/**
 * The Gaussian diffusion process of one beta schedule: its coefficient tables, computed once on the host in float64
 * (the graph gathers from constants made from them, as the original TF DDPM does), and its equations as graph ops,
 * one method each. Notation of Ho et al. 2020: alpha_t = 1 - beta_t, abar_t = prod_{s <= t} alpha_s.
 */
public final class GaussianDiffusion {
  private final BetaSchedule schedule;
  private final int steps;
  private final double[] betas;
  private final double[] alphas;
  private final double[] alphasCumulative;
  private final double[] sqrtAlphasCumulative;
  private final double[] sqrtOneMinusAlphasCumulative;
  private final double[] lossWeights;

  public GaussianDiffusion(BetaSchedule schedule, int steps, double betaStart, double betaEnd) {
    this.schedule = schedule;
    this.steps = steps;
    this.betas = schedule.betas(steps, betaStart, betaEnd);
    int n = betas.length;
    alphas = new double[n];
    alphasCumulative = new double[n];
    sqrtAlphasCumulative = new double[n];
    sqrtOneMinusAlphasCumulative = new double[n];
    lossWeights = new double[n];
    double product = 1.0;
    for (int t = 0; t < n; t++) {
      alphas[t] = 1.0 - betas[t];
      product *= 1.0 - betas[t];
      alphasCumulative[t] = product;
      sqrtAlphasCumulative[t] = Math.sqrt(product);
      sqrtOneMinusAlphasCumulative[t] = Math.sqrt(1.0 - product);
      double snr = sqrtAlphasCumulative[t] / sqrtOneMinusAlphasCumulative[t];
      lossWeights[t] = snr / (1.0 + snr);
    }
  }

  /** The process a run trains with and its samplers use: the config's steps and beta range over {@code schedule}. */
  public static GaussianDiffusion of(TrainConfig config, BetaSchedule schedule) {
    return new GaussianDiffusion(schedule, config.diffusionSteps(), config.betaStart(), config.betaEnd());
  }

  public BetaSchedule schedule() {
    return schedule;
  }

  /** T: the samplers start at t = T - 1. */
  public int steps() {
    return steps;
  }

  /** Entries in the tables (T, or T + 1 for the clipped cosine schedule, whose first beta is repeated). */
  public int length() {
    return betas.length;
  }

  public double beta(int t) {
    return betas[t];
  }

  public double alpha(int t) {
    return alphas[t];
  }

  public double alphaCumulative(int t) {
    return alphasCumulative[t];
  }

  public double sqrtAlphaCumulative(int t) {
    return sqrtAlphasCumulative[t];
  }

  public double sqrtOneMinusAlphaCumulative(int t) {
    return sqrtOneMinusAlphasCumulative[t];
  }

  /** The tutorial's loss weight at t in float64 (the graph computes it in the loss's float type, see below). */
  public double lossWeight(int t) {
    return lossWeights[t];
  }

  /**
   * q(x_t | x_0) sampled (Ho et al. 2020, eq. 4 reparameterised): x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) noise,
   * with t one timestep per example of the NHWC batch.
   */
  public <T extends TFloating> Operand<T> qSample(Ops tf, Operand<T> x0, Operand<TInt32> t, Operand<T> noise) {
    return tf.math.add(tf.math.mul(perExample(tf, sqrtAlphasCumulative, t, x0.type()), x0),
        tf.math.mul(perExample(tf, sqrtOneMinusAlphasCumulative, t, x0.type()), noise));
  }

  /**
   * The tutorial's loss weights, [B, 1, 1, 1]: snr / (1 + snr) with snr = sqrt(abar_t) / sqrt(1 - abar_t) (the square
   * root of the usual SNR). Computed in the graph from the {@code type} tables, as the tutorial computes it in its
   * float type, rather than gathered from {@link #lossWeight}'s float64 table.
   */
  public <T extends TFloating> Operand<T> lossWeight(Ops tf, Operand<TInt32> t, Class<T> type) {
    Operand<T> snr = tf.math.div(perExample(tf, sqrtAlphasCumulative, t, type),
        perExample(tf, sqrtOneMinusAlphasCumulative, t, type));
    return tf.math.div(snr, tf.math.add(tf.constant(type, 1.0), snr));
  }

  /**
   * One ancestral step (Ho et al. 2020, Algorithm 2, line 4; the tutorial's {@code reverse_diffusion_batch}):
   *
   * <pre>
   *   x_{t-1} = 1 / sqrt(alpha_t) (x_t - beta_t / sqrt(1 - abar_t) eps) + sigma_t z,   sigma_t = sqrt(beta_t),
   * </pre>
   *
   * with no noise added at t = 0. Each coefficient is rounded to float32 once, from its float64 value.
   */
  public Operand<TFloat32> ddpmStep(Ops f, Operand<TFloat32> x, Operand<TInt32> t, Operand<TFloat32> eps,
                                    Operand<TFloat32> z) {
    int n = betas.length;
    float[] noiseCoefficient = new float[n];
    float[] inverseSqrtAlpha = new float[n];
    float[] sigma = new float[n];
    for (int s = 0; s < n; s++) {
      noiseCoefficient[s] = (float) (betas[s] / sqrtOneMinusAlphasCumulative[s]);
      inverseSqrtAlpha[s] = (float) (1 / Math.sqrt(alphas[s]));
      sigma[s] = (float) Math.sqrt(betas[s]);
    }
    Operand<TInt32> axis = f.constant(0);
    Operand<TFloat32> mean = f.math.mul(f.gather(f.constant(inverseSqrtAlpha), t, axis),
        f.math.sub(x, f.math.mul(f.gather(f.constant(noiseCoefficient), t, axis), eps)));
    Operand<TFloat32> noiseScale = f.select(f.math.greater(t, f.constant(0)), f.gather(f.constant(sigma), t, axis),
        f.constant(0f));
    return f.math.add(mean, f.math.mul(noiseScale, z));
  }

  /**
   * One DDIM step (Song et al. 2021, eq. 12, with sigma from eq. 16 scaled by eta), from t to s = tPrev (abar_s = 1
   * after the last step, tPrev = -1), in float32 from the float32 abar table:
   *
   * <pre>
   *   x0_hat = (x_t - sqrt(1 - abar_t) eps) / sqrt(abar_t)
   *   sigma  = eta sqrt((1 - abar_s) / (1 - abar_t)) sqrt(1 - abar_t / abar_s)
   *   x_s    = sqrt(abar_s) x0_hat + sqrt(1 - abar_s - sigma^2) eps + sigma z
   * </pre>
   *
   * eta = 0 is deterministic; eta = 1 over all T steps is the DDPM posterior.
   */
  public Operand<TFloat32> ddimStep(Ops f, Operand<TFloat32> x, Operand<TInt32> t, Operand<TInt32> tPrev,
                                    Operand<TFloat32> eps, Operand<TFloat32> z, Operand<TFloat32> eta) {
    float[] alphaBar = new float[alphasCumulative.length];
    for (int s = 0; s < alphaBar.length; s++) {
      alphaBar[s] = (float) alphasCumulative[s];
    }
    Operand<TInt32> axis = f.constant(0);
    Operand<TFloat32> table = f.constant(alphaBar);
    Operand<TFloat32> abarT = f.gather(table, t, axis);
    Operand<TFloat32> abarS = f.select(f.math.greaterEqual(tPrev, f.constant(0)),
        f.gather(table, f.math.maximum(tPrev, f.constant(0)), axis), f.constant(1f));
    Operand<TFloat32> one = f.constant(1f);
    Operand<TFloat32> x0 = f.math.div(f.math.sub(x, f.math.mul(f.math.sqrt(f.math.sub(one, abarT)), eps)),
        f.math.sqrt(abarT));
    Operand<TFloat32> sigma = f.math.mul(eta, f.math.mul(
        f.math.sqrt(f.math.div(f.math.sub(one, abarS), f.math.sub(one, abarT))),
        f.math.sqrt(f.math.sub(one, f.math.div(abarT, abarS)))));
    Operand<TFloat32> direction = f.math.sqrt(f.math.maximum(
        f.math.sub(f.math.sub(one, abarS), f.math.square(sigma)), f.constant(0f)));
    return f.math.add(f.math.add(f.math.mul(f.math.sqrt(abarS), x0), f.math.mul(direction, eps)),
        f.math.mul(sigma, z));
  }

  /** {@link #ddpmStep} as a sampler loop's step. */
  public ReverseStep ddpm() {
    return new ReverseStep() {
      @Override
      public List<Operand<?>> inputs() {
        return List.of();
      }

      @Override
      public Operand<TFloat32> apply(Ops f, List<Operand<?>> inputs, Operand<TFloat32> x, Operand<TInt32> t,
                                     Operand<TInt32> tPrev, Operand<TFloat32> eps, Operand<TFloat32> z) {
        return ddpmStep(f, x, t, eps, z);
      }
    };
  }

  /** {@link #ddimStep} as a sampler loop's step, with the noise scale {@code eta} (a scalar of the outer graph). */
  public ReverseStep ddim(Operand<TFloat32> eta) {
    return new ReverseStep() {
      @Override
      public List<Operand<?>> inputs() {
        return List.of(eta);
      }

      @Override
      @SuppressWarnings("unchecked")
      public Operand<TFloat32> apply(Ops f, List<Operand<?>> inputs, Operand<TFloat32> x, Operand<TInt32> t,
                                     Operand<TInt32> tPrev, Operand<TFloat32> eps, Operand<TFloat32> z) {
        return ddimStep(f, x, t, tPrev, eps, z, (Operand<TFloat32>) inputs.get(0));
      }
    };
  }

  /** table[t] as [B, 1, 1, 1], ready to scale NHWC images; the float64 table becomes a {@code type} constant. */
  private static <T extends TFloating> Operand<T> perExample(Ops tf, double[] table, Operand<TInt32> t,
                                                             Class<T> type) {
    Operand<T> values = tf.dtypes.cast(tf.constant(table), type);
    return tf.reshape(tf.gather(values, t, tf.constant(0)), tf.constant(new long[] {-1, 1, 1, 1}));
  }
}
