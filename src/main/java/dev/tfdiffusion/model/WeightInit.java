package dev.tfdiffusion.model;

import java.nio.charset.StandardCharsets;
import org.tensorflow.Operand;
import org.tensorflow.framework.initializers.Initializer;
import org.tensorflow.framework.initializers.Ones;
import org.tensorflow.framework.initializers.Zeros;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TFloating;

/**
 * Each {@link Init} as a {@code tensorflow-framework} {@link Initializer}: the framework's own {@link Zeros} and
 * {@link Ones}, and for the random ones an initializer of ours that draws Flax's distributions from a stateless op
 * seeded by the pair (run seed, hash of the weight's name), so that a weight's start value does not depend on build
 * order. The framework's {@code LeCun} / {@code VarianceScaling} is not used: it seeds with (seed, 0) only, so every
 * weight would need a seed of its own and every start value (and recorded run) would change, it counts a 4-D kernel's
 * input channels twice in fan_in (k² in² instead of k² in: a conv kernel's std too small by √in), and each call runs a
 * throwaway session over the graph to read the shape (README, Dependencies; {@code WeightInitTest} measures both).
 */
public final class WeightInit {
  private WeightInit() {}

  /** The initializer of weight {@code name} of {@code shape}, drawn from {@code runSeed}. */
  public static <T extends TFloating> Initializer<T> of(Init init, Shape shape, long runSeed, String name) {
    return switch (init) {
      case ZEROS -> new Zeros<>();
      case ONES -> new Ones<>();
      case LECUN_NORMAL -> new Seeded<>(true, Math.sqrt(1.0 / Init.fanIn(shape.asArray())) / Init.TRUNCATED_NORMAL_STD,
          runSeed, nameHash(name));
      case EMBEDDING -> new Seeded<>(false, Math.sqrt(1.0 / shape.get(shape.numDimensions() - 1)), runSeed,
          nameHash(name));
    };
  }

  /**
   * std · N(0, 1), truncated at two standard deviations of the unit normal when {@code truncated} (Flax's
   * {@code lecun_normal}, whose std is rescaled to undo the truncation), seeded by {@code (seed, stream)}.
   */
  private record Seeded<T extends TFloating>(boolean truncated, double std, long seed, long stream)
      implements Initializer<T> {
    @Override
    public Operand<T> call(Ops tf, Operand<TInt64> dims, Class<T> type) {
      Operand<TInt64> seeds = tf.constant(new long[] {seed, stream});
      Operand<T> unit = truncated ? tf.random.statelessTruncatedNormal(dims, seeds, type)
          : tf.random.statelessRandomNormal(dims, seeds, type);
      return tf.math.mul(unit, tf.constant(type, std));
    }
  }

  /** FNV-1a: a stable 63-bit hash, the second word of each weight's seed. */
  static long nameHash(String name) {
    long h = 0xcbf29ce484222325L;
    for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
      h ^= b & 0xff;
      h *= 0x100000001b3L;
    }
    return h & Long.MAX_VALUE;
  }
}
