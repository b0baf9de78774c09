package dev.tfdiffusion.data;

import dev.tfdiffusion.UserError;
import dev.tfdiffusion.config.TrainConfig;

/** The data a run trains on: the chosen file (or the bundled digits), filtered to one digit, split as the tutorial. */
public final class TrainingData {
  private TrainingData() {}

  /** What a run's data will be, told before the images are resized (which is where large sizes take memory). */
  public interface SizeCheck {
    void check(int trainCount, int testCount, int height, int width);
  }

  public static Images.Split load(TrainConfig config) {
    return load(config, (train, test, height, width) -> { });
  }

  /**
   * As {@link #load(TrainConfig)}; {@code check} sees the split's counts and the final image size before the
   * selected images are resized (a file's images are read at their stored size and resized once filtered and split,
   * which gives the same images as resizing first).
   */
  public static Images.Split load(TrainConfig config, SizeCheck check) {
    Images all = DataSources.loadStored(config.data(), config.imageSize(), config.grayscale());
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
    int size = config.imageSize();
    check.check(split.train().count(), split.test().count(), size > 0 ? size : split.train().height(),
        size > 0 ? size : split.train().width());
    return new Images.Split(DataSources.resized(split.train(), size), DataSources.resized(split.test(), size));
  }
}
