package dev.tfdiffusion.config;

import dev.tfdiffusion.UserError;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Named starting points for {@link TrainConfig}. The constants are public so that {@code --help} can quote them.
 */
public final class Presets {
  public static final String QUICK = "quick";
  public static final String TUTORIAL = "tutorial";
  public static final String DEFAULT = QUICK;

  // The quick preset: tuned with `evaluate` (README): longer runs memorise the 172 training images.
  public static final int QUICK_FEATURES = 16;
  public static final int QUICK_STEPS = 2000;
  public static final int QUICK_WARMUP = 200;
  public static final double QUICK_LR = 1e-3;

  // The tutorial, as written.
  public static final int TUTORIAL_FEATURES = 64;
  public static final int TUTORIAL_STEPS = 5000;
  public static final int TUTORIAL_WARMUP = 1000;
  public static final double TUTORIAL_LR = 1e-4;
  public static final long TUTORIAL_SEED = 42;

  /** Decay of the weights' moving average, warmed up as min(decay, (1 + k) / (10 + k)) at step k. */
  public static final double EMA_DECAY = 0.999;

  private Presets() {}

  /** The tutorial's hyperparameters exactly. */
  public static TrainConfig tutorial() {
    return new TrainConfig(TUTORIAL, "1", null, 0, 0.05, 42,
        TUTORIAL_FEATURES, 128,
        1000, 1e-4, 0.02,
        TUTORIAL_STEPS, 0, TUTORIAL_LR, TUTORIAL_WARMUP, 0.01, 2e-5, 0.9, 0.999, 1e-8, 0.3, 0.5, 0.02, false,
        TUTORIAL_SEED, EMA_DECAY,
        0.99, 100, 500, 1000, 3);
  }

  /** The default: the tutorial's model and loss at a smaller width, fewer steps and a higher peak learning rate. */
  public static TrainConfig quick() {
    TrainConfig t = tutorial();
    return new TrainConfig(QUICK, t.digit(), t.data(), t.imageSize(), t.testFraction(), t.splitSeed(),
        QUICK_FEATURES, t.timeEmbedding(),
        t.diffusionSteps(), t.betaStart(), t.betaEnd(),
        QUICK_STEPS, t.batchSize(), QUICK_LR, QUICK_WARMUP, t.lrFinalFraction(), t.weightDecay(), t.adamBeta1(),
        t.adamBeta2(), t.adamEpsilon(), t.clipValue(), t.clipNorm(), t.penaltyWeight(), t.freezeBlocks(),
        t.seed(), t.emaDecay(),
        t.lossEmaDecay(), t.logEvery(), t.sampleEvery(), 500, t.keepCheckpoints());
  }

  public static Map<String, TrainConfig> all() {
    Map<String, TrainConfig> m = new LinkedHashMap<>();
    m.put(QUICK, quick());
    m.put(TUTORIAL, tutorial());
    return m;
  }

  public static TrainConfig named(String name) {
    TrainConfig c = all().get(name);
    if (c == null) {
      throw UserError.usage("Unknown preset '" + name + "'; choose one of " + String.join(", ", all().keySet()) + ".");
    }
    return c;
  }
}
