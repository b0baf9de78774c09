package dev.tfdiffusion.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfdiffusion.ChildProcess;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * XLA's global JIT needs its environment before TensorFlow starts, so this runs child processes: the same three
 * training steps with --xla on and off must give the same losses up to float32 rounding of a different kernel order.
 */
class XlaIT {
  @TempDir
  Path dir;

  @Test
  void xlaAndPlainStepsAgree() throws Exception {
    for (String mode : List.of("on", "off")) {
      ChildProcess.Output o = ChildProcess.run(dir, "train", "--features", "4", "--steps", "3", "--no-export",
          "--quiet", "--xla", mode, "--out", dir.resolve(mode).toString());
      assertEquals(0, o.code(), o.text());
    }
    List<TrainLog.Row> on = TrainLog.read(dir.resolve("on").resolve(TrainLog.FILE));
    List<TrainLog.Row> off = TrainLog.read(dir.resolve("off").resolve(TrainLog.FILE));
    assertEquals(3, on.size());
    for (int i = 0; i < 3; i++) {
      double a = on.get(i).loss();
      double b = off.get(i).loss();
      assertTrue(Math.abs(a - b) <= 1e-4 * Math.abs(b), "step " + i + ": " + a + " (XLA) vs " + b);
      assertEquals(off.get(i).learningRate(), on.get(i).learningRate());
    }
  }
}
