package dev.tfdiffusion.model;

/** How a weight starts, as Flax initialises it. */
public enum Init {
  /** Flax's default kernel init: truncated normal (at 2 sigma) with variance 1/fan_in. */
  LECUN_NORMAL,
  /**
   * Flax's {@code nnx.Embed} default: a (not truncated) normal with variance 1/features, each row an embedding of
   * {@code features} values.
   */
  EMBEDDING,
  /** Biases and LayerNorm offsets. */
  ZEROS,
  /** LayerNorm scales. */
  ONES;

  /** Flax's variance_scaling rescales the truncated normal's std to undo the truncation: this constant. */
  public static final double TRUNCATED_NORMAL_STD = 0.87962566103423978;

  /** fan_in as Flax computes it: product of all but the last dimension. */
  public static long fanIn(long[] shape) {
    long fan = 1;
    for (int i = 0; i < shape.length - 1; i++) {
      fan *= shape[i];
    }
    return fan;
  }
}
