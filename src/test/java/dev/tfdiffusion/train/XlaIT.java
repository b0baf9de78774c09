package dev.tfdiffusion.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfdiffusion.ChildProcess;
import dev.tfdiffusion.RunLayout;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * XLA's global JIT needs its environment before TensorFlow starts, so this runs child processes: the same three
 * training steps with --xla on and off. XLA's own dump ({@code XLA_FLAGS=--xla_dump_to}) shows that the --xla on child
 * compiled clusters, among them the U-Net's convolutions, and that the --xla off child compiled nothing; the losses
 * must agree to 1e-6 relative. Measured on the 2-core CPU host (features 4, 8, 16, seeds 0..2, 3 steps each): at most
 * 4.2e-7 relative, 1 to 4 float32 roundings of a loss near 0.8, so the 1e-7 once claimed does not hold.
 */
class XlaIT {
  private static final double LOSS_TOLERANCE = 1e-6;

  @TempDir
  Path dir;

  private ChildProcess.Output train(String mode, Path dump) throws IOException, InterruptedException {
    ProcessBuilder pb = ChildProcess.builder(dir, "train", "--features", "4", "--steps", "3", "--no-export",
        "--quiet", "--xla", mode, "--out", dir.resolve(mode).toString());
    pb.environment().put("XLA_FLAGS", "--xla_dump_to=" + dump);
    Process p = pb.start();
    String text = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(10, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new AssertionError("timed out: --xla " + mode);
    }
    return new ChildProcess.Output(p.exitValue(), text);
  }

  /** The HLO modules XLA compiled from TensorFlow clusters, as dumped before XLA's own optimisations. */
  private static List<Path> compiledClusters(Path dump) throws IOException {
    if (!Files.isDirectory(dump)) {
      return List.of();
    }
    try (Stream<Path> files = Files.list(dump)) {
      return files.filter(f -> {
        String name = f.getFileName().toString();
        return name.contains("XlaCompiledKernel_true") && name.endsWith(".before_optimizations.txt");
      }).sorted().toList();
    }
  }

  @Test
  void xlaCompilesTheStepAndTheLossesAgree() throws Exception {
    for (String mode : List.of("on", "off")) {
      ChildProcess.Output o = train(mode, dir.resolve("dump-" + mode));
      assertEquals(0, o.code(), o.text());
    }

    List<Path> on = compiledClusters(dir.resolve("dump-on"));
    assertTrue(!on.isEmpty(), "--xla on compiled no cluster");
    long convolutions = 0;
    for (Path module : on) {
      convolutions += Files.readAllLines(module).stream().filter(l -> l.contains(" convolution(")).count();
    }
    System.out.println("--xla on: " + on.size() + " compiled clusters, " + convolutions + " convolutions in them");
    assertTrue(convolutions > 0, "no compiled cluster contains the U-Net's convolutions: " + on);
    Path off = dir.resolve("dump-off");
    try (Stream<Path> files = Files.isDirectory(off) ? Files.list(off) : Stream.empty()) {
      assertEquals(List.of(), files.toList(), "--xla off compiled with XLA");
    }

    List<TrainLog.Row> xla = TrainLog.read(dir.resolve("on").resolve(RunLayout.TRAIN_LOG));
    List<TrainLog.Row> plain = TrainLog.read(dir.resolve("off").resolve(RunLayout.TRAIN_LOG));
    assertEquals(3, xla.size());
    assertEquals(3, plain.size());
    for (int i = 0; i < 3; i++) {
      double a = xla.get(i).loss();
      double b = plain.get(i).loss();
      double relative = Math.abs(a - b) / Math.abs(b);
      System.out.printf("step %d: loss %s (XLA) vs %s, relative difference %.2e%n", i, a, b, relative);
      assertTrue(relative <= LOSS_TOLERANCE, "step " + i + ": " + a + " (XLA) vs " + b + ", relative " + relative);
      assertEquals(plain.get(i).learningRate(), xla.get(i).learningRate());
    }
  }
}
