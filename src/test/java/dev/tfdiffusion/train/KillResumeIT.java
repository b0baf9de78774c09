package dev.tfdiffusion.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfdiffusion.ChildProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Nothing lost: a child {@code java -jar ... train} is killed with SIGKILL at random moments, resumed each time, and
 * must finish with no damaged checkpoint and exactly the losses and weights of an uninterrupted run.
 */
class KillResumeIT {
  private static final String[] RUN = {"train", "--features", "4", "--steps", "60", "--checkpoint-every", "4",
      "--keep-checkpoints", "2", "--no-export", "--quiet"};
  private static final int KILLS = 6;

  @TempDir
  Path dir;

  private Process start(String... args) throws IOException {
    return ChildProcess.builder(dir, args).redirectOutput(dir.resolve("child.log").toFile()).start();
  }

  private static String[] with(String... more) {
    List<String> all = new ArrayList<>(List.of(RUN));
    all.addAll(List.of(more));
    return all.toArray(new String[0]);
  }

  private static void assertNoDamagedCheckpoint(Path run) throws IOException {
    Path root = run.resolve("checkpoints");
    if (!Files.isDirectory(root)) {
      return;
    }
    try (Stream<Path> dirs = Files.list(root)) {
      for (Path d : dirs.filter(p -> p.getFileName().toString().startsWith("step-")).toList()) {
        Optional<String> problem = Checkpoints.verify(d);
        assertTrue(problem.isEmpty(), d + ": " + problem.orElse(""));
      }
    }
  }

  @Test
  void killedAndResumedRunEqualsTheUninterruptedOne() throws Exception {
    Process reference = start(with("--out", "reference"));
    assertTrue(reference.waitFor(10, TimeUnit.MINUTES));
    assertEquals(0, reference.exitValue(), Files.readString(dir.resolve("child.log")));

    Path run = dir.resolve("run");
    Random moments = new Random(20261128);
    int kills = 0;
    int launches = 0;
    while (true) {
      boolean resume = Files.exists(run.resolve("config.json"));
      Process p = resume ? start("train", "--resume", "run", "--quiet", "--no-export") : start(with("--out", "run"));
      launches++;
      if (kills < KILLS) {
        long delayMs = 2000 + moments.nextInt(12_000);
        if (!p.waitFor(delayMs, TimeUnit.MILLISECONDS)) {
          p.destroyForcibly(); // SIGKILL: no shutdown hook, no final checkpoint
          p.waitFor();
          kills++;
          assertNoDamagedCheckpoint(run);
          continue;
        }
      } else {
        assertTrue(p.waitFor(10, TimeUnit.MINUTES));
      }
      assertEquals(0, p.exitValue(), Files.readString(dir.resolve("child.log")));
      if (kills >= KILLS) {
        break;
      }
    }
    assertTrue(launches > KILLS);
    assertNoDamagedCheckpoint(run);

    List<TrainLog.Row> expected = TrainLog.read(dir.resolve("reference").resolve(TrainLog.FILE));
    List<TrainLog.Row> actual = TrainLog.read(run.resolve(TrainLog.FILE));
    assertEquals(60, expected.size());
    assertEquals(expected.size(), actual.size());
    for (int i = 0; i < expected.size(); i++) {
      assertEquals(expected.get(i).step(), actual.get(i).step());
      assertEquals(expected.get(i).loss(), actual.get(i).loss(), 0.0, "loss at step " + i);
      assertEquals(expected.get(i).emaLoss(), actual.get(i).emaLoss(), 0.0, "EMA loss at step " + i);
    }
    // the final weights, optimizer state and weight average: the same bytes
    Path last = Path.of("checkpoints", "step-00000060", "ckpt.data-00000-of-00001");
    assertEquals(Checkpoints.sha256(dir.resolve("reference").resolve(last)), Checkpoints.sha256(run.resolve(last)));
  }
}
