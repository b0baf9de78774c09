package dev.tfdiffusion.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfdiffusion.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A non-finite loss or gradient stops training at once, names the step and leaves the last checkpoint alone. */
class DivergenceTest {
  @TempDir
  Path dir;

  @Test
  void absurdLearningRateStopsWithTheStepAndKeepsTheLastGoodCheckpoint() throws Exception {
    Path run = dir.resolve("run");
    StringWriter err = new StringWriter();
    int code = Main.run(new PrintWriter(err, true), "train", "--features", "2", "--steps", "40", "--lr", "1e30",
        "--warmup-steps", "0", "--checkpoint-every", "1", "--no-export", "--quiet", "--out", run.toString());
    assertEquals(1, code);
    assertEquals("Training diverged at step 1: the loss is NaN and the gradient norm NaN. Nothing from this step was "
        + "saved; the last good checkpoint, step 1, is untouched (start a new run with a lower --lr, or resume it with "
        + "--resume " + run + ").", err.toString().strip());
    Path good = run.resolve("checkpoints/step-00000001");
    assertTrue(Checkpoints.verify(good).isEmpty());
    assertFalse(Files.exists(run.resolve("checkpoints/step-00000002")));
    assertTrue(Double.isFinite(Checkpoints.open(good).state().emaLoss()));
  }
}
