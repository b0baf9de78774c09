package dev.tfdiffusion;

import dev.tfdiffusion.cli.RunFolders;
import dev.tfdiffusion.cli.TrainCommand;
import dev.tfdiffusion.cli.Versions;
import dev.tfdiffusion.config.TrainConfig;
import dev.tfdiffusion.data.Images;
import dev.tfdiffusion.data.TrainingData;
import dev.tfdiffusion.train.Trainer;
import dev.tfdiffusion.util.Compute;
import dev.tfdiffusion.util.RunLock;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;

/**
 * tf-diffusion as a library: trains a model into a run folder as {@code train} does and returns its SavedModel, which
 * {@link dev.tfdiffusion.sample.SavedModelSampler} opens and {@link dev.tfdiffusion.sample.Sampler} draws from.
 * Configurations start from {@link dev.tfdiffusion.config.Presets}. Problems the caller can fix (a bad config, an
 * existing run, missing data) are {@link UserError}s with the command line's one-sentence messages.
 */
public final class TfDiffusion {
  private TfDiffusion() {}

  /** As {@link #train(TrainConfig, Path, PrintStream)}, printing nothing. */
  public static Path train(TrainConfig config, Path runDir) throws IOException {
    return train(config, runDir, null);
  }

  /**
   * Trains {@code config} on one device in the new run folder {@code runDir}, then writes what {@code train} writes at
   * the end of a run (the SavedModel, samples.png, the figures) and returns the SavedModel's folder. Progress lines go
   * to {@code progress} as {@code train} prints them when its output is not a terminal; null prints nothing.
   */
  public static Path train(TrainConfig config, Path runDir, PrintStream progress) throws IOException {
    boolean quiet = progress == null;
    PrintStream out = quiet ? new PrintStream(OutputStream.nullOutputStream()) : progress;
    TrainConfig valid = config.validate();
    // the checks and the order of train's new run: nothing is written before the data and the memory are known good
    TrainCommand.requireNewRunDir(runDir, false);
    Images.Split data = TrainingData.load(valid, TrainCommand.fits(valid));
    valid = TrainingData.withClasses(valid, data);
    try (RunLock lock = TrainCommand.prepareNewRunDir(runDir, false, "tf-diffusion library: TfDiffusion.train")) {
      new Trainer(valid, new Trainer.Options(runDir, false, 0, false, quiet, Compute.DEFAULT, Versions.all()), out)
          .run(data);
      RunFolders.exportWithFigures(runDir, out, quiet);
    }
    return runDir.resolve(RunLayout.SAVED_MODEL);
  }
}
