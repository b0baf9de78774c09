package dev.tfdiffusion.sample;

import java.util.Locale;

/**
 * The samplers a tf-diffusion SavedModel offers: a reverse step over a beta schedule, each behind its signatures.
 * (This package reads models only through their signatures, so the graph-side counterparts, {@code GaussianDiffusion}
 * and {@code BetaSchedule}, are named here in words, not imported.)
 */
public enum Sampler {
  /** 1000 ancestral steps with the schedule the model was trained with. */
  DDPM(Step.ANCESTRAL, Schedule.TRAINED, Signatures.SAMPLE, Signatures.TRAJECTORY),
  /**
   * The tutorial's sampler: DDPM over the LINEAR beta schedule, which the tutorial's sampler hard-codes although it
   * trains with the clipped cosine one.
   */
  TUTORIAL(Step.ANCESTRAL, Schedule.LINEAR, Signatures.SAMPLE_TUTORIAL, Signatures.TRAJECTORY_TUTORIAL),
  /** DDIM over a few evenly spaced timesteps of the trained schedule. */
  DDIM(Step.DDIM, Schedule.TRAINED, Signatures.SAMPLE_DDIM, null);

  /** The reverse step: DDPM's ancestral step (Ho et al. 2020) or DDIM's (Song et al. 2021). */
  public enum Step { ANCESTRAL, DDIM }

  /** The beta schedule: the one the model was trained with (clipped cosine), or the linear one. */
  public enum Schedule { TRAINED, LINEAR }

  private final Step step;
  private final Schedule schedule;
  private final String signature;
  private final String trajectorySignature;

  Sampler(Step step, Schedule schedule, String signature, String trajectorySignature) {
    this.step = step;
    this.schedule = schedule;
    this.signature = signature;
    this.trajectorySignature = trajectorySignature;
  }

  public Step step() {
    return step;
  }

  public Schedule schedule() {
    return schedule;
  }

  /** The signature that runs it. */
  public String signature() {
    return signature;
  }

  /** The signature that also records its states; null for DDIM, which has none. */
  public String trajectorySignature() {
    return trajectorySignature;
  }

  /** The sampler whose trajectory stands for this one in animations: itself, or DDPM for DDIM. */
  public Sampler withTrajectory() {
    return trajectorySignature != null ? this : DDPM;
  }

  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Images per sampler call: larger requests are drawn in chunks, so memory stays bounded. */
  public static final int CHUNK = 1024;

  /**
   * Images from pure noise {@code noise}; {@code steps} and {@code eta} apply to DDIM only; {@code condition} is a
   * conditional model's labels and guidance (null for an unconditional model). Chunk c of a large request uses
   * seed + c for its sampler noise.
   */
  public float[] run(SavedModelSampler model, float[] noise, long seed, int steps, float eta,
                     SavedModelSampler.Condition condition) {
    int pixels = model.pixelsPerImage();
    int n = noise.length / pixels;
    if (n <= CHUNK) {
      return runOnce(model, noise, seed, steps, eta, condition);
    }
    float[] out = new float[noise.length];
    for (int c = 0; c * CHUNK < n; c++) {
      int first = c * CHUNK;
      int last = Math.min(n, (c + 1) * CHUNK);
      float[] part = runOnce(model, java.util.Arrays.copyOfRange(noise, first * pixels, last * pixels), seed + c,
          steps, eta, condition == null ? null : condition.range(first, last));
      System.arraycopy(part, 0, out, first * pixels, part.length);
    }
    return out;
  }

  /** {@link #run(SavedModelSampler, float[], long, int, float, SavedModelSampler.Condition)} unconditionally. */
  public float[] run(SavedModelSampler model, float[] noise, long seed, int steps, float eta) {
    return run(model, noise, seed, steps, eta, null);
  }

  private float[] runOnce(SavedModelSampler model, float[] noise, long seed, int steps, float eta,
                          SavedModelSampler.Condition condition) {
    return switch (step) {
      case ANCESTRAL -> model.sample(this, noise, seed, condition);
      case DDIM -> model.sampleDdim(noise, seed, steps, eta, condition);
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
