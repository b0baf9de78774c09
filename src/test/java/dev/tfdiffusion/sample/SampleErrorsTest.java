package dev.tfdiffusion.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfdiffusion.FileSnapshot;
import dev.tfdiffusion.TestFiles;
import dev.tfdiffusion.cli.Main;
import dev.tfdiffusion.util.FileTrees;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/** sample/export on things that are not our models: one sentence, a non-zero exit code, nothing written. */
class SampleErrorsTest {
  @TempDir
  static Path dir;
  static Path model;

  @BeforeAll
  static void trainTinyModel() {
    Path run = dir.resolve("run");
    assertEquals(0, Main.run("train", "--features", "2", "--steps", "2", "--quiet", "--out", run.toString()));
    model = run.resolve("saved_model");
  }

  private record Outcome(int code, String err) {}

  /** Where {@code sample} writes without --out: samples.png and samples.csv in the working directory. */
  private static final Path DEFAULT_PNG = Path.of("samples.png");

  /**
   * Runs a command that must fail, and checks that it wrote nothing: the test folder (with the trained run, its
   * SavedModel and every file the tests set up) and sample's default outputs are exactly as before.
   */
  private static Outcome run(String... args) {
    return FileSnapshot.assertWritesNothing(() -> {
      StringWriter err = new StringWriter();
      int code = Main.run(new PrintWriter(err, true), args);
      return new Outcome(code, err.toString().strip());
    }, dir, DEFAULT_PNG, SampleFiles.csvFor(DEFAULT_PNG));
  }

  private static Outcome sample(Path modelDir, Path out) {
    return run("sample", "--model", modelDir.toString(), "--out", out.toString(), "--count", "2");
  }

  private static void assertNothingWritten(Path out) {
    assertFalse(Files.exists(out));
    assertFalse(Files.exists(SampleFiles.csvFor(out)));
  }

  @Test
  void missingFolder() {
    Path out = dir.resolve("a.png");
    Outcome o = sample(dir.resolve("nope"), out);
    assertEquals(1, o.code());
    assertEquals("Model folder " + dir.resolve("nope") + " does not exist.", o.err());
    assertNothingWritten(out);
  }

  @Test
  void fileInsteadOfFolder() throws IOException {
    Path file = Files.writeString(dir.resolve("model.txt"), "x");
    Path out = dir.resolve("b.png");
    Outcome o = sample(file, out);
    assertEquals(1, o.code());
    assertEquals(file + " is a file, not a SavedModel folder.", o.err());
    assertNothingWritten(out);
  }

  @Test
  void folderThatIsNotASavedModel() {
    Path run = model.getParent();
    Path out = dir.resolve("c.png");
    Outcome o = sample(run, out);
    assertEquals(1, o.code());
    assertEquals(run + " is not a SavedModel: it has no saved_model.pb (did you mean " + model + "?).", o.err());
    assertNothingWritten(out);
  }

  @Test
  void savedModelFromAnotherProgram() throws IOException {
    Path other = dir.resolve("other");
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 3)));
      try (Session s = new Session(g)) {
        SavedModelBundle.exporter(other.toString()).withSession(s)
            .withSignature(Signature.builder().input("x", x).output("y", tf.math.mul(x, tf.constant(2f))).build())
            .export();
      }
    }
    Path out = dir.resolve("d.png");
    Outcome o = sample(other, out);
    assertEquals(1, o.code());
    assertEquals(other + " has no 'sample' signature, so it was not exported by tf-diffusion (its signatures: "
        + "serving_default).", o.err());
    assertNothingWritten(out);
  }

  @Test
  void truncatedVariables() throws IOException {
    Path copy = dir.resolve("truncated");
    TestFiles.copyTree(model, copy);
    Path data;
    try (Stream<Path> files = Files.list(copy.resolve("variables"))) {
      data = files.filter(f -> f.getFileName().toString().startsWith("variables.data")).findFirst().orElseThrow();
    }
    try (RandomAccessFile f = new RandomAccessFile(data.toFile(), "rw")) {
      f.setLength(f.length() / 2);
    }
    Path out = dir.resolve("e.png");
    Outcome o = sample(copy, out);
    assertEquals(1, o.code());
    assertTrue(o.err().startsWith("Cannot load the SavedModel in " + copy + ": "), o.err());
    assertEquals(1, o.err().lines().count(), o.err());
    assertNothingWritten(out);
  }

  @Test
  void existingOutputIsNotOverwritten() throws IOException {
    Path out = Files.writeString(dir.resolve("f.png"), "keep");
    Outcome o = sample(model, out);
    assertEquals(2, o.code());
    assertEquals(out + " already exists; choose another name or add --overwrite.", o.err());
    assertEquals("keep", Files.readString(out));
    assertFalse(Files.exists(SampleFiles.csvFor(out)));
  }

  @Test
  void countThatCannotFit() {
    Outcome o = run("sample", "--model", model.toString(), "--count", "200000");
    assertEquals(2, o.code());
    assertEquals("--count must be between 1 and 100000, got 200000.", o.err());
  }

  @Test
  void evaluateOnThingsThatAreNotModels() throws IOException {
    Outcome missing = run("evaluate", "--model", dir.resolve("nope").toString());
    assertEquals(1, missing.code());
    assertEquals("Model folder " + dir.resolve("nope") + " does not exist.", missing.err());
    Path file = Files.writeString(dir.resolve("model.bin"), "x");
    Outcome notDir = run("evaluate", "--model", file.toString());
    assertEquals(1, notDir.code());
    assertEquals(file + " is a file, not a SavedModel folder.", notDir.err());
    Outcome notModel = run("evaluate", "--model", model.getParent().toString());
    assertEquals(1, notModel.code());
    assertEquals(model.getParent() + " is not a SavedModel: it has no saved_model.pb (did you mean " + model + "?).",
        notModel.err());
  }

  @Test
  void impossibleCount() {
    Outcome o = run("sample", "--model", model.toString(), "--count", "0");
    assertEquals(2, o.code());
    assertEquals("--count must be between 1 and 100000, got 0.", o.err());
  }

  @Test
  void exportOfSomethingThatIsNotARun() throws IOException {
    Path empty = Files.createDirectories(dir.resolve("empty"));
    Outcome o = run("export", "--checkpoint", empty.toString());
    assertEquals(1, o.code());
    assertEquals(empty + " is neither a training run (no config.json) nor a checkpoint (no state.json).", o.err());
    assertEquals("Checkpoint or run folder " + dir.resolve("x") + " does not exist.",
        run("export", "--checkpoint", dir.resolve("x").toString()).err());
  }

  @Test
  void exportOfADamagedCheckpointWritesNothing() throws IOException {
    Path run = dir.resolve("damaged-run");
    TestFiles.copyTree(model.getParent(), run);
    FileTrees.delete(run.resolve("saved_model"));
    Path checkpoint = run.resolve("checkpoints/step-00000002");
    Path data = checkpoint.resolve("ckpt.data-00000-of-00001");
    try (RandomAccessFile f = new RandomAccessFile(data.toFile(), "rw")) {
      f.setLength(f.length() - 1);
    }
    Outcome o = run("export", "--checkpoint", checkpoint.toString());
    assertEquals(1, o.code());
    assertEquals("Checkpoint " + checkpoint + " cannot be used: ckpt.data-00000-of-00001 does not match its checksum.",
        o.err());
    Outcome fromRun = run("export", "--checkpoint", run.toString());
    assertEquals(1, fromRun.code());
    assertEquals("Run " + run + " has no usable checkpoint yet.", fromRun.err());
    assertFalse(Files.exists(run.resolve("saved_model")));
  }

  @Test
  void samplingCodeDoesNotDependOnTheModelCode() throws IOException {
    try (Stream<Path> sources = Files.list(Path.of("src/main/java/dev/tfdiffusion/sample"))) {
      for (Path source : sources.toList()) {
        String text = Files.readString(source);
        for (String pkg : new String[] {"model", "export", "train", "diffusion"}) {
          assertFalse(text.contains("import dev.tfdiffusion." + pkg + "."), source + " imports " + pkg);
        }
      }
    }
  }

}
