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

  /** Images per sampler call: larger requests are drawn in chunks, so memory stays bounded. */
  public static final int CHUNK = 1024;

  /**
   * Images from pure noise {@code noise}; {@code steps} and {@code eta} apply to DDIM only. Chunk c of a large
   * request uses seed + c for its sampler noise.
   */
  public float[] run(SavedModelSampler model, float[] noise, long seed, int steps, float eta) {
    int pixels = model.height() * model.width();
    int n = noise.length / pixels;
    if (n <= CHUNK) {
      return runOnce(model, noise, seed, steps, eta);
    }
    float[] out = new float[noise.length];
    for (int c = 0; c * CHUNK < n; c++) {
      int from = c * CHUNK * pixels;
      int to = Math.min(n, (c + 1) * CHUNK) * pixels;
      float[] part = runOnce(model, java.util.Arrays.copyOfRange(noise, from, to), seed + c, steps, eta);
      System.arraycopy(part, 0, out, from, part.length);
    }
    return out;
  }

  private float[] runOnce(SavedModelSampler model, float[] noise, long seed, int steps, float eta) {
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
