package dev.tfdiffusion.cli;

import dev.tfdiffusion.UserError;
import dev.tfdiffusion.config.Presets;
import dev.tfdiffusion.model.ModelSummary;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code summary}: the U-Net's blocks, output shapes and parameter counts, read from a built graph. */
@Command(name = "summary", mixinStandardHelpOptions = true,
    description = "Prints the U-Net's blocks with output shapes and parameter counts (like Keras' model.summary()).")
public final class SummaryCommand implements Callable<Integer> {
  @Option(names = "--features", paramLabel = "N",
      description = "U-Net base width (default: the default preset's, ${DEFAULT-VALUE}).")
  int features = Presets.named(Presets.DEFAULT).features();

  @Option(names = "--time-embedding", paramLabel = "N", description = "Time embedding size (default: 128).")
  int timeEmbedding = 128;

  @Option(names = "--image-size", paramLabel = "N", description = "Image height and width (default: 8).")
  int imageSize = 8;

  @Mixin
  CommonOptions.Verbose verbose;

  @Override
  public Integer call() {
    if (features <= 0 || imageSize <= 0 || timeEmbedding < 4 || timeEmbedding % 2 != 0) {
      throw UserError.usage("--features and --image-size must be positive and --time-embedding even and at least 4.");
    }
    System.out.print(ModelSummary.of(features, timeEmbedding, imageSize, imageSize).table());
    return 0;
  }
}
