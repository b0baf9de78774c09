package dev.tfdiffusion.util;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How a graph is computed, as opposed to what it computes: XLA compilation and the precision of matrix products and
 * convolutions. Neither is a hyperparameter: a checkpoint resumes under any of them.
 */
public record Compute(boolean xla, Precision precision) {
  /** Plain float32, no XLA: the reference every other setting is compared with. */
  public static final Compute DEFAULT = new Compute(false, Precision.FP32);

  /** Matrix products and convolutions in float32, or in a 16-bit type through TensorFlow's grappler rewrite. */
  public enum Precision {
    /** Everything in float32. */
    FP32,
    /** bfloat16 matrix products and convolutions on CPUs with oneDNN's bf16 support (grappler's onednn rewrite). */
    BF16,
    /** float16 matrix products and convolutions on GPUs (grappler's auto mixed precision). */
    FP16;

    /** The flag's spelling. */
    public String flag() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  public static Compute of(boolean xla) {
    return new Compute(xla, Precision.FP32);
  }

  /** Whether this CPU lists bfloat16 instructions in /proc/cpuinfo (false where that cannot be read). */
  public static boolean cpuHasBf16() {
    try {
      return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("flags")).findFirst()
          .map(l -> l.contains(" avx512_bf16") || l.contains(" amx_bf16")).orElse(false);
    } catch (IOException e) {
      return false;
    }
  }
}
