package dev.tfdiffusion.cli;

import dev.tfdiffusion.config.Presets;
import dev.tfdiffusion.config.TrainConfig;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;

/**
 * {@code train}'s hyperparameter options (a picocli mixin): one per {@link TrainConfig} field, of the same name. They
 * hold no defaults: an option the user does not give keeps the preset's value, and {@code --help} shows the presets'
 * values ({@link #showPresetDefaults}).
 */
final class Hyperparameters {
  @Option(names = {"--digit", "--label"}, paramLabel = "D",
      description = "Digit (label) to learn, 0..9, or 'all' for every image.")
  String digit;
  @Option(names = "--data", paramLabel = "PATH",
      description = "Train on PATH instead of the bundled digits: a CSV in their format (64 pixels 0..16 and a label "
          + "per line), an MNIST IDX images file (labels found beside it; .gz allowed for both), a CIFAR-10 binary "
          + "file (*.bin) or a folder of its data_batch_*.bin and test_batch.bin (colour, labels 0..9), or a folder "
          + "of gray or colour PNG/JPEG images (sub-folders give labels: 0..9 that digit, other names their index "
          + "in name order).")
  String data;
  @Option(names = "--grayscale", negatable = true,
      description = "Convert colour images to one gray channel; off keeps a folder's RGB images and CIFAR-10 in "
          + "colour.")
  Boolean grayscale;
  @Option(names = "--image-size", paramLabel = "N",
      description = "Resize every image to N x N; 0 keeps the stored size.")
  Integer imageSize;
  @Option(names = "--test-fraction", paramLabel = "F", description = "Held-out share, rounded up.")
  Double testFraction;
  @Option(names = "--split-seed", paramLabel = "N", description = "Seed of the train/test split.")
  Long splitSeed;
  @Option(names = "--features", paramLabel = "N",
      description = "U-Net base width.")
  Integer features;
  @Option(names = "--time-embedding", paramLabel = "N", description = "Time embedding size.")
  Integer timeEmbedding;
  @Option(names = "--conditional", negatable = true,
      description = "Learn a class embedding from the data's labels, so that sample --label can ask for a class "
          + "(classifier-free guidance).")
  Boolean conditional;
  @Option(names = "--classes", paramLabel = "K",
      description = "Classes of a conditional model; 0 = the largest label of the data + 1.")
  Integer classes;
  @Option(names = "--cond-drop", paramLabel = "P",
      description = "Share of training images whose label is replaced by 'no class', which guidance needs.")
  Double condDrop;
  @Option(names = "--diffusion-steps", paramLabel = "T", description = "Diffusion timesteps.")
  Integer diffusionSteps;
  @Option(names = "--beta-start", paramLabel = "B", description = "Smallest beta of the schedule.")
  Double betaStart;
  @Option(names = "--beta-end", paramLabel = "B", description = "Largest beta of the schedule.")
  Double betaEnd;
  @Option(names = "--steps", paramLabel = "N",
      description = "Training steps.")
  Integer steps;
  @Option(names = "--batch-size", paramLabel = "N",
      description = "Images per step; 0 = the whole training set, as the tutorial does.")
  Integer batchSize;
  @Option(names = "--lr", paramLabel = "LR",
      description = "Peak learning rate.")
  Double lr;
  @Option(names = "--warmup-steps", paramLabel = "N",
      description = "Linear warm-up steps; when only --steps is given, the preset's share of the steps.")
  Integer warmupSteps;
  @Option(names = "--lr-final-fraction", paramLabel = "F",
      description = "Cosine decay ends at this fraction of the peak.")
  Double lrFinalFraction;
  @Option(names = "--weight-decay", paramLabel = "W", description = "AdamW decoupled weight decay.")
  Double weightDecay;
  @Option(names = "--adam-beta1", paramLabel = "B", description = "AdamW beta1.")
  Double adamBeta1;
  @Option(names = "--adam-beta2", paramLabel = "B", description = "AdamW beta2.")
  Double adamBeta2;
  @Option(names = "--adam-epsilon", paramLabel = "E", description = "AdamW epsilon.")
  Double adamEpsilon;
  @Option(names = "--clip-value", paramLabel = "V", description = "Element-wise gradient clip.")
  Double clipValue;
  @Option(names = "--clip-norm", paramLabel = "N", description = "Global-norm gradient clip.")
  Double clipNorm;
  @Option(names = "--penalty-weight", paramLabel = "W",
      description = "Weight of the input-gradient penalty.")
  Double penaltyWeight;
  @Option(names = "--freeze-blocks", negatable = true,
      description = "Train only what the tutorial's optimizer sees (time MLP, time projections, final norm and conv; "
          + "its closures hide the residual and attention blocks from Flax NNX), keeping the blocks at their initial "
          + "values; off trains everything.")
  Boolean freezeBlocks;
  @Option(names = "--ema-decay", paramLabel = "D",
      description = "Decay of the exponential moving average of the weights, which export uses; warmed up as "
          + "min(D, (1 + k) / (10 + k)); 0 turns it off.")
  Double emaDecay;
  @Option(names = "--seed", paramLabel = "N",
      description = "Seed of initialisation, timesteps and noise.")
  Long seed;
  @Option(names = "--loss-ema-decay", paramLabel = "D", description = "Decay of the logged loss EMA.")
  Double lossEmaDecay;
  @Option(names = "--log-every", paramLabel = "N", description = "Steps between log lines.")
  Integer logEvery;
  @Option(names = "--sample-every", paramLabel = "N",
      description = "Steps between TensorBoard sample grids (16 DDIM-50 samples); 0 = none.")
  Integer sampleEvery;
  @Option(names = "--checkpoint-every", paramLabel = "N",
      description = "Steps between checkpoints.")
  Integer checkpointEvery;
  @Option(names = "--keep-checkpoints", paramLabel = "K", description = "Checkpoints kept.")
  Integer keepCheckpoints;

  /**
   * Appends each hyperparameter's value in every preset to its {@code --help} text ("(default: 0.3)", or "(quick: 16,
   * tutorial: 64)" where they differ), so that a default is written only in {@link Presets}.
   */
  static void showPresetDefaults(CommandLine train) {
    CommandSpec spec = train.getCommandSpec();
    List<String> keys = TrainConfig.keys();
    Map<String, TrainConfig> presets = Presets.all();
    List<OptionSpec> hyperparameters = spec.options().stream()
        .filter(o -> keys.contains(o.longestName().substring(2)) && !o.longestName().equals("--preset")).toList();
    for (OptionSpec o : hyperparameters) {
      spec.remove(o);
    }
    for (OptionSpec o : hyperparameters) {
      String key = o.longestName().substring(2);
      Map<String, String> values = new LinkedHashMap<>();
      presets.forEach((name, config) -> values.put(name, shown(config.fields().get(key))));
      String suffix;
      if (values.containsValue(null)) {
        suffix = "";
      } else if (new java.util.HashSet<>(values.values()).size() == 1) {
        suffix = " (default: " + values.values().iterator().next() + ")";
      } else {
        suffix = " (" + String.join(", ", values.entrySet().stream().map(e -> e.getKey() + ": " + e.getValue())
            .toList()) + ")";
      }
      String[] description = o.description().clone();
      String last = description[description.length - 1];
      description[description.length - 1] = last.endsWith(".")
          ? last.substring(0, last.length() - 1) + suffix + "." : last + suffix;
      spec.addOption(o.toBuilder().description(description).build());
    }
  }

  /** A config value as a user types it: 0.0001 rather than 1.0E-4, off/on for switches. */
  private static String shown(Object value) {
    if (value == null) {
      return null;
    }
    if (value instanceof Boolean b) {
      return b ? "on" : "off";
    }
    if (value instanceof Double d) {
      return new java.math.BigDecimal(Double.toString(d)).stripTrailingZeros().toString().toLowerCase();
    }
    return value.toString();
  }
}
