package dev.tfdiffusion.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfdiffusion.ChildProcess;
import dev.tfdiffusion.RunLayout;
import dev.tfdiffusion.checkpoint.Checkpoints;
import dev.tfdiffusion.util.FileTrees;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Nothing lost: a child {@code java -jar ... train} is killed with SIGKILL at moments taken from its own progress
 * (just after a checkpoint is complete, while the next one is half written, between two steps), resumed each time,
 * and must start each resume from the newest complete checkpoint, at once (no stale lock), and finish with no damaged
 * checkpoint and exactly the losses and weights of an uninterrupted run.
 */
class KillResumeIT {
  private static final int STEPS = 60;
  private static final int EVERY = 4;
  private static final String[] RUN = {"train", "--features", "4", "--steps", Integer.toString(STEPS),
      "--checkpoint-every", Integer.toString(EVERY), "--keep-checkpoints", "2", "--no-export", "--log-every", "1"};
  private static final Pattern RESUMING = Pattern.compile("resuming at step (\\d+)");
  private static final Pattern STEP_LINE = Pattern.compile("(?m)^Step (\\d+), Loss");

  /** Where in the child's progress a kill lands. */
  private enum Moment { AFTER_CHECKPOINT, DURING_CHECKPOINT, BETWEEN_STEPS }

  private static final List<Moment> KILLS = List.of(Moment.AFTER_CHECKPOINT, Moment.BETWEEN_STEPS,
      Moment.DURING_CHECKPOINT, Moment.AFTER_CHECKPOINT, Moment.BETWEEN_STEPS, Moment.DURING_CHECKPOINT);

  @TempDir
  Path dir;

  private Process start(Path log, boolean pauseInCheckpoint, String... args) throws IOException {
    ProcessBuilder pb = ChildProcess.builder(dir, args).redirectOutput(log.toFile());
    if (pauseInCheckpoint) {
      pb.environment().put(Checkpoints.PAUSE_ENV, "4000");
    }
    return pb.start();
  }

  private static String[] with(String... more) {
    List<String> all = new ArrayList<>(List.of(RUN));
    all.addAll(List.of(more));
    return all.toArray(new String[0]);
  }

  private static List<Path> stepFolders(Path run) throws IOException {
    Path root = run.resolve("checkpoints");
    if (!Files.isDirectory(root)) {
      return List.of();
    }
    try (Stream<Path> dirs = Files.list(root)) {
      return dirs.filter(p -> p.getFileName().toString().startsWith("step-")).sorted().toList();
    }
  }

  private static boolean halfWritten(Path run) throws IOException {
    Path root = run.resolve("checkpoints");
    if (!Files.isDirectory(root)) {
      return false;
    }
    try (Stream<Path> dirs = Files.list(root)) {
      return dirs.anyMatch(p -> p.getFileName().toString().startsWith(".tmp-step-"));
    }
  }

  /** The newest checkpoint that passes its checks, after asserting that none is damaged. */
  private static long newestGoodStep(Path run) throws IOException {
    long newest = 0;
    for (Path d : stepFolders(run)) {
      Optional<String> problem = Checkpoints.verify(d);
      assertTrue(problem.isEmpty(), d + ": " + problem.orElse(""));
      newest = Math.max(newest, Long.parseLong(d.getFileName().toString().substring(5)));
    }
    return newest;
  }

  private static long lastLoggedStep(Path log) throws IOException {
    Matcher m = STEP_LINE.matcher(Files.readString(log));
    long last = -1;
    while (m.find()) {
      last = Long.parseLong(m.group(1));
    }
    return last;
  }

  private static void await(Process p, BooleanSupplier condition, String what) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
    while (!condition.getAsBoolean()) {
      assertTrue(p.isAlive(), "the child ended before " + what);
      assertTrue(System.nanoTime() < deadline, "timed out waiting for " + what);
      Thread.sleep(2);
    }
  }

  private static BooleanSupplier io(IoCheck check) {
    return () -> {
      try {
        return check.test();
      } catch (IOException e) {
        return false;
      }
    };
  }

  private interface IoCheck {
    boolean test() throws IOException;
  }

  @Test
  void killedAndResumedRunEqualsTheUninterruptedOne() throws Exception {
    Process reference = start(dir.resolve("reference.log"), false, with("--out", "reference"));
    assertTrue(reference.waitFor(10, TimeUnit.MINUTES));
    assertEquals(0, reference.exitValue(), Files.readString(dir.resolve("reference.log")));

    Path run = dir.resolve("run");
    List<Long> resumedFrom = new ArrayList<>();
    int killedMidCheckpoint = 0;
    long expectedStart = 0;
    for (int launch = 0; launch <= KILLS.size(); launch++) {
      Moment moment = launch < KILLS.size() ? KILLS.get(launch) : null;
      Path log = dir.resolve("launch-" + launch + ".log");
      boolean pause = moment == Moment.DURING_CHECKPOINT;
      Process p = launch == 0 ? start(log, pause, with("--out", "run"))
          : start(log, pause, "train", "--resume", "run", "--no-export");
      if (launch > 0) {
        await(p, io(() -> RESUMING.matcher(Files.readString(log)).find()), "the resume line");
        Matcher m = RESUMING.matcher(Files.readString(log));
        assertTrue(m.find());
        resumedFrom.add(Long.parseLong(m.group(1)));
        assertEquals(expectedStart, resumedFrom.get(resumedFrom.size() - 1),
            "launch " + launch + " must resume from the newest complete checkpoint");
      }
      if (moment == null) {
        assertTrue(p.waitFor(10, TimeUnit.MINUTES));
        assertEquals(0, p.exitValue(), Files.readString(log));
        break;
      }
      long start = expectedStart;
      long next = (start / EVERY + 1) * EVERY; // the first checkpoint this launch writes
      switch (moment) {
        case AFTER_CHECKPOINT -> await(p, () -> Files.isDirectory(run.resolve("checkpoints")
            .resolve(Checkpoints.dirName(next))), "checkpoint " + next);
        case DURING_CHECKPOINT -> await(p, io(() -> halfWritten(run)), "a half-written checkpoint");
        case BETWEEN_STEPS -> await(p, io(() -> lastLoggedStep(log) >= start + 1), "step " + (start + 1));
      }
      p.destroyForcibly(); // SIGKILL: no shutdown hook, no final checkpoint, the lock dies with the process
      p.waitFor();
      if (moment == Moment.DURING_CHECKPOINT && halfWritten(run)) {
        killedMidCheckpoint++;
      }
      expectedStart = newestGoodStep(run);
    }
    assertEquals(KILLS.size(), resumedFrom.size());
    assertTrue(resumedFrom.stream().filter(s -> s > 0).count() >= 4, "resumed from " + resumedFrom);
    assertTrue(killedMidCheckpoint >= 1, "no kill landed while a checkpoint was being written");
    assertFalse(halfWritten(run), "the resumed run removes what a killed checkpoint left");
    newestGoodStep(run);

    List<TrainLog.Row> expected = TrainLog.read(dir.resolve("reference").resolve(RunLayout.TRAIN_LOG));
    List<TrainLog.Row> actual = TrainLog.read(run.resolve(RunLayout.TRAIN_LOG));
    assertEquals(STEPS, expected.size());
    assertEquals(expected.size(), actual.size());
    for (int i = 0; i < expected.size(); i++) {
      assertEquals(expected.get(i).step(), actual.get(i).step());
      assertEquals(expected.get(i).loss(), actual.get(i).loss(), 0.0, "loss at step " + i);
      assertEquals(expected.get(i).emaLoss(), actual.get(i).emaLoss(), 0.0, "EMA loss at step " + i);
    }
    // the final weights, optimizer state and weight average: the same bytes
    Path last = Path.of("checkpoints", Checkpoints.dirName(STEPS), "ckpt.data-00000-of-00001");
    assertEquals(FileTrees.sha256(dir.resolve("reference").resolve(last)), FileTrees.sha256(run.resolve(last)));
  }
}
