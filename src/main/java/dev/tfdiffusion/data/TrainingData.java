package dev.tfdiffusion.data;

import dev.tfdiffusion.UserError;
import dev.tfdiffusion.config.TrainConfig;

/** The data a run trains on: the chosen file (or the bundled digits), filtered to one digit, split as the tutorial. */
public final class TrainingData {
  private TrainingData() {}

  public static Images.Split load(TrainConfig config) {
    Images all = DataSources.load(config.data(), config.imageSize());
    String source = config.data() == null ? "the bundled digits" : config.data();
    Images selected = all;
    if (config.digitLabel() >= 0) {
      if (java.util.Arrays.stream(all.labels()).allMatch(l -> l < 0)) {
        throw UserError.usage(source + " has no labels; train on all of it with --digit all.");
      }
      selected = all.withLabel(config.digitLabel());
      if (selected.count() == 0) {
        throw new UserError(source + " holds no images of digit " + config.digit() + ".");
      }
    }
    Images.Split split = selected.split(config.testFraction(), config.splitSeed());
    if (split.train().count() == 0) {
      throw new UserError("A test fraction of " + config.testFraction() + " leaves no training images of the "
          + selected.count() + " selected.");
    }
    if (config.batchSize() > split.train().count()) {
      throw UserError.usage("--batch-size " + config.batchSize() + " is larger than the " + split.train().count()
          + " training images; use at most " + split.train().count() + " (or 0 for all of them).");
    }
    return split;
  }
}
