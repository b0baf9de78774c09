package dev.tfdiffusion.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfdiffusion.ChildProcess;
import dev.tfdiffusion.RunLayout;
import dev.tfdiffusion.checkpoint.Checkpoints;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * README's "Nothing lost" table, first row: Ctrl-C (SIGINT) or SIGTERM during a child {@code train} lets the current
 * step finish, writes a checkpoint that holds exactly the logged steps, says how to resume, and exits 130 / 143.
 */
class InterruptIT {
  /** Far more steps than the test waits for, and no periodic checkpoint: the only one is the interrupt's. */
  private static final String[] RUN = {"train", "--features", "4", "--steps", "100000", "--checkpoint-every",
      "100000", "--log-every", "1", "--no-export", "--out", "run"};

  @TempDir
  Path dir;

  /** The child's output, read as it comes; {@code firstStep} opens when the first step's log line appears. */
  private static final class Output {
    final StringBuffer text = new StringBuffer();
    final CountDownLatch firstStep = new CountDownLatch(1);
    final Thread reader;

    Output(Process p) {
      reader = new Thread(() -> {
        try (BufferedReader in = new BufferedReader(
            new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
          String line;
          while ((line = in.readLine()) != null) {
            text.append(line).append('\n');
            if (line.startsWith("Step ")) {
              firstStep.countDown();
            }
          }
        } catch (IOException e) {
          text.append("[reading the output failed: ").append(e).append("]\n");
        }
      }, "child-output");
      reader.setDaemon(true);
      reader.start();
    }
  }

  @Test
  void sigtermCheckpointsAndExits143() throws Exception {
    // SIGTERM through the process handle: Process.destroy() sends it too, but also closes the child's output,
    // which the test still has to read
    interruptAndCheck(p -> assertTrue(p.toHandle().destroy()), 143);
  }

  @Test
  void sigintCheckpointsAndExits130() throws Exception {
    interruptAndCheck(p -> {
      // a child started with SIGINT ignored (a background job of a non-interactive shell) keeps it ignored, and so
      // does the JVM: Ctrl-C cannot reach such a process, so there is nothing to test
      Assumptions.assumeFalse(ignores(p.pid(), 2), "SIGINT is ignored in this environment");
      Process kill = new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).redirectErrorStream(true).start();
      assertTrue(kill.waitFor(30, TimeUnit.SECONDS));
      assertEquals(0, kill.exitValue(), new String(kill.getInputStream().readAllBytes()));
    }, 130);
  }

  private interface Signal {
    void send(Process p) throws Exception;
  }

  private void interruptAndCheck(Signal signal, int expectedCode) throws Exception {
    Process p = ChildProcess.builder(dir, RUN).start();
    Output output = new Output(p);
    try {
      assertTrue(output.firstStep.await(10, TimeUnit.MINUTES), "no step logged:\n" + output.text);
      assertTrue(p.isAlive(), "the child ended early:\n" + output.text);
      signal.send(p);
      assertTrue(p.waitFor(3, TimeUnit.MINUTES), "the child did not stop:\n" + output.text);
    } finally {
      if (p.isAlive()) {
        p.destroyForcibly();
        p.waitFor();
      }
    }
    output.reader.join(TimeUnit.SECONDS.toMillis(30));
    String text = output.text.toString();

    assertEquals(expectedCode, p.exitValue(), text);

    Path run = dir.resolve("run");
    List<TrainLog.Row> rows = TrainLog.read(run.resolve(RunLayout.TRAIN_LOG));
    assertTrue(rows.size() >= 1, text);
    for (int i = 0; i < rows.size(); i++) {
      assertEquals(i, rows.get(i).step(), "log row " + i);
    }
    List<Path> checkpoints;
    try (Stream<Path> s = Files.list(run.resolve("checkpoints"))) {
      checkpoints = s.sorted().toList();
    }
    // one checkpoint (no hidden leftovers), at the step after the last logged one
    assertEquals(1, checkpoints.size(), checkpoints.toString());
    Path checkpoint = checkpoints.get(0);
    assertEquals(Checkpoints.dirName(rows.size()), checkpoint.getFileName().toString());
    Optional<String> problem = Checkpoints.verify(checkpoint);
    assertTrue(problem.isEmpty(), checkpoint + ": " + problem.orElse(""));
    Checkpoints.State state = Checkpoints.readState(checkpoint);
    assertEquals(rows.size(), state.step());
    assertEquals(rows.get(rows.size() - 1).emaLoss(), state.emaLoss());

    // the run says how to continue, and nothing half-written (loss.png.tmp, ...) is left in the run folder
    assertTrue(text.contains("Stopped after step " + rows.size() + " with a checkpoint; continue with: "
        + "train --resume run"), text);
    try (Stream<Path> s = Files.list(run)) {
      assertEquals(List.of(), s.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".tmp")).toList());
    }
  }

  /** Whether process {@code pid} ignores signal {@code number} (its SigIgn mask in /proc). */
  private static boolean ignores(long pid, int number) throws IOException {
    Path status = Path.of("/proc", Long.toString(pid), "status");
    if (!Files.exists(status)) {
      return false;
    }
    for (String line : Files.readAllLines(status)) {
      if (line.startsWith("SigIgn:")) {
        long mask = Long.parseUnsignedLong(line.substring("SigIgn:".length()).strip(), 16);
        return (mask & (1L << (number - 1))) != 0;
      }
    }
    return false;
  }
}
