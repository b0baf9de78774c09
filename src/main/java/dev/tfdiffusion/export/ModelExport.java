package dev.tfdiffusion.export;

import dev.tfdiffusion.RunLayout;
import dev.tfdiffusion.UserError;
import dev.tfdiffusion.config.TrainConfig;
import dev.tfdiffusion.checkpoint.Checkpoints;
import dev.tfdiffusion.train.TrainGraph;
import dev.tfdiffusion.util.SessionOptions;
import dev.tfdiffusion.util.FileTrees;
import dev.tfdiffusion.util.Folders;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Signature;

/**
 * Writes a SavedModel (tag {@code serve}) from a training checkpoint, atomically: the model is built in a temporary
 * folder beside the target and swapped into place ({@link Folders#replace}), so a crash never leaves a half-written
 * model where a good one was, and a reader finds the old model or the new one. A copy of the run's
 * {@code config.json} goes inside it.
 */
public final class ModelExport {
  private ModelExport() {}

  /**
   * @param ema export the weights' moving average (when the run kept one) rather than the last step's weights
   * @return whether the exported weights are the moving average
   */
  public static boolean export(TrainConfig config, Map<String, String> versions, Checkpoints.Checkpoint checkpoint,
                               int height, int width, int channels, Path out, boolean ema) throws IOException {
    boolean average = ema && config.emaDecay() > 0;
    Path absolute = out.toAbsolutePath();
    Path parent = absolute.getParent();
    Files.createDirectories(parent);
    Path tmp = parent.resolve("." + absolute.getFileName() + ".tmp-export");
    FileTrees.delete(tmp);
    try (InferenceGraph graph = new InferenceGraph(config, height, width, channels, SessionOptions.create(false),
        average ? TrainGraph.EMA_PREFIX : TrainGraph.MODEL_PREFIX)) {
      graph.restore(checkpoint.prefix());
      List<Signature> signatures = graph.signatures();
      SavedModelBundle.exporter(tmp.toString()).withSession(graph.session())
          .withSignatures(signatures.toArray(new Signature[0])).export();
    }
    Map<String, String> extra = new LinkedHashMap<>(versions);
    extra.put("checkpoint-step", Long.toString(checkpoint.state().step()));
    extra.put("weights", average ? "ema" : "last-step");
    Files.writeString(tmp.resolve(RunLayout.CONFIG), config.toJson(extra));

    if (Files.exists(absolute) && !Files.isRegularFile(absolute.resolve(RunLayout.SAVED_MODEL_PB))
        && !FileTrees.isEmptyDirectory(absolute)) {
      FileTrees.delete(tmp);
      throw new UserError(out + " exists and is not a SavedModel; choose another --out folder.");
    }
    Folders.replace(tmp, absolute, parent.resolve("." + absolute.getFileName() + ".old-export"));
    return average;
  }
}
