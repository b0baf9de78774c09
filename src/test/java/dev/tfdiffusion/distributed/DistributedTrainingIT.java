package dev.tfdiffusion.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfdiffusion.ChildProcess;
import dev.tfdiffusion.RunLayout;
import dev.tfdiffusion.checkpoint.Checkpoints;
import dev.tfdiffusion.train.TrainLog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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

  @Test
  void aWorkerLostMidRunIsOneSentenceAndTheRunResumesWithTheSameLosses() throws Exception {
    String[] run = {"train", "--features", "4", "--steps", "300", "--warmup-steps", "30", "--seed", "5",
        "--checkpoint-every", "10", "--sample-every", "0", "--no-export", "--quiet"};
    String cluster = "127.0.0.1:" + TestCluster.freePort() + ",127.0.0.1:" + TestCluster.freePort();
    String chiefAddress = "127.0.0.1:" + TestCluster.freePort();
    Process w0 = TestCluster.startWorker(dir, cluster, 0);
    Process w1 = TestCluster.startWorker(dir, cluster, 1);
    try {
      List<String> args = new ArrayList<>(List.of(run));
      args.addAll(List.of("--workers", cluster, "--chief", chiefAddress, "--out", "run"));
      Process chief = ChildProcess.builder(dir, args.toArray(new String[0])).start();
      Path first = dir.resolve("run").resolve(RunLayout.CHECKPOINTS).resolve(Checkpoints.dirName(10));
      long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.MINUTES.toNanos(3);
      while (!Files.isDirectory(first)) {
        assertTrue(chief.isAlive() && System.nanoTime() < deadline, "no checkpoint 10");
        Thread.sleep(5);
      }
      w1.destroyForcibly().waitFor();
      String text = new String(chief.getInputStream().readAllBytes());
      assertTrue(chief.waitFor(2, java.util.concurrent.TimeUnit.MINUTES));
      assertEquals(1, chief.exitValue(), text);
      // TensorFlow's own log lines may come first; ours is the last
      String line = text.strip().lines().reduce((a, b) -> b).orElse("");
      assertTrue(line.matches("Worker task 1 \\(127\\.0\\.0\\.1:\\d+\\) was lost at step \\d+; the newest "
          + "checkpoint, step \\d+, is intact: restart the worker, then continue with 'train --resume run' and the "
          + "same --workers\\."), text);
      for (Path d : Files.list(dir.resolve("run").resolve(RunLayout.CHECKPOINTS)).toList()) {
        assertTrue(Checkpoints.verify(d).isEmpty(), d + " is damaged");
      }

      w1 = TestCluster.startWorker(dir, cluster, 1);
      ChildProcess.Output resumed = ChildProcess.run(dir, "train", "--resume", "run", "--workers", cluster, "--chief",
          chiefAddress, "--no-export", "--quiet");
      assertEquals(0, resumed.code(), resumed.text());
      // the uninterrupted run on the same workers: the same sums in the same order, so the same losses
      List<String> reference = new ArrayList<>(List.of(run));
      reference.addAll(List.of("--workers", cluster, "--chief", chiefAddress, "--out", "reference"));
      ChildProcess.Output uninterrupted = ChildProcess.run(dir, reference.toArray(new String[0]));
      assertEquals(0, uninterrupted.code(), uninterrupted.text());
    } finally {
      w0.destroyForcibly();
      w1.destroyForcibly();
    }
    List<TrainLog.Row> a = TrainLog.read(dir.resolve("reference").resolve(RunLayout.TRAIN_LOG));
    List<TrainLog.Row> b = TrainLog.read(dir.resolve("run").resolve(RunLayout.TRAIN_LOG));
    assertEquals(300, b.size());
    for (int i = 0; i < 300; i++) {
      assertEquals(i, b.get(i).step());
      assertEquals(a.get(i).loss(), b.get(i).loss(), 0.0, "loss at step " + i);
    }
  }
}
