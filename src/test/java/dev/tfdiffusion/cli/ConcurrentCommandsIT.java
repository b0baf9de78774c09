package dev.tfdiffusion.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfdiffusion.ChildProcess;
import dev.tfdiffusion.RunLayout;
import dev.tfdiffusion.checkpoint.Checkpoints;
import dev.tfdiffusion.train.TrainLog;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Commands against a run folder that a child {@code train} is writing, as users run them from a second terminal:
 * a second writer is refused before it touches anything, readers get a whole checkpoint or say why not, and the
 * training run ends complete.
 */
class ConcurrentCommandsIT {
  @TempDir
  Path dir;

  private Process startTraining(String... args) throws IOException {
    return ChildProcess.builder(dir, args).redirectOutput(dir.resolve("first.log").toFile()).start();
  }

  /** Waits until the training child has written checkpoint {@code step}. */
  private void awaitCheckpoint(Process p, Path run, long step) throws Exception {
    Path folder = run.resolve("checkpoints").resolve(String.format("step-%08d", step));
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
    while (!Files.isRegularFile(folder.resolve(Checkpoints.STATE))) {
      assertTrue(p.isAlive(), "training ended early: " + Files.readString(dir.resolve("first.log")));
      assertTrue(System.nanoTime() < deadline, "no checkpoint " + step);
      Thread.sleep(20);
    }
  }

  private static void assertWholeRun(Path run, int steps) throws IOException {
    List<TrainLog.Row> rows = TrainLog.read(run.resolve(RunLayout.TRAIN_LOG));
    assertEquals(steps, rows.size(), "one log row per step");
    for (int i = 0; i < steps; i++) {
      assertEquals(i, rows.get(i).step());
    }
    try (Stream<Path> dirs = Files.list(run.resolve("checkpoints"))) {
      List<Path> all = dirs.filter(p -> p.getFileName().toString().startsWith("step-")).toList();
      assertTrue(all.stream().anyMatch(p -> p.getFileName().toString().equals(String.format("step-%08d", steps))));
      for (Path d : all) {
        assertTrue(Checkpoints.verify(d).isEmpty(), d + " is damaged");
      }
    }
  }

  @Test
  void aSecondWriterIsRefusedAndTheFirstRunEndsWhole() throws Exception {
    int steps = 800;
    String[] first = {"train", "--features", "4", "--steps", Integer.toString(steps), "--checkpoint-every", "10",
        "--keep-checkpoints", "2", "--no-export", "--out", "run"};
    Process training = startTraining(first);
    Path run = dir.resolve("run");
    awaitCheckpoint(training, run, 10);

    Pattern refused = Pattern.compile(Pattern.quote("run is in use by another tf-diffusion process (pid "
        + training.pid() + " on ") + "[^,]+" + Pattern.quote(", 'tf-diffusion " + String.join(" ", first)
        + "', since ") + "\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC"
        + Pattern.quote("); wait for it to end or stop it, then try again."));
    for (String[] second : List.of(new String[] {"train", "--resume", "run"},
        new String[] {"train", "--features", "4", "--out", "run", "--overwrite"},
        new String[] {"export", "--checkpoint", "run"})) {
      ChildProcess.Output o = ChildProcess.run(dir, second);
      assertEquals(1, o.code(), String.join(" ", second) + ": " + o.text());
      assertTrue(refused.matcher(o.text().strip()).matches(), String.join(" ", second) + ": " + o.text());
      assertTrue(training.isAlive(), "the second command ran while the first was training");
    }

    assertTrue(training.waitFor(10, TimeUnit.MINUTES));
    assertEquals(0, training.exitValue(), Files.readString(dir.resolve("first.log")));
    assertWholeRun(run, steps);
  }

  @Test
  void exportAndEvaluateDuringTrainingWithOneCheckpointKept() throws Exception {
    int steps = 1500;
    Process training = startTraining("train", "--features", "4", "--steps", Integer.toString(steps),
        "--checkpoint-every", "2", "--keep-checkpoints", "1", "--no-export", "--out", "run");
    Path run = dir.resolve("run");
    awaitCheckpoint(training, run, 2);

    // the run's newest checkpoint, pinned while it is read although the run prunes every second step
    ChildProcess.Output exported = ChildProcess.run(dir, "export", "--checkpoint", "run", "--out", "model");
    assertEquals(0, exported.code(), exported.text());
    assertTrue(Pattern.compile("(?m)^Exported step \\d+ of run to model \\(moving-average weights\\)\\.$")
        .matcher(exported.text()).find(), exported.text());
    // one named checkpoint folder, long pruned by the time the command looks: a clear sentence
    ChildProcess.Output gone = ChildProcess.run(dir, "export", "--checkpoint", "run/checkpoints/step-00000002",
        "--out", "old-model");
    assertEquals(1, gone.code(), gone.text());
    assertTrue(gone.text().strip().endsWith("Checkpoint or run folder run/checkpoints/step-00000002 does not exist."),
        gone.text());

    assertTrue(training.isAlive(), "both exports ran while the run was training");
    ProcessBuilder evaluate = ChildProcess.builder(dir, "evaluate", "--model", "model", "--count", "4",
        "--sampler", "ddim", "--sampling-steps", "2", "--out", "evaluation.json");
    evaluate.environment().put("XDG_CACHE_HOME", dir.resolve("cache").toString());
    Process e = evaluate.start();
    assertTrue(training.isAlive(), "evaluate started while the run was training");
    String text = new String(e.getInputStream().readAllBytes());
    assertTrue(e.waitFor(10, TimeUnit.MINUTES));
    assertEquals(0, e.exitValue(), text);
    assertTrue(Files.isRegularFile(dir.resolve("evaluation.json")));

    assertTrue(training.waitFor(10, TimeUnit.MINUTES));
    assertEquals(0, training.exitValue(), Files.readString(dir.resolve("first.log")));
    assertWholeRun(run, steps);
  }
}
