package dev.tfdiffusion.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfdiffusion.RunLayout;
import dev.tfdiffusion.config.TrainConfig;
import dev.tfdiffusion.checkpoint.Checkpoints;
import dev.tfdiffusion.train.TrainLog;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The acceptance run, {@code train --features 8 --steps 200 --out DIR}, end to end through the CLI: outputs present
 * and valid, the loss falling, identical losses for the same seed, and stop + resume equal to the uninterrupted run.
 */
class TrainRunTest {
  private static final String[] RUN = {"train", "--features", "8", "--steps", "200", "--checkpoint-every", "100",
      "--quiet", "--no-export"};

  @TempDir
  static Path dir;
  static Path first;

  @BeforeAll
  static void trainOnce() {
    first = dir.resolve("first");
    assertEquals(0, Main.run(with(RUN, "--out", first.toString())));
  }

  static String[] with(String[] base, String... more) {
    String[] all = java.util.Arrays.copyOf(base, base.length + more.length);
    System.arraycopy(more, 0, all, base.length, more.length);
    return all;
  }

  static List<TrainLog.Row> log(Path run) throws IOException {
    return TrainLog.read(run.resolve(RunLayout.TRAIN_LOG));
  }

  static double[] losses(Path run) throws IOException {
    return log(run).stream().mapToDouble(TrainLog.Row::loss).toArray();
  }

  @Test
  void everyOutputIsPresentAndValid() throws IOException {
    TrainConfig config = TrainConfig.read(first.resolve("config.json"));
    assertEquals(8, config.features());
    assertEquals(200, config.steps());
    assertEquals("quick", config.preset());

    List<TrainLog.Row> rows = log(first);
    assertEquals(200, rows.size());
    for (int i = 0; i < rows.size(); i++) {
      TrainLog.Row r = rows.get(i);
      assertEquals(i, r.step());
      assertTrue(Double.isFinite(r.loss()) && r.loss() > 0, "loss at step " + i);
      assertEquals(r.mainLoss() + r.penalty(), r.loss(), 1e-6 * r.loss(), "loss = main + penalty at " + i);
      assertTrue(r.penalty() > 0, "penalty at " + i);
      assertTrue(r.gradNorm() > 0);
    }
    assertEquals(0.0, rows.get(0).learningRate(), "warm-up starts at 0");
    assertEquals(1e-3 * 0.01, rows.get(199).learningRate(), 1e-4 * 1e-3, "cosine ends near 1% of the peak");

    BufferedImage loss = ImageIO.read(first.resolve("loss.png").toFile());
    assertNotNull(loss);
    assertEquals(1000, loss.getWidth());
    BufferedImage images = ImageIO.read(first.resolve("training_images.png").toFile());
    assertNotNull(images);
    assertTrue(images.getWidth() > 250);

    Checkpoints checkpoints = new Checkpoints(first, 3);
    Checkpoints.Checkpoint latest = checkpoints.latest(w -> {
      throw new AssertionError(w);
    }).orElseThrow();
    assertEquals(200, latest.state().step());
    assertEquals(rows.get(199).emaLoss(), latest.state().emaLoss());
    assertTrue(Files.isDirectory(first.resolve("checkpoints/step-00000100")));
  }

  @Test
  void emaLossFalls() throws IOException {
    List<TrainLog.Row> rows = log(first);
    double start = rows.get(0).emaLoss();
    double end = rows.get(199).emaLoss();
    assertTrue(end < 0.75 * start, "EMA loss went from " + start + " to " + end);
    // and keeps falling in the second half, not just once
    assertTrue(end < rows.get(100).emaLoss());
  }

  @Test
  void sameSeedGivesIdenticalLossesAndOtherSeedsDoNot() throws IOException {
    // the second run starts from the first one's config.json: the same seed, and a reproduced run
    Path again = dir.resolve("again");
    assertEquals(0, Main.run("train", "--config", first.resolve("config.json").toString(), "--quiet", "--no-export",
        "--out", again.toString()));
    assertArrayEqualsExactly(losses(first), losses(again));
    assertEquals(TrainConfig.read(first.resolve("config.json")), TrainConfig.read(again.resolve("config.json")));

    Path other = dir.resolve("other-seed");
    assertEquals(0, Main.run("train", "--features", "8", "--steps", "3", "--seed", "7", "--quiet", "--no-export",
        "--out", other.toString()));
    assertNotEquals(losses(first)[0], losses(other)[0]);
  }

  @Test
  void stopAndResumeGivesTheUninterruptedLosses() throws IOException {
    Path split = dir.resolve("split");
    assertEquals(0, Main.run(with(RUN, "--out", split.toString(), "--stop-after", "70")));
    assertEquals(70, log(split).size());
    assertTrue(Files.isDirectory(split.resolve("checkpoints/step-00000070")));
    assertEquals(0, Main.run("train", "--resume", split.toString(), "--quiet", "--no-export"));
    assertArrayEqualsExactly(losses(first), losses(split));
    double[] emaFirst = log(first).stream().mapToDouble(TrainLog.Row::emaLoss).toArray();
    double[] emaSplit = log(split).stream().mapToDouble(TrainLog.Row::emaLoss).toArray();
    assertArrayEqualsExactly(emaFirst, emaSplit);
  }

  private static void assertArrayEqualsExactly(double[] expected, double[] actual) {
    assertEquals(expected.length, actual.length);
    for (int i = 0; i < expected.length; i++) {
      assertEquals(Double.doubleToLongBits(expected[i]), Double.doubleToLongBits(actual[i]),
          "step " + i + ": " + expected[i] + " vs " + actual[i]);
    }
  }
}
