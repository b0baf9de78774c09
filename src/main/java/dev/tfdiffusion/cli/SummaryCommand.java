package dev.tfdiffusion.cli;

import dev.tfdiffusion.UserError;
import dev.tfdiffusion.config.Presets;
import dev.tfdiffusion.config.TrainConfig;
import dev.tfdiffusion.model.ModelSummary;
import dev.tfdiffusion.model.UNet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code summary}: the U-Net's blocks, output shapes and parameter counts, read from a built graph. */
@Command(name = "summary", mixinStandardHelpOptions = true,
    description = "Prints the U-Net's blocks with output shapes and parameter counts (like Keras' model.summary()).")
public final class SummaryCommand implements Callable<Integer> {
  /** Widest --features and --time-embedding summary describes. */
  static final int MAX_WIDTH = 100_000;

  @Option(names = "--features", paramLabel = "N",
      description = "U-Net base width (default: the default preset's, ${DEFAULT-VALUE}).")
  int features = Presets.named(Presets.DEFAULT).features();

  @Option(names = "--time-embedding", paramLabel = "N", description = "Time embedding size (default: 128).")
  int timeEmbedding = 128;

  @Option(names = "--image-size", paramLabel = "N", description = "Image height and width (default: 8).")
  int imageSize = 8;

  @Option(names = "--channels", paramLabel = "C", description = "Image channels, 1 (gray) or 3 (colour) (default: "
      + "${DEFAULT-VALUE}).")
  int channels = 1;

  @Option(names = "--classes", paramLabel = "K", description = "Classes of a conditional model (its class embedding "
      + "has K + 1 rows); 0 for an unconditional one (default: ${DEFAULT-VALUE}).")
  int classes = 0;

  @Mixin
  CommonOptions.Verbose verbose;

  @Override
  public Integer call() {
    // the counts are exact longs: these bounds keep them (and TensorFlow's shapes) from overflowing
    if (features < 1 || features > MAX_WIDTH) {
      throw UserError.usage("--features must be between 1 and " + MAX_WIDTH + ", got " + features + ".");
    }
    if (timeEmbedding < 4 || timeEmbedding % 2 != 0 || timeEmbedding > MAX_WIDTH) {
      throw UserError.usage("--time-embedding must be an even number between 4 and " + MAX_WIDTH + ", got "
          + timeEmbedding + ".");
    }
    if (imageSize < 2 || imageSize > TrainConfig.MAX_IMAGE_SIZE) {
      throw UserError.usage("--image-size must be between 2 and " + TrainConfig.MAX_IMAGE_SIZE + ", got " + imageSize
          + ".");
    }
    if (channels != 1 && channels != 3) {
      throw UserError.usage("--channels must be 1 or 3, got " + channels + ".");
    }
    if (classes < 0 || classes > MAX_WIDTH) {
      throw UserError.usage("--classes must be between 0 and " + MAX_WIDTH + ", got " + classes + ".");
    }
    System.out.print(ModelSummary.of(new UNet(features, timeEmbedding, imageSize, imageSize, channels, classes))
        .table());
    return 0;
  }
}
