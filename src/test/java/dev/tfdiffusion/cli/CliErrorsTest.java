package dev.tfdiffusion.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfdiffusion.FileSnapshot;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input gets one clear sentence and a non-zero exit code (2 for usage errors), and nothing is written. Each test
 * is a row of README's table of bad inputs.
 */
class CliErrorsTest {
  @TempDir
  Path dir;

  private record Outcome(int code, String err) {}

  /** Where {@code train} puts a run without --out: graphs/ under the working directory. */
  private static final Path DEFAULT_RUNS = Path.of("graphs");

  /**
   * Runs a command that must fail, and checks that it wrote nothing: the test's folder (with the files, runs and
   * folders the test set up) and the default run folder are exactly as before (paths, sizes, times, SHA-256).
   */
  private Outcome run(String... args) {
    return FileSnapshot.assertWritesNothing(() -> {
      StringWriter err = new StringWriter();
      int code = Main.run(new PrintWriter(err, true), args);
      return new Outcome(code, err.toString().strip());
    }, dir, DEFAULT_RUNS);
  }

  @Test
  void unknownPreset() {
    Outcome o = run("train", "--preset", "fast", "--out", dir.resolve("r").toString());
    assertEquals(2, o.code());
    assertEquals("Unknown preset 'fast'; choose one of quick, tutorial, conditional.", o.err());
    assertFalse(Files.exists(dir.resolve("r")));
  }

  @Test
  void warmupLongerThanTraining() {
    Outcome o = run("train", "--steps", "10", "--warmup-steps", "10", "--out", dir.resolve("r").toString());
    assertEquals(2, o.code());
    assertEquals("--warmup-steps must be at least 0 and less than --steps (10), got 10.", o.err());
    assertFalse(Files.exists(dir.resolve("r")));
  }

  @Test
  void nonPositiveValues() {
    assertEquals("--features must be positive, got 0.", run("train", "--features", "0").err());
    assertEquals("--steps must be positive, got -5.", run("train", "--steps", "-5").err());
    assertEquals("--digit must be one of 0..9 or 'all', got '12'.", run("train", "--digit", "12").err());
  }

  @Test
  void unknownFlagIsAUsageError() {
    Outcome o = run("train", "--featurez", "8");
    assertEquals(2, o.code());
    assertEquals(String.join(System.lineSeparator(), "Unknown options: '--featurez', '8'.",
        "Possible solutions: --features", "Run 'tf-diffusion train --help' for the options."), o.err());
  }

  @Test
  void existingRunIsNotOverwritten() throws IOException {
    Path run = dir.resolve("run");
    Files.createDirectories(run);
    Files.writeString(run.resolve("config.json"), "{}");
    Outcome o = run("train", "--out", run.toString());
    assertEquals(2, o.code());
    assertEquals(run + " already holds a run; continue it with --resume " + run + ", or replace it with --overwrite.",
        o.err());
    assertEquals("{}", Files.readString(run.resolve("config.json")));
  }

  @Test
  void overwriteWithBadDataKeepsTheExistingRun() throws IOException {
    // --overwrite replaces a run only once the new one can start: bad data leaves the old run as it was
    Path run = dir.resolve("run");
    Files.createDirectories(run.resolve("checkpoints"));
    Files.writeString(run.resolve("config.json"), "{}");
    Files.writeString(run.resolve("checkpoints/keep.txt"), "old run");
    Path missing = dir.resolve("none.csv");
    Outcome o = run("train", "--out", run.toString(), "--overwrite", "--data", missing.toString());
    assertEquals(1, o.code());
    assertEquals("Data file " + missing + " does not exist.", o.err());
    Outcome stop = run("train", "--out", run.toString(), "--overwrite", "--stop-after", "-1");
    assertEquals(2, stop.code());
    assertEquals("--stop-after must be positive, got -1.", stop.err());
    assertEquals("old run", Files.readString(run.resolve("checkpoints/keep.txt")));
  }

  @Test
  void resumeOfAFolderThatIsNotARun() throws IOException {
    Files.createDirectories(dir.resolve("empty"));
    Outcome o = run("train", "--resume", dir.resolve("empty").toString());
    assertEquals(1, o.code());
    assertEquals(dir.resolve("empty") + " is not a training run (it has no config.json).", o.err());
    assertEquals("Run folder " + dir.resolve("missing") + " does not exist.",
        run("train", "--resume", dir.resolve("missing").toString()).err());
  }

  @Test
  void resumeRefusesNewSettings() throws IOException {
    Outcome o = run("train", "--resume", dir.toString(), "--features", "4");
    assertEquals(2, o.code());
    assertEquals("--resume continues " + dir + " with its own config.json; drop --features (start a new run to "
        + "change settings).", o.err());
  }

  @Test
  void malformedDataFileNamesFileAndLine() throws IOException {
    Path data = dir.resolve("digits.csv");
    Files.writeString(data, "0,".repeat(64) + "1\n" + "1,2\n");
    Path out = dir.resolve("r");
    Outcome o = run("train", "--data", data.toString(), "--out", out.toString());
    assertEquals(1, o.code());
    assertEquals(data + " line 2: expected 65 comma-separated values (64 pixels and a label), found 2.", o.err());
    assertFalse(Files.exists(out), "--out is not created");
  }

  private Outcome trainOn(String content, String... more) throws IOException {
    Path data = dir.resolve("digits.csv");
    Files.writeString(data, content);
    java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("train", "--data", data.toString(),
        "--out", dir.resolve("r").toString()));
    args.addAll(java.util.List.of(more));
    Outcome o = run(args.toArray(new String[0]));
    assertFalse(Files.exists(dir.resolve("r")), "--out is not created");
    return o;
  }

  @Test
  void dataFileMissing() {
    Outcome o = run("train", "--data", dir.resolve("none.csv").toString(), "--out", dir.resolve("r").toString());
    assertEquals(1, o.code());
    assertEquals("Data file " + dir.resolve("none.csv") + " does not exist.", o.err());
    assertFalse(Files.exists(dir.resolve("r")), "--out is not created");
  }

  @Test
  void dataFileEmpty() throws IOException {
    Outcome o = trainOn("");
    assertEquals(1, o.code());
    assertEquals(dir.resolve("digits.csv") + " holds no images.", o.err());
  }

  @Test
  void dataValueNotANumber() throws IOException {
    Outcome o = trainOn("0,".repeat(63) + "zero,1\n");
    assertEquals(1, o.code());
    assertEquals(dir.resolve("digits.csv") + " line 1: value 64 is 'zero', not a whole number.", o.err());
  }

  @Test
  void dataPixelOutOfRange() throws IOException {
    Outcome o = trainOn("0,".repeat(10) + "-1," + "0,".repeat(53) + "1\n");
    assertEquals(1, o.code());
    assertEquals(dir.resolve("digits.csv") + " line 1: pixel 11 is -1, outside 0..16.", o.err());
  }

  @Test
  void dataLabelOutOfRange() throws IOException {
    Outcome o = trainOn("0,".repeat(64) + "11\n");
    assertEquals(1, o.code());
    assertEquals(dir.resolve("digits.csv") + " line 1: label is 11, outside 0..9.", o.err());
  }

  @Test
  void splitLeavesNoTrainingImages() throws IOException {
    Outcome o = trainOn("0,".repeat(64) + "1\n", "--test-fraction", "0.5");
    assertEquals(1, o.code());
    assertEquals("A test fraction of 0.5 leaves no training images of the 1 selected.", o.err());
  }

  @Test
  void negativeBatchSize() {
    Outcome o = run("train", "--batch-size", "-3", "--out", dir.resolve("r").toString());
    assertEquals(2, o.code());
    assertEquals("--batch-size must be 0 (the whole training set) or positive, got -3.", o.err());
    assertFalse(Files.exists(dir.resolve("r")));
  }

  @Test
  void outputFolderThatCannotBeCreated() throws IOException {
    Path file = Files.writeString(dir.resolve("plain-file"), "x");
    Outcome o = run("train", "--out", file.resolve("run").toString());
    assertEquals(1, o.code());
    assertTrue(o.err().startsWith("Cannot create run folder " + file.resolve("run") + ": "), o.err());
    assertEquals(1, o.err().lines().count());
    assertFalse(Files.exists(file.resolve("run")));
    assertEquals("x", Files.readString(file));
  }

  @Test
  void outputFolderThatIsAFile() throws IOException {
    Path file = Files.writeString(dir.resolve("plain-file"), "x");
    Outcome o = run("train", "--out", file.toString());
    assertEquals(2, o.code());
    assertEquals("--out " + file + " is a file, not a folder.", o.err());
    assertEquals("x", Files.readString(file));
  }

  @Test
  void nonEmptyFolderThatIsNotARun() throws IOException {
    Path other = Files.createDirectories(dir.resolve("photos"));
    Files.writeString(other.resolve("holiday.jpg"), "x");
    Outcome o = run("train", "--out", other.toString());
    assertEquals(2, o.code());
    assertEquals(other + " is not empty and holds no run; choose a new or empty --out folder.", o.err());
    assertEquals("x", Files.readString(other.resolve("holiday.jpg")));
  }

  @Test
  void badXlaValue() {
    Outcome o = run("train", "--xla", "maybe");
    assertEquals(2, o.code());
    assertTrue(o.err().startsWith("Invalid value for option '--xla': --xla must be on, off or auto, got 'maybe'."),
        o.err());
  }

  @Test
  void digitWithoutImages() throws IOException {
    Path data = dir.resolve("digits.csv");
    Files.writeString(data, ("0,".repeat(64) + "1\n").repeat(3));
    Outcome o = run("train", "--data", data.toString(), "--digit", "7", "--out", dir.resolve("r").toString());
    assertEquals(1, o.code());
    assertEquals(data + " holds no images of digit 7.", o.err());
    assertFalse(Files.exists(dir.resolve("r")), "--out is not created");
  }

  @Test
  void batchLargerThanTheTrainingSet() {
    Outcome o = run("train", "--batch-size", "500", "--out", dir.resolve("r").toString());
    assertEquals(2, o.code());
    assertEquals("--batch-size 500 is larger than the 172 training images; use at most 172 (or 0 for all of them).",
        o.err());
    assertFalse(Files.exists(dir.resolve("r")), "--out is not created");
  }
}
