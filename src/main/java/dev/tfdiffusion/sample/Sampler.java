package dev.tfdiffusion.sample;

import java.util.Locale;

/** The samplers a tf-diffusion SavedModel offers. */
public enum Sampler {
  /** 1000 ancestral steps with the schedule the model was trained with (signature {@code sample}). */
  DDPM,
  /** The tutorial's sampler: 1000 ancestral steps with a linear beta schedule ({@code sample_tutorial}). */
  TUTORIAL,
  /** DDIM over a few evenly spaced timesteps ({@code sample_ddim}). */
  DDIM;

  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * Images from pure noise {@code noise}; {@code steps} and {@code eta} apply to DDIM only.
   */
  public float[] run(SavedModelSampler model, float[] noise, long seed, int steps, float eta) {
    return switch (this) {
      case DDPM -> model.sample(noise, seed, false);
      case TUTORIAL -> model.sample(noise, seed, true);
      case DDIM -> model.sampleDdim(noise, seed, steps, eta);
    };
  }

  /** A short description for tables, e.g. "ddim (50 steps, eta 0)". */
  public String describe(int steps, float eta) {
    return switch (this) {
      case DDPM -> "ddpm (1000 steps, trained schedule)";
      case TUTORIAL -> "tutorial (1000 steps, linear schedule)";
      case DDIM -> "ddim (" + steps + " steps, eta " + eta + ")";
    };
  }
}
