package dev.tfdiffusion.cli;

import dev.tfdiffusion.export.ModelExport;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code export}: a SavedModel from a checkpoint. */
@Command(name = "export", mixinStandardHelpOptions = true,
    description = {"Writes a SavedModel (tag 'serve') from a training checkpoint: signatures serving_default, sample, "
        + "sample_tutorial, trajectory, trajectory_tutorial and forward_noise.",
        "The model is written to a temporary folder and renamed into place."})
public final class ExportCommand implements Callable<Integer> {
  @Option(names = "--checkpoint", required = true, paramLabel = "DIR",
      description = "A run folder (its newest good checkpoint) or one checkpoint folder (checkpoints/step-00001000).")
  Path checkpoint;

  @Option(names = "--out", paramLabel = "DIR", description = "Where to write the SavedModel (default: <run>/saved_model).")
  Path out;

  @Option(names = "--no-ema", description = "Export the last step's weights instead of their moving average.")
  boolean noEma;

  @Mixin
  CommonOptions.Verbose verbose;

  @Override
  public Integer call() throws IOException {
    RunFolders.Located at = RunFolders.locate(checkpoint, System.out);
    Path target = out != null ? out : at.run().resolve(ModelExport.DIR);
    boolean ema = RunFolders.export(at, target, !noEma);
    System.out.println("Exported step " + at.checkpoint().state().step() + " of " + at.run() + " to " + target
        + (ema ? " (moving-average weights)." : " (last-step weights)."));
    return 0;
  }
}
