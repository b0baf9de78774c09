package dev.tfdiffusion.config;

import dev.tfdiffusion.UserError;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Named starting points for {@link TrainConfig}, each written once: the tutorial's configuration, and the others as
 * the tutorial with a few changes. {@code train --help} quotes them, so these lines are the only place a default is
 * written.
 */
public final class Presets {
  public static final String QUICK = "quick";
  public static final String TUTORIAL = "tutorial";
  public static final String CONDITIONAL = "conditional";
  public static final String DEFAULT = QUICK;

  private Presets() {}

  /** The tutorial's hyperparameters exactly (its notebook's values; see README for the quirks this keeps). */
  public static TrainConfig tutorial() {
    Map<String, Object> c = new LinkedHashMap<>();
    c.put("preset", TUTORIAL);
    // data: the digit-1 images of scikit-learn's digits, 95/5 split as train_test_split(random_state=42)
    c.put("digit", "1");
    c.put("data", null);
    c.put("grayscale", false);
    c.put("image-size", 0);
    c.put("test-fraction", 0.05);
    c.put("split-seed", 42);
    // model
    c.put("features", 64);
    c.put("time-embedding", 128);
    // not in the tutorial: class conditioning with classifier-free guidance (README)
    c.put("conditional", false);
    c.put("classes", 0);
    c.put("cond-drop", 0.1);
    // diffusion
    c.put("diffusion-steps", 1000);
    c.put("beta-start", 1e-4);
    c.put("beta-end", 0.02);
    // optimisation: every step on the whole training set (its batch size is never used)
    c.put("steps", 5000);
    c.put("batch-size", 0);
    c.put("lr", 1e-4);
    c.put("warmup-steps", 1000);
    c.put("lr-final-fraction", 0.01);
    c.put("weight-decay", 2e-5);
    c.put("adam-beta1", 0.9);
    c.put("adam-beta2", 0.999);
    c.put("adam-epsilon", 1e-8);
    c.put("clip-value", 0.3);
    c.put("clip-norm", 0.5);
    c.put("penalty-weight", 0.02);
    c.put("freeze-blocks", false);
    c.put("seed", 42);
    // not in the tutorial: a moving average of the weights, which the exported model uses
    c.put("ema-decay", 0.999);
    // bookkeeping
    c.put("loss-ema-decay", 0.99);
    c.put("log-every", 100);
    c.put("sample-every", 500);
    c.put("checkpoint-every", 1000);
    c.put("keep-checkpoints", 3);
    return TrainConfig.of(c);
  }

  /**
   * The default: the tutorial's model and loss at a quarter of the width, with fewer steps and a higher peak learning
   * rate. Tuned with {@code evaluate} (README): longer runs memorise the 172 training images.
   */
  public static TrainConfig quick() {
    Map<String, Object> changes = new LinkedHashMap<>();
    changes.put("preset", QUICK);
    changes.put("features", 16);
    changes.put("steps", 2000);
    changes.put("lr", 1e-3);
    changes.put("warmup-steps", 200);
    changes.put("checkpoint-every", 500);
    return tutorial().with(changes);
  }

  /**
   * All ten digits, class-conditional (sample --label K draws digit K): the default preset's model with a class
   * embedding, on batches of the 1,707 training images, long enough that at the default guidance nearly every sample
   * is recognised as the digit asked for (README) and short enough to train in under 20 minutes on two cores.
   */
  public static TrainConfig conditional() {
    Map<String, Object> changes = new LinkedHashMap<>();
    changes.put("preset", CONDITIONAL);
    changes.put("digit", TrainConfig.ALL_DIGITS);
    changes.put("conditional", true);
    changes.put("batch-size", 128);
    changes.put("steps", 12000);
    changes.put("warmup-steps", 500);
    changes.put("checkpoint-every", 2000);
    changes.put("sample-every", 1000);
    return quick().with(changes);
  }

  public static Map<String, TrainConfig> all() {
    Map<String, TrainConfig> m = new LinkedHashMap<>();
    m.put(QUICK, quick());
    m.put(TUTORIAL, tutorial());
    m.put(CONDITIONAL, conditional());
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
