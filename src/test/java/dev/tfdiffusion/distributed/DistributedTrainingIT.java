package dev.tfdiffusion.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfdiffusion.ChildProcess;
import dev.tfdiffusion.RunLayout;
import dev.tfdiffusion.checkpoint.Checkpoints;
import dev.tfdiffusion.train.TrainLog;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code train --workers} as users run it: two {@code worker} processes and a chief on 127.0.0.1 train with the
 * losses of a local run, and the chief writes every file; a missing worker is one sentence within the connect timeout.
 */
class DistributedTrainingIT {
  private static final String[] RUN = {"train", "--features", "4", "--steps", "12", "--warmup-steps", "3", "--seed",
      "3", "--checkpoint-every", "6", "--sample-every", "0", "--no-export", "--quiet"};

  @TempDir
  Path dir;

  private static String[] with(String... more) {
    List<String> all = new ArrayList<>(List.of(RUN));
    all.addAll(List.of(more));
    return all.toArray(new String[0]);
  }

  @Test
  void twoWorkersTrainAsOneDevice() throws Exception {
    String cluster = "127.0.0.1:" + TestCluster.freePort() + ",127.0.0.1:" + TestCluster.freePort();
    List<Process> workers = List.of(TestCluster.startWorker(dir, cluster, 0), TestCluster.startWorker(dir, cluster, 1));
    try {
      ChildProcess.Output chief = ChildProcess.run(dir, with("--workers", cluster, "--chief",
          "127.0.0.1:" + TestCluster.freePort(), "--out", "distributed"));
      assertEquals(0, chief.code(), chief.text());
    } finally {
      workers.forEach(Process::destroyForcibly);
    }
    ChildProcess.Output local = ChildProcess.run(dir, with("--out", "local"));
    assertEquals(0, local.code(), local.text());

    List<TrainLog.Row> a = TrainLog.read(dir.resolve("local").resolve(RunLayout.TRAIN_LOG));
    List<TrainLog.Row> b = TrainLog.read(dir.resolve("distributed").resolve(RunLayout.TRAIN_LOG));
    assertEquals(12, a.size());
    assertEquals(12, b.size());
    for (int i = 0; i < 12; i++) {
      assertEquals(a.get(i).loss(), b.get(i).loss(), 1e-5 * Math.abs(a.get(i).loss()), "loss at step " + i);
    }
    // the chief wrote the checkpoints and the TensorBoard events, on its own disk
    Path checkpoint = dir.resolve("distributed").resolve(RunLayout.CHECKPOINTS).resolve(Checkpoints.dirName(12));
    assertTrue(Checkpoints.verify(checkpoint).isEmpty());
    try (var events = Files.list(dir.resolve("distributed").resolve(RunLayout.TENSORBOARD))) {
      assertTrue(events.findAny().isPresent());
    }
  }

  @Test
  void aMissingWorkerIsOneSentenceWithinTheConnectTimeout() throws Exception {
    String cluster = "127.0.0.1:" + TestCluster.freePort();
    ChildProcess.Output chief = ChildProcess.run(dir, with("--workers", cluster, "--connect-timeout", "2", "--out",
        "run"));
    assertEquals(1, chief.code(), chief.text());
    assertEquals("No worker answered at task 0 (" + cluster + ") within 2 s; start each with 'worker --cluster "
        + cluster + " --task I' (or raise --connect-timeout).", chief.text().strip());
    assertTrue(Files.notExists(dir.resolve("run")), "nothing written");
  }

  /**
   * Acceptance 2 (a)-(c) and Ctrl-C on the chief, each against one uninterrupted run on the same workers (the same
   * sums in the same order, so the same losses bit for bit): a frozen worker is found at the step timeout and the run
   * goes on once it thaws; a killed worker restarted within the recovery window is waited for; a worker that does not
   * come back ends the run with one sentence, intact checkpoints and a resume that finishes; SIGTERM on the chief
   * stops with a checkpoint while the workers keep serving the next run.
   */
  @Test
  void faultsHealOrEndWithOneSentenceAndTheLossesOfAnUninterruptedRun() throws Exception {
    String[] run = {"train", "--features", "4", "--steps", "100", "--warmup-steps", "10", "--seed", "5",
        "--checkpoint-every", "10", "--sample-every", "0", "--no-export"};
    String cluster = "127.0.0.1:" + TestCluster.freePort() + ",127.0.0.1:" + TestCluster.freePort();
    String chiefAddress = "127.0.0.1:" + TestCluster.freePort();
    Process[] workers = {TestCluster.startWorker(dir, cluster, 0), TestCluster.startWorker(dir, cluster, 1)};
    String worker = "Worker task %d \\(127\\.0\\.0\\.1:\\d+\\)";
    try {
      ChildProcess.Output reference = ChildProcess.run(dir, with(run, "--workers", cluster, "--chief", chiefAddress,
          "--out", "reference", "--quiet"));
      assertEquals(0, reference.code(), reference.text());

      // (c) then (a): freeze worker 0, thaw it; kill worker 1, restart it; the run ends by itself
      Watched healed = Watched.start(dir, with(run, "--workers", cluster, "--chief", chiefAddress, "--out", "healed",
          "--step-timeout", "3", "--recover-timeout", "60"));
      awaitCheckpoint(healed, "healed", 10);
      signal("STOP", workers[0]);
      long frozenAt = System.nanoTime();
      try {
        healed.await(String.format(worker, 0) + " stopped answering at step \\d+; waiting up to 60 s for it to "
            + "answer again\\.", 60);
        double seconds = (System.nanoTime() - frozenAt) / 1e9;
        // the step timeout (3 s), then the probes (at most 5 s for the frozen task)
        assertTrue(seconds < 20, "found after " + seconds + " s");
      } finally {
        signal("CONT", workers[0]);
      }
      healed.await("Every worker answers again; .*", 60);
      awaitCheckpoint(healed, "healed", 60);
      workers[1].destroyForcibly().waitFor();
      healed.await(String.format(worker, 1) + " was lost at step \\d+; waiting up to 60 s for it to answer "
          + "again\\.", 60);
      workers[1] = TestCluster.startWorker(dir, cluster, 1);
      healed.await("Every worker answers again; .*", 60);
      assertEquals(0, healed.exit(), healed.text());
      assertSameLosses("reference", "healed", healed.text());

      // (b): a worker that does not come back within the window; then resume, stop the chief, resume again
      Watched lost = Watched.start(dir, with(run, "--workers", cluster, "--chief", chiefAddress, "--out", "lost",
          "--recover-timeout", "2", "--quiet"));
      awaitCheckpoint(lost, "lost", 10);
      workers[1].destroyForcibly().waitFor();
      assertEquals(1, lost.exit(), lost.text());
      assertTrue(lost.lastLine().matches(String.format(worker, 1) + " was lost at step \\d+ and did not answer "
          + "again within 2 s; the newest checkpoint, step \\d+, is intact: restart the worker, then continue "
          + "with 'train --resume lost' and the same --workers\\."), lost.text());
      for (Path d : Files.list(dir.resolve("lost").resolve(RunLayout.CHECKPOINTS)).toList()) {
        assertTrue(Checkpoints.verify(d).isEmpty(), d + " is damaged");
      }
      workers[1] = TestCluster.startWorker(dir, cluster, 1);
      String[] resume = {"train", "--resume", "lost", "--workers", cluster, "--chief", chiefAddress, "--no-export"};
      Watched stopped = Watched.start(dir, resume);
      long newest = new Checkpoints(dir.resolve("lost"), 0).latest(w -> {}).orElseThrow().state().step();
      awaitCheckpoint(stopped, "lost", newest + 10);
      signal("TERM", stopped.process());
      assertEquals(143, stopped.exit(), stopped.text());
      assertTrue(stopped.lastLine().startsWith("Stopped after step "), stopped.text());
      ChildProcess.Output finished = ChildProcess.run(dir, resume);
      assertEquals(0, finished.code(), finished.text());
      assertSameLosses("reference", "lost", lost.text() + stopped.text() + finished.text());
    } finally {
      for (Process w : workers) {
        signal("CONT", w);
        w.destroyForcibly();
      }
    }
  }

  private static String[] with(String[] run, String... more) {
    List<String> all = new ArrayList<>(List.of(run));
    all.addAll(List.of(more));
    return all.toArray(new String[0]);
  }

  private void awaitCheckpoint(Watched chief, String runDir, long step) throws InterruptedException {
    Path checkpoint = dir.resolve(runDir).resolve(RunLayout.CHECKPOINTS).resolve(Checkpoints.dirName(step));
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
    while (!Files.isDirectory(checkpoint)) {
      assertTrue(chief.process().isAlive() && System.nanoTime() < deadline, "no checkpoint " + step + ": "
          + chief.text());
      Thread.sleep(5);
    }
  }

  private static void signal(String name, Process p) throws Exception {
    new ProcessBuilder("kill", "-" + name, Long.toString(p.pid())).start().waitFor();
  }

  private void assertSameLosses(String expected, String actual, String output) throws Exception {
    List<TrainLog.Row> a = TrainLog.read(dir.resolve(expected).resolve(RunLayout.TRAIN_LOG));
    List<TrainLog.Row> b = TrainLog.read(dir.resolve(actual).resolve(RunLayout.TRAIN_LOG));
    assertEquals(a.size(), b.size(), actual);
    for (int i = 0; i < a.size(); i++) {
      assertEquals(i, b.get(i).step(), actual);
      assertEquals(a.get(i).loss(), b.get(i).loss(), 0.0, actual + ": loss at step " + i + "; its output:\n" + output);
    }
  }

  /** A child process whose output lines are collected as they come, to wait for one. */
  private record Watched(Process process, BlockingQueue<String> lines, StringBuffer all) {
    static Watched start(Path dir, String... args) throws Exception {
      Process p = ChildProcess.builder(dir, args).start();
      Watched w = new Watched(p, new LinkedBlockingQueue<>(), new StringBuffer());
      Thread reader = new Thread(() -> {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(),
            StandardCharsets.UTF_8))) {
          for (String line = in.readLine(); line != null; line = in.readLine()) {
            w.all.append(line).append('\n');
            w.lines.add(line);
          }
        } catch (IOException e) {
          // the process ended
        }
      });
      reader.setDaemon(true);
      reader.start();
      return w;
    }

    /** Waits for a line that matches {@code regex}, skipping the lines before it. */
    String await(String regex, int seconds) throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
      while (System.nanoTime() < deadline) {
        String line = lines.poll(100, TimeUnit.MILLISECONDS);
        if (line != null && line.matches(regex)) {
          return line;
        }
      }
      throw new AssertionError("no line matching " + regex + " within " + seconds + " s in:\n" + all);
    }

    int exit() throws InterruptedException {
      if (!process.waitFor(3, TimeUnit.MINUTES)) {
        process.destroyForcibly();
        throw new AssertionError("did not end: " + all);
      }
      Thread.sleep(200); // the reader's last lines
      return process.exitValue();
    }

    String text() {
      return all.toString();
    }

    /** TensorFlow's own log lines may come first; ours is the last. */
    String lastLine() {
      return all.toString().strip().lines().reduce((a, b) -> b).orElse("");
    }
  }
}
