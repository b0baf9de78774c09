package dev.tfdiffusion.data;

import dev.tfdiffusion.UserError;
import dev.tfdiffusion.config.TrainConfig;

/** The data a run trains on: the chosen file (or the bundled digits), filtered to one digit, split as the tutorial. */
public final class TrainingData {
  private TrainingData() {}

  /** What a run's data will be, told before the images are resized (which is where large sizes take memory). */
  public interface SizeCheck {
    void check(int trainCount, int testCount, int height, int width, int channels);
  }

  public static Images.Split load(TrainConfig config) {
    return load(config, (train, test, height, width, channels) -> { });
  }

  /**
   * As {@link #load(TrainConfig)}; {@code check} sees the split's counts and the final image size before the
   * selected images are resized (a file's images are read at their stored size and resized once filtered and split,
   * which gives the same images as resizing first).
   */
  public static Images.Split load(TrainConfig config, SizeCheck check) {
    Images all = DataSources.loadStored(config.data(), config.imageSize(), config.grayscale());
    String source = source(config);
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
    if (config.conditional()) {
      requireLabels(source, selected, config.classes());
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
    int size = config.imageSize();
    check.check(split.train().count(), split.test().count(), size > 0 ? size : split.train().height(),
        size > 0 ? size : split.train().width(), split.train().channels());
    return new Images.Split(DataSources.resized(split.train(), size), DataSources.resized(split.test(), size));
  }

  /**
   * The config with a conditional model's class count taken from the data when it says 0: the largest label of the
   * selected images (both parts of the split) + 1. Other configs come back unchanged.
   */
  public static TrainConfig withClasses(TrainConfig config, Images.Split data) {
    if (!config.conditional() || config.classes() > 0) {
      return config;
    }
    int largest = java.util.stream.IntStream.concat(java.util.Arrays.stream(data.train().labels()),
        java.util.Arrays.stream(data.test().labels())).max().orElse(-1);
    return config.with(java.util.Map.of("classes", largest + 1));
  }

  private static String source(TrainConfig config) {
    return config.data() == null ? "the bundled digits" : config.data();
  }

  /** Every image labelled, and below {@code classes} when that is given. */
  private static void requireLabels(String source, Images images, int classes) {
    int[] labels = images.labels();
    long unlabelled = java.util.Arrays.stream(labels).filter(l -> l < 0).count();
    if (unlabelled == labels.length) {
      throw UserError.usage(source + " has no labels, so --conditional has nothing to condition on.");
    }
    if (unlabelled > 0) {
      throw UserError.usage(unlabelled + " of the " + labels.length + " images of " + source
          + " have no label; a conditional model needs one for every image.");
    }
    int largest = java.util.Arrays.stream(labels).max().orElse(0);
    if (classes > 0 && largest >= classes) {
      throw UserError.usage(source + " has label " + largest + ", outside the " + classes
          + " classes of --classes " + classes + " (labels 0.." + (classes - 1) + ").");
    }
  }
}
