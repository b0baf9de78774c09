package dev.tfdiffusion.cli;

import dev.tfdiffusion.RunLayout;
import dev.tfdiffusion.UserError;
import dev.tfdiffusion.export.ModelExport;
import dev.tfdiffusion.util.FileTrees;
import java.nio.file.Files;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import dev.tfdiffusion.util.RunLock;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code export}: a SavedModel from a checkpoint. */
@Command(name = "export", mixinStandardHelpOptions = true,
    description = {"Writes a SavedModel (tag 'serve') from a training checkpoint: signatures serving_default, sample, "
        + "sample_tutorial, trajectory, trajectory_tutorial and forward_noise.",
        "The model is written to a temporary folder and renamed into place."})
public final class ExportCommand implements Callable<Integer> {
  @Option(names = "--checkpoint", required = true, paramLabel = "DIR",
      description = "A run folder (its newest good checkpoint) or one checkpoint folder (checkpoints/step-00001000).")
  Path checkpoint;

  @Option(names = "--out", paramLabel = "DIR",
      description = "Where to write the SavedModel (default: <run>/saved_model).")
  Path out;

  @Option(names = "--no-ema", description = "Export the last step's weights instead of their moving average.")
  boolean noEma;

  @Mixin
  CommonOptions.Verbose verbose;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    OutputPaths.requireCreatable(out);
    // refused here, before the model is built and written to a scratch folder beside --out
    if (out != null && Files.exists(out) && !Files.isRegularFile(out.resolve("saved_model.pb"))
        && !FileTrees.isEmptyDirectory(out)) {
      throw new UserError(out + " exists and is not a SavedModel; choose another --out folder.");
    }
    try (RunFolders.Located at = RunFolders.locate(checkpoint, System.out);
         // one writer per folder: the folder the model goes into (for the default, the run folder itself)
         RunLock lock = RunLock.acquire(parentOf(target(at)), CommonOptions.typed(spec))) {
      Path target = target(at);
      boolean ema = RunFolders.export(at, target, !noEma);
      System.out.println("Exported step " + at.checkpoint().state().step() + " of " + at.run() + " to " + target
          + (ema ? " (moving-average weights)." : " (last-step weights)."));
    }
    return 0;
  }

  private Path target(RunFolders.Located at) {
    return out != null ? out : at.run().resolve(RunLayout.SAVED_MODEL);
  }

  /** The folder the model goes into, as the user named it where possible. */
  private static Path parentOf(Path target) {
    return target.getParent() != null ? target.getParent() : target.toAbsolutePath().getParent();
  }
}
