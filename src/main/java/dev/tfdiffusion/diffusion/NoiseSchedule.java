package dev.tfdiffusion.diffusion;

/**
 * A variance schedule beta_t with its derived quantities, computed on the host in float64 (the graph gathers from
 * constants made from these arrays, as the original TF DDPM does).
 */
public final class NoiseSchedule {
  private final double[] beta;
  private final double[] alphaCumulative;

  private NoiseSchedule(double[] beta) {
    this.beta = beta;
    this.alphaCumulative = new double[beta.length];
    double product = 1.0;
    for (int t = 0; t < beta.length; t++) {
      product *= 1.0 - beta[t];
      alphaCumulative[t] = product;
    }
  }

  /**
   * The tutorial's training schedule, {@code DiffusionModel._cosine_beta_schedule}: clipped cosine betas over
   * {@code steps} steps with the first beta repeated, so it has {@code steps + 1} entries.
   */
  public static NoiseSchedule clippedCosine(int steps, double betaStart, double betaEnd) {
    double[] alphaBar = new double[steps + 1];
    for (int i = 0; i <= steps; i++) {
      double x = (double) i / steps; // numpy: linspace(0, steps, steps + 1) / steps
      double c = Math.cos(((x + 0.008) / 1.008) * Math.PI * 0.5);
      alphaBar[i] = c * c;
    }
    double first = alphaBar[0];
    for (int i = 0; i <= steps; i++) {
      alphaBar[i] /= first;
    }
    double[] beta = new double[steps + 1];
    for (int i = 1; i <= steps; i++) {
      beta[i] = clip(1.0 - alphaBar[i] / alphaBar[i - 1], betaStart, betaEnd);
    }
    beta[0] = beta[1];
    return new NoiseSchedule(beta);
  }

  /** The linear schedule the tutorial's sampler hard-codes: {@code jnp.linspace(betaStart, betaEnd, steps)}. */
  public static NoiseSchedule linear(int steps, double betaStart, double betaEnd) {
    double[] beta = new double[steps];
    double delta = (betaEnd - betaStart) / (steps - 1);
    for (int i = 0; i < steps; i++) {
      beta[i] = i * delta + betaStart;
    }
    beta[steps - 1] = betaEnd; // numpy pins the endpoint exactly
    return new NoiseSchedule(beta);
  }

  private static double clip(double v, double lo, double hi) {
    return Math.max(lo, Math.min(hi, v));
  }

  public int length() {
    return beta.length;
  }

  public double beta(int t) {
    return beta[t];
  }

  public double alphaCumulative(int t) {
    return alphaCumulative[t];
  }

  public double[] betas() {
    return beta.clone();
  }

  public double[] sqrtAlphaCumulative() {
    double[] out = new double[beta.length];
    for (int t = 0; t < out.length; t++) {
      out[t] = Math.sqrt(alphaCumulative[t]);
    }
    return out;
  }

  public double[] sqrtOneMinusAlphaCumulative() {
    double[] out = new double[beta.length];
    for (int t = 0; t < out.length; t++) {
      out[t] = Math.sqrt(1.0 - alphaCumulative[t]);
    }
    return out;
  }
}
