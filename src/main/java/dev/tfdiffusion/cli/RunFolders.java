package dev.tfdiffusion.cli;

import dev.tfdiffusion.RunLayout;
import dev.tfdiffusion.UserError;
import dev.tfdiffusion.config.TrainConfig;
import dev.tfdiffusion.data.Images;
import dev.tfdiffusion.data.TrainingData;
import dev.tfdiffusion.export.ModelExport;
import dev.tfdiffusion.sample.Figures;
import dev.tfdiffusion.sample.SampleFiles;
import dev.tfdiffusion.sample.Sampler;
import dev.tfdiffusion.sample.SavedModelSampler;
import dev.tfdiffusion.checkpoint.Checkpoints;
import dev.tfdiffusion.train.Trainer;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Run-folder logic shared by {@code train}, {@code export} and {@code sample}: finding checkpoints, exporting. Public
 * for the library's {@link dev.tfdiffusion.TfDiffusion}, which ends a run as {@code train} does.
 */
public final class RunFolders {
  static final int FIGURE_SEED = 0;

  private RunFolders() {}

  /** A checkpoint, pinned against pruning until closed, with the run it belongs to. */
  record Located(Path run, TrainConfig config, Checkpoints.Pinned pinned) implements AutoCloseable {
    Checkpoints.Checkpoint checkpoint() {
      return pinned.checkpoint();
    }

    @Override
    public void close() throws IOException {
      pinned.close();
    }
  }

  /** {@code dir} is a run folder (its newest good checkpoint) or one checkpoint folder inside a run. */
  static Located locate(Path dir, PrintStream out) {
    if (!Files.exists(dir)) {
      throw new UserError("Checkpoint or run folder " + dir + " does not exist.");
    }
    if (Files.isRegularFile(dir.resolve(RunLayout.CONFIG))) {
      TrainConfig config = TrainConfig.read(dir.resolve(RunLayout.CONFIG)).validate();
      Checkpoints.Pinned c = new Checkpoints(dir, config.keepCheckpoints()).latestPinned(out::println)
          .orElseThrow(() -> new UserError("Run " + dir + " has no usable checkpoint yet."));
      return new Located(dir, config, c);
    }
    if (Files.isRegularFile(dir.resolve(Checkpoints.STATE))) {
      Path run = dir.toAbsolutePath().getParent().getParent();
      if (!Files.isRegularFile(run.resolve(RunLayout.CONFIG))) {
        throw new UserError("Checkpoint " + dir + " is not inside a run folder (no " + run.resolve(RunLayout.CONFIG)
            + ").");
      }
      return new Located(run, TrainConfig.read(run.resolve(RunLayout.CONFIG)).validate(), Checkpoints.open(dir));
    }
    throw new UserError(dir + " is neither a training run (no " + RunLayout.CONFIG + ") nor a checkpoint (no "
        + Checkpoints.STATE + ").");
  }

  /** Returns whether the exported weights are the moving average. */
  static boolean export(Located at, Path out, boolean ema) throws IOException {
    Images train = TrainingData.load(at.config()).train();
    return ModelExport.export(at.config(), Versions.all(), at.checkpoint(), train.height(), train.width(),
        train.channels(), out, ema);
  }

  /**
   * The end of a finished run: the SavedModel, 64 samples, the tutorial's figures and the reverse-process GIF; one
   * line about them on {@code out} unless {@code quiet}.
   */
  public static void exportWithFigures(Path run, PrintStream out, boolean quiet) throws IOException {
    Path model = run.resolve(RunLayout.SAVED_MODEL);
    TrainConfig config;
    try (Located at = locate(run, out)) {
      export(at, model, true);
      config = at.config();
    }
    try (SavedModelSampler sampler = SavedModelSampler.open(model)) {
      Path samples = run.resolve(RunLayout.SAMPLES_PNG);
      // a conditional model draws one row of eight per class, with the default guidance
      int[] labels = sampler.conditional() ? SavedModelSampler.labelsPerClass(sampler.classes(), 8) : null;
      int count = labels == null ? 64 : labels.length;
      float[] images = sampler.sample(Sampler.DDPM, sampler.noise(count, FIGURE_SEED), FIGURE_SEED,
          sampler.guidedTo(labels));
      SampleFiles.writeGrid(samples, images, sampler.height(), sampler.width(), sampler.channels(),
          8);
      SampleFiles.writeCsv(SampleFiles.csvFor(samples), images, sampler.pixelsPerImage(), labels);
      figures(sampler, config, run);
      int[] gifLabels = sampler.conditional() ? java.util.stream.IntStream.range(0, 16)
          .map(i -> i % sampler.classes()).toArray() : null;
      Figures.reverseGif(sampler, run.resolve(RunLayout.REVERSE_GIF), sampler.noise(16, FIGURE_SEED), FIGURE_SEED, 100,
          Sampler.DDPM, sampler.guidedTo(gifLabels));
    }
    if (!quiet) {
      out.println("Exported the SavedModel to " + model + "; wrote " + RunLayout.SAMPLES_PNG + ", "
          + RunLayout.RECONSTRUCT_PNG + ", " + RunLayout.FORWARD_REVERSE_PNG + " and " + RunLayout.REVERSE_GIF + ".");
    }
  }

  /** reconstruct.png and forward_reverse.png from the run's held-out images. */
  static void figures(SavedModelSampler sampler, TrainConfig config, Path dir) throws IOException {
    Images test = TrainingData.load(config).test();
    Figures.reconstruct(sampler, dir.resolve(RunLayout.RECONSTRUCT_PNG), test.pixels(), test.labels(),
        config.diffusionSteps(), FIGURE_SEED);
    Figures.forwardReverse(sampler, dir.resolve(RunLayout.FORWARD_REVERSE_PNG), test.image(0), test.labels()[0],
        config.diffusionSteps(), FIGURE_SEED);
  }
}
