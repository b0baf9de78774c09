package dev.tfdiffusion.diffusion;

/** The variance schedules beta_t, computed on the host in float64. */
public enum BetaSchedule {
  /**
   * The tutorial's training schedule, {@code DiffusionModel._cosine_beta_schedule}: cosine betas (Nichol and
   * Dhariwal 2021, eq. 17) clipped to [betaStart, betaEnd], with the first beta repeated, so it has
   * {@code steps + 1} entries.
   */
  CLIPPED_COSINE {
    @Override
    public double[] betas(int steps, double betaStart, double betaEnd) {
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
        beta[i] = Math.max(betaStart, Math.min(betaEnd, 1.0 - alphaBar[i] / alphaBar[i - 1]));
      }
      beta[0] = beta[1];
      return beta;
    }
  },

  /** The linear schedule (Ho et al. 2020) the tutorial's sampler hard-codes: {@code jnp.linspace(start, end, steps)}. */
  LINEAR {
    @Override
    public double[] betas(int steps, double betaStart, double betaEnd) {
      double[] beta = new double[steps];
      double delta = (betaEnd - betaStart) / (steps - 1);
      for (int i = 0; i < steps; i++) {
        beta[i] = i * delta + betaStart;
      }
      beta[steps - 1] = betaEnd; // numpy pins the endpoint exactly
      return beta;
    }
  };

  public abstract double[] betas(int steps, double betaStart, double betaEnd);
}
