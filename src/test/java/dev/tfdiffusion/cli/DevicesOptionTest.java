package dev.tfdiffusion.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfdiffusion.RunLayout;
import dev.tfdiffusion.train.TrainLog;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code train --devices N} as users run it: the same losses as one device, a run that moves between layouts at a
 * checkpoint, and impossible values refused before anything is written.
 */
class DevicesOptionTest {
  private static final String[] RUN = {"train", "--features", "8", "--steps", "30", "--warmup-steps", "5", "--seed",
      "3", "--checkpoint-every", "10", "--sample-every", "0", "--no-export", "--quiet"};

  @TempDir
  Path dir;

  private static int train(String... more) {
    String[] args = new String[RUN.length + more.length];
    System.arraycopy(RUN, 0, args, 0, RUN.length);
    System.arraycopy(more, 0, args, RUN.length, more.length);
    return Main.run(args);
  }

  private static void assertSameLosses(Path expected, Path actual) throws Exception {
    List<TrainLog.Row> a = TrainLog.read(expected.resolve(RunLayout.TRAIN_LOG));
    List<TrainLog.Row> b = TrainLog.read(actual.resolve(RunLayout.TRAIN_LOG));
    assertEquals(30, a.size());
    assertEquals(30, b.size());
    for (int i = 0; i < a.size(); i++) {
      assertEquals(i, b.get(i).step());
      assertEquals(a.get(i).loss(), b.get(i).loss(), 1e-5 * Math.abs(a.get(i).loss()), "loss at step " + i);
    }
  }

  @Test
  void twoDevicesTrainAsOneAndARunMovesBetweenLayouts() throws Exception {
    Path one = dir.resolve("one");
    Path two = dir.resolve("two");
    Path moved = dir.resolve("moved");
    assertEquals(0, train("--devices", "1", "--out", one.toString()));
    assertEquals(0, train("--devices", "2", "--out", two.toString()));
    assertSameLosses(one, two);
    // two devices for 10 steps, then one from the checkpoint
    assertEquals(0, train("--devices", "2", "--stop-after", "10", "--out", moved.toString()));
    assertEquals(0, Main.run("train", "--resume", moved.toString(), "--devices", "1", "--quiet", "--no-export"));
    assertSameLosses(one, moved);
  }

  @Test
  void impossibleDeviceCountsWriteNothing() {
    for (String[] bad : List.of(new String[] {"0", "Invalid value for option '--devices': expected a positive number "
        + "or auto, got '0'."}, new String[] {"200", "--devices 200 is more than the 172 images of a step; use at "
        + "most 172."})) {
      StringWriter err = new StringWriter();
      int code = Main.run(new PrintWriter(err, true), "train", "--devices", bad[0], "--out",
          dir.resolve("r").toString());
      assertEquals(2, code);
      assertTrue(err.toString().startsWith(bad[1]), err.toString());
      assertTrue(Files.notExists(dir.resolve("r")));
    }
  }
}
