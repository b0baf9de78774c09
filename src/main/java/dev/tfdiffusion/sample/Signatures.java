package dev.tfdiffusion.sample;

import java.util.List;

/**
 * The signatures of an exported model. Inputs and outputs (N images of H x W with C channels):
 *
 * <ul>
 *   <li>{@code serving_default}: x float32 [N,H,W,C], t int32 [N] -> eps float32 [N,H,W,C] (the denoiser);
 *   <li>{@code sample}: noise float32 [N,H,W,C] (x_T), seed int64 -> images (the 1000-step ancestral sampler with the
 *       trained schedule and sigma_t = sqrt(beta_t));
 *   <li>{@code sample_tutorial}: the same with the tutorial sampler's linear schedule;
 *   <li>{@code sample_ddim}: noise, seed, steps int32 (S), eta float32 -> images (DDIM over S evenly spaced
 *       timesteps; eta = 0 is deterministic);
 *   <li>{@code trajectory} / {@code trajectory_tutorial}: noise, seed, frames int32 (K) -> images, states float32
 *       [K,N,H,W,C] (the state entering each of K evenly spaced timesteps T-1 .. 0), timesteps int32 [K];
 *   <li>{@code forward_noise}: x0 float32 [N,H,W,C], t int32 [N], seed int64 -> x_t.
 * </ul>
 *
 * A conditional model's {@code serving_default} also takes {@code labels} int32 [N] (0 .. K-1, or K for no class),
 * and its sampling and trajectory signatures take {@code labels} and {@code guidance} float32 [] (classifier-free
 * guidance's w); an unconditional model's signatures are exactly the above.
 */
public final class Signatures {
  public static final String DENOISE = "serving_default";
  public static final String SAMPLE = "sample";
  public static final String SAMPLE_TUTORIAL = "sample_tutorial";
  public static final String SAMPLE_DDIM = "sample_ddim";
  public static final String TRAJECTORY = "trajectory";
  public static final String TRAJECTORY_TUTORIAL = "trajectory_tutorial";
  public static final String FORWARD_NOISE = "forward_noise";

  /** Inputs of a conditional model's signatures. */
  public static final String LABELS = "labels";
  public static final String GUIDANCE = "guidance";
  /** The guidance weight w that sampling uses unless told otherwise. */
  public static final double DEFAULT_GUIDANCE = 2.0;

  public static final List<String> ALL = List.of(DENOISE, SAMPLE, SAMPLE_TUTORIAL, SAMPLE_DDIM, TRAJECTORY,
      TRAJECTORY_TUTORIAL, FORWARD_NOISE);

  private Signatures() {}
}
