package dev.tfdiffusion.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfdiffusion.FileSnapshot;
import dev.tfdiffusion.RunLayout;
import dev.tfdiffusion.checkpoint.Checkpoints;
import dev.tfdiffusion.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SortedSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A non-finite loss or gradient stops training at once, names the step and leaves the last checkpoint alone. README:
 * "saves nothing from that step, keeps the last good checkpoint" — the run keeps its checkpoint and its log; the only
 * files the failing step may touch are the diagnostics train_log.csv (its row) and the TensorBoard events.
 */
class DivergenceTest {
  @TempDir
  Path dir;

  private static final String[] DIVERGING = {"train", "--features", "2", "--steps", "40", "--lr", "1e30",
      "--warmup-steps", "0", "--checkpoint-every", "1", "--no-export", "--quiet"};

  private static String message(Path run) {
    return "Training diverged at step 1: the loss is NaN and the gradient norm NaN. Nothing from this step was "
        + "saved; the last good checkpoint, step 1, is untouched (start a new run with a lower --lr, or resume it with "
        + "--resume " + run + ").";
  }

  private static int train(StringWriter err, String... args) {
    return Main.run(new PrintWriter(err, true), args);
  }

  private static String[] with(String[] base, String... more) {
    return Stream.concat(Stream.of(base), Stream.of(more)).toArray(String[]::new);
  }

  private static List<String> children(Path folder) throws Exception {
    try (Stream<Path> s = Files.list(folder)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void absurdLearningRateStopsWithTheStepAndKeepsTheLastGoodCheckpoint() throws Exception {
    Path run = dir.resolve("run");
    StringWriter err = new StringWriter();
    int code = train(err, with(DIVERGING, "--out", run.toString()));
    assertEquals(1, code);
    assertEquals(message(run), err.toString().strip());
    Path good = run.resolve("checkpoints/step-00000001");
    assertTrue(Checkpoints.verify(good).isEmpty());
    assertFalse(Files.exists(run.resolve("checkpoints/step-00000002")));
    assertTrue(Double.isFinite(Checkpoints.readState(good).emaLoss()));
    // nothing from the failing step: no other checkpoint, no half-written one, no export or samples
    assertEquals(List.of("step-00000001"), children(run.resolve("checkpoints")));
    for (String absent : new String[] {"saved_model", "samples.png", "samples.csv", "reverse.gif"}) {
      assertFalse(Files.exists(run.resolve(absent)), absent);
    }
    // the log keeps the good step and names the diverged one; the checkpoint's state is the good step's
    List<TrainLog.Row> rows = TrainLog.read(run.resolve(RunLayout.TRAIN_LOG));
    assertEquals(List.of(0L, 1L), rows.stream().map(TrainLog.Row::step).toList());
    assertTrue(Double.isFinite(rows.get(0).loss()));
    assertTrue(Double.isNaN(rows.get(1).loss()));
    assertEquals(rows.get(0).emaLoss(), Checkpoints.readState(good).emaLoss());
  }

  @Test
  void aRunThatDivergesOnResumeKeepsEverythingButItsLog() throws Exception {
    Path run = dir.resolve("run");
    StringWriter first = new StringWriter();
    assertEquals(0, train(first, with(DIVERGING, "--out", run.toString(), "--stop-after", "1")), first.toString());
    FileSnapshot before = FileSnapshot.of(run);
    List<String> logBefore = Files.readAllLines(run.resolve(RunLayout.TRAIN_LOG));

    StringWriter err = new StringWriter();
    assertEquals(1, train(err, "train", "--resume", run.toString(), "--quiet"));
    assertEquals(message(run), err.toString().strip());

    // the checkpoint, config.json, loss.png and training_images.png are byte for byte (and time for time) as before;
    // only the log (one row for the diverged step) and TensorBoard's events (written inside the step) change
    SortedSet<String> changed = before.changedSince();
    for (String path : changed) {
      assertTrue(path.equals(".") || path.equals(RunLayout.TRAIN_LOG) || path.equals(RunLayout.TENSORBOARD)
          || path.startsWith(RunLayout.TENSORBOARD + "/"), "the diverged step changed " + path + " (all changes: "
          + changed + ")");
    }
    assertTrue(changed.contains(RunLayout.TRAIN_LOG), "the log names the diverged step");
    List<String> logAfter = Files.readAllLines(run.resolve(RunLayout.TRAIN_LOG));
    assertEquals(logBefore, logAfter.subList(0, logBefore.size()), "the good rows are kept");
    assertEquals(logBefore.size() + 1, logAfter.size());
    assertTrue(logAfter.get(logAfter.size() - 1).startsWith("1,NaN,"), logAfter.get(logAfter.size() - 1));
    assertEquals(List.of("step-00000001"), children(run.resolve("checkpoints")));
  }
}
