package dev.tfdiffusion.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfdiffusion.RunLayout;
import dev.tfdiffusion.checkpoint.Checkpoints;
import dev.tfdiffusion.cli.Main;
import dev.tfdiffusion.util.FileTrees;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * README's "Nothing lost" table, the checkpoint rows, through the CLI in this JVM: {@code --resume} skips a damaged
 * checkpoint and takes the previous good one, leftover temporary folders are removed on resume, and
 * {@code --keep-checkpoints K} keeps exactly the newest K.
 */
class CheckpointBehaviourTest {
  private static final String[] TINY = {"train", "--features", "4", "--checkpoint-every", "2", "--no-export"};

  @TempDir
  Path dir;

  /** A finished CLI run: exit code, standard output and error output. */
  private record Run(int code, String out, String err) {
    String all() {
      return out + err;
    }
  }

  /** Runs the CLI in this JVM with System.out captured (the trainer prints its messages there). */
  private static Run cli(String... args) {
    PrintStream original = System.out;
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    StringWriter err = new StringWriter();
    int code;
    try (PrintStream capture = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
      System.setOut(capture);
      code = Main.run(new PrintWriter(err, true), args);
    } finally {
      System.setOut(original);
    }
    Run run = new Run(code, bytes.toString(StandardCharsets.UTF_8), err.toString());
    original.print(run.out()); // keep it visible in the test report
    return run;
  }

  private static String[] tiny(String... more) {
    List<String> all = new ArrayList<>(List.of(TINY));
    all.addAll(List.of(more));
    return all.toArray(new String[0]);
  }

  private static List<String> entries(Path folder) throws IOException {
    try (Stream<Path> s = Files.list(folder)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  private static void assertVerifies(Path checkpoint) {
    Optional<String> problem = Checkpoints.verify(checkpoint);
    assertTrue(problem.isEmpty(), checkpoint + ": " + problem.orElse(""));
  }

  /** Trains a run; returns its checkpoints folder after checking it holds {@code expected}. */
  private Path trainedRun(Path run, List<String> expected, String... settings) throws IOException {
    List<String> args = new ArrayList<>(List.of(settings));
    args.addAll(List.of("--quiet", "--out", run.toString()));
    Run r = cli(tiny(args.toArray(new String[0])));
    assertEquals(0, r.code(), r.all());
    Path checkpoints = run.resolve("checkpoints");
    assertEquals(expected, entries(checkpoints));
    return checkpoints;
  }

  private static List<TrainLog.Row> log(Path run) throws IOException {
    return TrainLog.read(run.resolve(RunLayout.TRAIN_LOG));
  }

  @Test
  void resumeSkipsADamagedCheckpointAndTakesThePreviousGoodOne() throws IOException {
    Path reference = dir.resolve("reference");
    trainedRun(reference, List.of("step-00000004", "step-00000006", "step-00000008"), "--steps", "8",
        "--keep-checkpoints", "3");

    Path run = dir.resolve("run");
    Path checkpoints = trainedRun(run, List.of("step-00000002", "step-00000004", "step-00000006"),
        "--steps", "8", "--keep-checkpoints", "3", "--stop-after", "6");

    // flip one byte of the newest checkpoint's tensors
    Path newest = checkpoints.resolve("step-00000006");
    Path data = newest.resolve("ckpt.data-00000-of-00001");
    byte[] bytes = Files.readAllBytes(data);
    assertTrue(bytes.length > 0);
    bytes[bytes.length / 2] ^= 0x01;
    Files.write(data, bytes);
    assertEquals(Optional.of("ckpt.data-00000-of-00001 does not match its checksum"), Checkpoints.verify(newest));

    Run resumed = cli("train", "--resume", run.toString(), "--no-export");
    assertEquals(0, resumed.code(), resumed.all());
    assertTrue(resumed.out().contains("Skipping damaged checkpoint " + newest
            + ": ckpt.data-00000-of-00001 does not match its checksum; falling back to the previous one."),
        resumed.out());
    assertTrue(resumed.out().contains(", resuming at step 4 -> "), resumed.out());
    assertTrue(resumed.out().contains("Finished 8 steps"), resumed.out());

    // one row per step, with the uninterrupted run's losses, bit for bit
    List<TrainLog.Row> expected = log(reference);
    List<TrainLog.Row> actual = log(run);
    assertEquals(8, expected.size());
    assertEquals(8, actual.size());
    for (int i = 0; i < 8; i++) {
      assertEquals(i, actual.get(i).step());
      assertEquals(Double.doubleToLongBits(expected.get(i).loss()), Double.doubleToLongBits(actual.get(i).loss()),
          "loss at step " + i);
      assertEquals(Double.doubleToLongBits(expected.get(i).emaLoss()),
          Double.doubleToLongBits(actual.get(i).emaLoss()), "EMA loss at step " + i);
    }
    // the damaged checkpoint was rewritten by the resumed run, and the final weights are the same bytes
    assertEquals(List.of("step-00000004", "step-00000006", "step-00000008"), entries(checkpoints));
    for (String name : entries(checkpoints)) {
      assertVerifies(checkpoints.resolve(name));
    }
    Path last = Path.of("checkpoints", "step-00000008", "ckpt.data-00000-of-00001");
    assertEquals(FileTrees.sha256(reference.resolve(last)), FileTrees.sha256(run.resolve(last)));
  }

  @Test
  void resumeRemovesLeftoverTemporaryFolders() throws IOException {
    // the resumed part (steps 4..6) writes only step-00000006 and prunes nothing with K = 3, so the run itself
    // never touches the two leftover names: only the clean-up on resume can remove them
    Path run = dir.resolve("run");
    Path checkpoints = trainedRun(run, List.of("step-00000002", "step-00000004"),
        "--steps", "6", "--keep-checkpoints", "3", "--stop-after", "4");

    Path tmp = checkpoints.resolve(".tmp-step-00000008");
    Path trash = checkpoints.resolve(".trash-step-00000002");
    Files.createDirectories(tmp);
    Files.writeString(tmp.resolve("ckpt.index"), "half-written");
    Files.createDirectories(trash);
    Files.writeString(trash.resolve("state.json"), "{\"step\": 2}");

    Run resumed = cli("train", "--resume", run.toString(), "--no-export");
    assertEquals(0, resumed.code(), resumed.all());
    assertTrue(resumed.out().contains("Finished 6 steps"), resumed.out());
    assertFalse(resumed.out().contains("Skipping"), resumed.out());

    assertFalse(Files.exists(tmp), tmp + " is still there");
    assertFalse(Files.exists(trash), trash + " is still there");
    assertEquals(List.of("step-00000002", "step-00000004", "step-00000006"), entries(checkpoints));
    assertEquals(6, log(run).size());
    assertVerifies(checkpoints.resolve("step-00000006"));
  }

  @Test
  void keepCheckpointsKeepsExactlyTheNewestK() throws IOException {
    Path run = dir.resolve("run");
    // entries() lists hidden folders too: no .tmp-* or .trash-* is left behind
    Path checkpoints = trainedRun(run, List.of("step-00000008", "step-00000010"), "--steps", "10",
        "--keep-checkpoints", "2");
    assertVerifies(checkpoints.resolve("step-00000008"));
    assertVerifies(checkpoints.resolve("step-00000010"));
    assertEquals(10, log(run).size());
  }
}
