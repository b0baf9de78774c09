package dev.tfdiffusion.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.tfdiffusion.FileSnapshot;
import dev.tfdiffusion.TestFiles;
import dev.tfdiffusion.model.MemoryEstimate;
import dev.tfdiffusion.sample.SampleFiles;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * Every option of every command, tried with the values a user mistypes: zero, negative, huge, the wrong type, a
 * missing or unwritable path, a folder where a file belongs and the reverse. Each try must answer with one sentence
 * on stderr (one line ending with a period, no exception, no stack trace), exit 2 for usage errors and 1 for other
 * failures, and write nothing. The options come from picocli's model of the commands: an option without a row in
 * {@link #TABLE} fails {@link #everyOptionOfEveryCommandHasASweepRow}. Switches (options without a value) name the
 * behaviour test that covers them instead.
 */
class OptionSweepTest {
  @TempDir
  static Path dir;

  /** The tiny model every row that needs one shares (train --features 4 --steps 2). */
  static Path run;
  static Path model;

  /** What train and sample write when not told where: graphs/ and samples.png/.csv in the working directory. */
  private static final Path DEFAULT_RUNS = Path.of("graphs");
  private static final Path DEFAULT_PNG = Path.of("samples.png");

  private static final AtomicInteger FRESH = new AtomicInteger();

  /** What the shared training run showed of train's switches (asserted in {@link #trainSwitches}). */
  static Output tinyTraining;
  static boolean junkRemoved;
  static boolean exportedByTrain;

  /**
   * Trains the shared model over a folder that already holds a (fake) run, with --overwrite, --quiet and
   * --no-export, then exports it: one training serves every row and the switches' test.
   */
  @BeforeAll
  static void trainTinyModel() throws IOException {
    run = dir.resolve("run");
    Files.createDirectories(run.resolve("checkpoints"));
    Files.writeString(run.resolve("config.json"), "{}");
    Files.writeString(run.resolve("checkpoints/junk.txt"), "an older run");
    tinyTraining = capture(() -> Main.run("train", "--features", "4", "--steps", "2", "--quiet", "--no-export",
        "--overwrite", "--out", run.toString()));
    assertEquals(0, tinyTraining.code(), tinyTraining.err());
    junkRemoved = !Files.exists(run.resolve("checkpoints/junk.txt"));
    exportedByTrain = Files.exists(run.resolve("saved_model")) || Files.exists(run.resolve("samples.png"));
    model = run.resolve("saved_model");
    assertEquals(0, Main.run("export", "--checkpoint", run.toString()));
    Files.writeString(dir.resolve("plain-file"), "x\n");
    Files.createDirectories(dir.resolve("empty-folder"));
    Files.createDirectories(dir.resolve("full-folder"));
    Files.writeString(dir.resolve("full-folder/holiday.jpg"), "x");
    Files.writeString(dir.resolve("existing.png"), "png");
    Files.writeString(dir.resolve("existing.csv"), "csv");
    Files.writeString(dir.resolve("existing.gif"), "gif");
    Files.writeString(dir.resolve("existing.json"), "{}");
  }

  // ---- the table -------------------------------------------------------------------------------------------------

  /** One mistyped command line: the option's value(s), the exit code and stderr's sentence ("~" = a regex). */
  record Case(List<String> args, int exit, String message, boolean bare) {}

  /** How one option is swept. */
  sealed interface Row permits Values, Switch {}

  /** An option that takes a value: its cases (the type's generic cases are added, see {@link #generic}). */
  record Values(List<Case> cases) implements Row {}

  /** A switch: no value to mistype; {@code coveredBy} ("Class#method" under dev.tfdiffusion) tests what it does. */
  record Switch(String coveredBy) implements Row {}

  private static Case c(int exit, String message, String... args) {
    return new Case(List.of(args), exit, message, false);
  }

  /** A case run exactly as given (after the command name), without the command's base options. */
  private static Case bare(int exit, String message, String... args) {
    return new Case(List.of(args), exit, message, true);
  }

  private static Values values(Case... cases) {
    return new Values(List.of(cases));
  }

  private static Switch covered(String test) {
    return new Switch(test);
  }

  private static final String HELP = "cli.OptionSweepTest#helpAndVersionOfEveryCommand";
  private static final String VERBOSE = "cli.OptionSweepTest#verboseAddsTheStackTraceOnlyWhenAsked";
  private static final String MEMORY = "~%s needs about [0-9.]+ [KMGTPE]B for %s; this machine has [0-9.]+ [KMGTPE]B of "
      + "memory \\(use at most %s\\)\\.";

  /** The options every command has from picocli's mixinStandardHelpOptions, and --verbose. */
  private static void standard(Map<String, Row> t, String command, boolean verbose) {
    t.put(command + " --help", covered(HELP));
    t.put(command + " --version", covered(HELP));
    if (verbose) {
      t.put(command + " --verbose", covered(VERBOSE));
    }
  }

  private static String memory(String what, String forWhat, String useAtMost) {
    return String.format(MEMORY, Pattern.quote(what), forWhat, useAtMost);
  }

  /** Keyed by "command --longest-name" ("help COMMAND" for a positional parameter). */
  static final Map<String, Row> TABLE = table();

  private static Map<String, Row> table() {
    Map<String, Row> t = new LinkedHashMap<>();
    standard(t, "tf-diffusion", false);

    // ---- train ----
    standard(t, "train", true);
    t.put("train --preset", values(
        c(2, "Unknown preset 'fast'; choose one of quick, tutorial, conditional.", "--preset", "fast"),
        c(2, "Give either --config or --preset, not both.", "--preset", "quick", "--config", "{run}/config.json")));
    t.put("train --config", values(
        c(1, "Config file {missing} does not exist.", "--config", "{missing}"),
        c(1, "Config file {folder} is a folder, not a JSON file.", "--config", "{folder}"),
        c(1, "~\\Q{file}\\E is not a valid training config: Unrecognized token 'x': .*\\.", "--config", "{file}")));
    t.put("train --out", values(
        c(2, "--out {file} is a file, not a folder.", "--out", "{file}"),
        c(1, "Cannot create run folder {underfile}: {file} is a file, not a folder.", "--out", "{underfile}"),
        c(2, "{full} is not empty and holds no run; choose a new or empty --out folder.", "--out", "{full}"),
        c(2, "{run} already holds a run; continue it with --resume {run}, or replace it with --overwrite.",
            "--out", "{run}")));
    t.put("train --resume", values(
        bare(1, "Run folder {missing} does not exist.", "--resume", "{missing}"),
        bare(1, "{folder} is not a training run (it has no config.json).", "--resume", "{folder}"),
        bare(1, "{file} is not a training run (it has no config.json).", "--resume", "{file}"),
        bare(2, "--resume continues {run} with its own config.json; drop --features (start a new run to change "
            + "settings).", "--resume", "{run}", "--features", "8"),
        bare(2, "--stop-after must be positive, got 0.", "--resume", "{run}", "--stop-after", "0")));
    t.put("train --overwrite", covered("cli.OptionSweepTest#trainSwitches"));
    t.put("train --stop-after", values(
        c(2, "--stop-after must be positive, got 0.", "--stop-after", "0"),
        c(2, "--stop-after must be positive, got -1.", "--stop-after", "-1")));
    t.put("train --no-export", covered("cli.OptionSweepTest#trainSwitches"));
    t.put("train --precision", values(
        c(2, "Invalid value for option '--precision': --precision must be fp32, bf16, fp16 or auto, got 'fp8'.",
            "--precision", "fp8"),
        c(2, "--precision fp16 needs a GPU, and TensorFlow sees none; on CPUs use bf16 (where supported) or fp32.",
            "--precision", "fp16")));
    t.put("train --xla", values(
        c(2, "Invalid value for option '--xla': --xla must be on, off or auto, got 'maybe'.", "--xla", "maybe")));
    t.put("train --quiet", covered("cli.OptionSweepTest#trainSwitches"));
    t.put("train --devices", values(
        c(2, "Invalid value for option '--devices': expected a positive number or auto, got '0'.", "--devices", "0"),
        c(2, "--devices 200 is more than the 172 images of a step; use at most 172.", "--devices", "200"),
        c(2, "Give --devices or --workers, not both.", "--devices", "2", "--workers", "127.0.0.1:1")));
    t.put("train --workers", values(
        c(2, "--workers must list host:port pairs separated by commas (ports 1..65535), got 'nowhere'.",
            "--workers", "nowhere"),
        c(2, "--workers must list host:port pairs separated by commas (ports 1..65535), got 'h:0'.",
            "--workers", "h:0")));
    t.put("train --chief", values(
        c(2, "--chief applies to training on workers; add --workers or drop it.", "--chief", "127.0.0.1:7001"),
        c(2, "--chief takes one host:port, got 'a:1,b:2'.", "--chief", "a:1,b:2", "--workers", "127.0.0.1:1")));
    t.put("train --connect-timeout", values(
        c(2, "--connect-timeout applies to training on workers; add --workers or drop it.", "--connect-timeout",
            "5"),
        c(2, "--connect-timeout must be at least 1 second, got 0.", "--connect-timeout", "0", "--workers",
            "127.0.0.1:1")));
    t.put("train --step-timeout", values(
        c(2, "--step-timeout applies to training on workers; add --workers or drop it.", "--step-timeout", "5"),
        c(2, "--step-timeout must be at least 1 second, got 0.", "--step-timeout", "0", "--workers",
            "127.0.0.1:1")));
    t.put("train --recover-timeout", values(
        c(2, "--recover-timeout applies to training on workers; add --workers or drop it.", "--recover-timeout",
            "5"),
        c(2, "--recover-timeout must be 0 or more seconds, got -1.", "--recover-timeout", "-1", "--workers",
            "127.0.0.1:1")));
    t.put("train --digit", values(
        c(2, "--digit must be one of 0..9 or 'all', got '12'.", "--digit", "12"),
        c(2, "--digit must be one of 0..9 or 'all', got '-1'.", "--digit", "-1"),
        c(2, "--digit must be one of 0..9 or 'all', got 'one'.", "--digit", "one")));
    t.put("train --data", values(
        c(1, "Data file {missing} does not exist.", "--data", "{missing}"),
        c(1, "{folder} holds no PNG or JPEG images.", "--data", "{folder}"),
        c(1, "{file} line 1: expected 65 comma-separated values (64 pixels and a label), found 1.", "--data",
            "{file}")));
    t.put("train --image-size", values(
        c(2, "--image-size must be 0 (as stored) or between 2 and 512, got -1.", "--image-size", "-1"),
        c(2, "--image-size must be 0 (as stored) or between 2 and 512, got 1.", "--image-size", "1"),
        c(2, "--image-size must be 0 (as stored) or between 2 and 512, got 513.", "--image-size", "513"),
        c(2, memory("--batch-size 172 with 512x512 images at --features 2", "the images and activations of a "
            + "training step", "--batch-size \\d+"), "--image-size", "512")));
    t.put("train --test-fraction", values(
        c(2, "--test-fraction must lie in (0, 1), got 0.0.", "--test-fraction", "0"),
        c(2, "--test-fraction must lie in (0, 1), got 1.0.", "--test-fraction", "1"),
        c(2, "--test-fraction must lie in (0, 1), got -0.5.", "--test-fraction", "-0.5"),
        c(2, "--test-fraction must lie in (0, 1), got NaN.", "--test-fraction", "NaN")));
    t.put("train --split-seed", values()); // every whole number is a seed: the generic cases only
    t.put("train --features", values(
        c(2, "--features must be positive, got 0.", "--features", "0"),
        c(2, "--features must be positive, got -1.", "--features", "-1"),
        c(2, memory("--features 100000", "the weights and their optimizer state", "--features \\d+"),
            "--features", "100000")));
    t.put("train --time-embedding", values(
        c(2, "--time-embedding must be positive, got 0.", "--time-embedding", "0"),
        c(2, "--time-embedding must be an even number of at least 4, got 3.", "--time-embedding", "3"),
        c(2, "--time-embedding must be an even number of at least 4, got 7.", "--time-embedding", "7"),
        c(2, memory("--time-embedding 10000000", "the weights and their optimizer state",
            "--time-embedding \\d+"), "--time-embedding", "10000000")));
    t.put("train --diffusion-steps", values(
        c(2, "--diffusion-steps must be between 1 and 100000, got 0.", "--diffusion-steps", "0"),
        c(2, "--diffusion-steps must be between 1 and 100000, got -3.", "--diffusion-steps", "-3"),
        c(2, "--diffusion-steps must be between 1 and 100000, got 2000000000.", "--diffusion-steps",
            "2000000000")));
    String betas = "--beta-start and --beta-end must satisfy 0 < beta-start <= beta-end < 1, got ";
    t.put("train --beta-start", values(
        c(2, betas + "0.0 and 0.02.", "--beta-start", "0"),
        c(2, betas + "-1.0 and 0.02.", "--beta-start", "-1"),
        c(2, betas + "0.5 and 0.02.", "--beta-start", "0.5"),
        c(2, betas + "NaN and 0.02.", "--beta-start", "NaN")));
    t.put("train --beta-end", values(
        c(2, betas + "1.0E-4 and 1.0.", "--beta-end", "1"),
        c(2, betas + "1.0E-4 and 0.0.", "--beta-end", "0"),
        c(2, betas + "1.0E-4 and Infinity.", "--beta-end", "Infinity")));
    t.put("train --steps", values(
        c(2, "--steps must be positive, got 0.", "--steps", "0"),
        c(2, "--steps must be positive, got -5.", "--steps", "-5")));
    t.put("train --batch-size", values(
        c(2, "--batch-size must be 0 (the whole training set) or positive, got -3.", "--batch-size", "-3"),
        c(2, "--batch-size 500 is larger than the 172 training images; use at most 172 (or 0 for all of them).",
            "--batch-size", "500"),
        c(2, "--batch-size 2000000000 is larger than the 172 training images; use at most 172 (or 0 for all of "
            + "them).", "--batch-size", "2000000000")));
    t.put("train --lr", values(
        c(2, "--lr must be a positive number, got 0.0.", "--lr", "0"),
        c(2, "--lr must be a positive number, got -0.001.", "--lr", "-0.001"),
        c(2, "--lr must be a positive number, got NaN.", "--lr", "NaN"),
        c(2, "--lr must be a positive number, got Infinity.", "--lr", "Infinity")));
    t.put("train --warmup-steps", values(
        c(2, "--warmup-steps must be at least 0 and less than --steps (2), got -1.", "--warmup-steps", "-1"),
        c(2, "--warmup-steps must be at least 0 and less than --steps (2), got 2.", "--warmup-steps", "2")));
    t.put("train --lr-final-fraction", values(
        c(2, "--lr-final-fraction must lie in [0, 1], got -0.1.", "--lr-final-fraction", "-0.1"),
        c(2, "--lr-final-fraction must lie in [0, 1], got 1.5.", "--lr-final-fraction", "1.5")));
    t.put("train --weight-decay", values(
        c(2, "--weight-decay must be a number of at least 0, got -1.0.", "--weight-decay", "-1"),
        c(2, "--weight-decay must be a number of at least 0, got NaN.", "--weight-decay", "NaN"),
        c(2, "--weight-decay must be a number of at least 0, got Infinity.", "--weight-decay", "Infinity")));
    for (String beta : List.of("adam-beta1", "adam-beta2")) {
      t.put("train --" + beta, values(
          c(2, "--" + beta + " must lie in (0, 1), got 0.0.", "--" + beta, "0"),
          c(2, "--" + beta + " must lie in (0, 1), got 1.0.", "--" + beta, "1")));
    }
    t.put("train --adam-epsilon", values(
        c(2, "--adam-epsilon must be positive, got 0.0.", "--adam-epsilon", "0"),
        c(2, "--adam-epsilon must be positive, got -1.0.", "--adam-epsilon", "-1"),
        c(2, "--adam-epsilon must be positive, got Infinity.", "--adam-epsilon", "Infinity")));
    t.put("train --clip-value", values(
        c(2, "--clip-value and --clip-norm must be positive, got 0.0 and 0.5.", "--clip-value", "0"),
        c(2, "--clip-value and --clip-norm must be positive, got -1.0 and 0.5.", "--clip-value", "-1")));
    t.put("train --clip-norm", values(
        c(2, "--clip-value and --clip-norm must be positive, got 0.3 and 0.0.", "--clip-norm", "0"),
        c(2, "--clip-value and --clip-norm must be positive, got 0.3 and NaN.", "--clip-norm", "NaN")));
    t.put("train --penalty-weight", values(
        c(2, "--penalty-weight must be a number of at least 0, got -1.0.", "--penalty-weight", "-1")));
    t.put("train --classes", values(
        c(2, "--classes must be 0 (from the data's labels) or positive, got -1.", "--classes", "-1"),
        c(2, "--classes is the class count of a conditional model; add --conditional.", "--classes", "3")));
    t.put("train --cond-drop", values(
        c(2, "--cond-drop must lie in [0, 1), got 1.0.", "--cond-drop", "1"),
        c(2, "--cond-drop must lie in [0, 1), got -0.1.", "--cond-drop", "-0.1")));
    t.put("train --conditional", covered("cli.ColourAndConditionalDataTest#conditionalNeedsLabelledData"));
    t.put("train --grayscale", covered("data.ColourFolderTest#grayscaleGivesTheGrayValuesOfBefore"));
    t.put("train --freeze-blocks", covered("train.FreezeBlocksTest#frozenBlocksKeepTheirInitialValues"));
    t.put("train --ema-decay", values(
        c(2, "--ema-decay must lie in [0, 1) (0 turns the weight average off), got 1.0.", "--ema-decay", "1"),
        c(2, "--ema-decay must lie in [0, 1) (0 turns the weight average off), got -0.1.", "--ema-decay",
            "-0.1")));
    t.put("train --seed", values()); // every whole number is a seed: the generic cases only
    t.put("train --loss-ema-decay", values(
        c(2, "--loss-ema-decay must lie in (0, 1), got 0.0.", "--loss-ema-decay", "0"),
        c(2, "--loss-ema-decay must lie in (0, 1), got 1.0.", "--loss-ema-decay", "1")));
    for (String every : List.of("log-every", "checkpoint-every", "keep-checkpoints")) {
      t.put("train --" + every, values(
          c(2, "--" + every + " must be positive, got 0.", "--" + every, "0"),
          c(2, "--" + every + " must be positive, got -1.", "--" + every, "-1")));
    }
    t.put("train --sample-every", values(
        c(2, "--sample-every must be 0 (off) or positive, got -1.", "--sample-every", "-1")));

    // ---- sample ----
    standard(t, "sample", true);
    t.put("sample --model", values(
        c(1, "Model folder {missing} does not exist.", "--model", "{missing}"),
        c(1, "{file} is a file, not a SavedModel folder.", "--model", "{file}"),
        c(1, "{folder} is not a SavedModel: it has no saved_model.pb.", "--model", "{folder}"),
        c(1, "{run} is not a SavedModel: it has no saved_model.pb (did you mean {run}/saved_model?).", "--model",
            "{run}")));
    t.put("sample --count", values(
        c(2, "--count must be between 1 and 100000, got 0.", "--count", "0"),
        c(2, "--count must be between 1 and 100000, got -1.", "--count", "-1"),
        c(2, "--count must be between 1 and 100000, got 100001.", "--count", "100001")));
    t.put("sample --seed", values());
    t.put("sample --label", values(
        c(2, "--label steers a conditional model, and {model} is unconditional (train one with --conditional).",
            "--label", "3")));
    t.put("sample --guidance", values(
        c(2, "--guidance steers a conditional model, and {model} is unconditional (train one with --conditional).",
            "--guidance", "1")));
    t.put("sample --out", values(
        c(2, "{folder} is a folder; give a file name.", "--out", "{folder}"),
        c(1, "Cannot create {underfile}.png: {file} is a file, not a folder.", "--out", "{underfile}.png"),
        c(2, "{dir}/existing.png already exists; choose another name or add --overwrite.", "--out",
            "{dir}/existing.png")));
    t.put("sample --sampler", values(
        c(2, "Invalid value for option '--sampler': --sampler must be one of ddpm, tutorial, ddim, got 'dpm'.",
            "--sampler", "dpm")));
    t.put("sample --tutorial-sampler", covered("cli.OptionSweepTest#sampleSwitches"));
    t.put("sample --sampling-steps", values(
        c(2, "--sampling-steps must be between 1 and 1000, got 0.", "--sampling-steps", "0", "--sampler", "ddim"),
        c(2, "--sampling-steps must be between 1 and 1000, got 1001.", "--sampling-steps", "1001", "--sampler",
            "ddim"),
        c(2, "--sampling-steps applies to the ddim sampler only; add --sampler ddim or drop --sampling-steps.",
            "--sampling-steps", "20")));
    t.put("sample --eta", values(
        c(2, "--eta must lie in [0, 1], got -0.1.", "--eta", "-0.1", "--sampler", "ddim"),
        c(2, "--eta must lie in [0, 1], got 1.5.", "--eta", "1.5", "--sampler", "ddim"),
        c(2, "--eta must lie in [0, 1], got NaN.", "--eta", "NaN", "--sampler", "ddim"),
        c(2, "--eta applies to the ddim sampler only; add --sampler ddim or drop --eta.", "--eta", "0.5")));
    t.put("sample --gif", values(
        c(2, "{folder} is a folder; give a file name.", "--gif", "{folder}"),
        c(1, "Cannot create {underfile}.gif: {file} is a file, not a folder.", "--gif", "{underfile}.gif"),
        c(2, "{dir}/existing.gif already exists; choose another name or add --overwrite.", "--gif",
            "{dir}/existing.gif")));
    t.put("sample --figures", covered("cli.OptionSweepTest#sampleSwitches"));
    t.put("sample --precision", values(
        c(2, "Invalid value for option '--precision': --precision must be fp32, bf16, fp16 or auto, got 'half'.",
            "--precision", "half")));
    t.put("sample --xla", values(
        c(2, "Invalid value for option '--xla': --xla must be on, off or auto, got 'yes'.", "--xla", "yes")));
    t.put("sample --overwrite", covered("cli.OptionSweepTest#sampleSwitches"));

    // ---- export ----
    standard(t, "export", true);
    t.put("export --checkpoint", values(
        c(1, "Checkpoint or run folder {missing} does not exist.", "--checkpoint", "{missing}"),
        c(1, "{file} is neither a training run (no config.json) nor a checkpoint (no state.json).",
            "--checkpoint", "{file}"),
        c(1, "{folder} is neither a training run (no config.json) nor a checkpoint (no state.json).",
            "--checkpoint", "{folder}")));
    t.put("export --out", values(
        c(1, "{file} exists and is not a SavedModel; choose another --out folder.", "--out", "{file}"),
        c(1, "{full} exists and is not a SavedModel; choose another --out folder.", "--out", "{full}"),
        c(1, "Cannot create {underfile}: {file} is a file, not a folder.", "--out", "{underfile}")));
    t.put("export --no-ema", covered("export.ExportAndSampleTest#exportUsesTheMovingAverageUnlessAskedNotTo"));

    // ---- evaluate ----
    standard(t, "evaluate", true);
    t.put("evaluate --model", values(
        c(1, "Model folder {missing} does not exist.", "--model", "{missing}"),
        c(1, "{file} is a file, not a SavedModel folder.", "--model", "{file}"),
        c(1, "{folder} is not a SavedModel: it has no saved_model.pb.", "--model", "{folder}")));
    t.put("evaluate --count", values(
        c(2, "--count must be between 2 and 100000, got 1.", "--count", "1"),
        c(2, "--count must be between 2 and 100000, got -1.", "--count", "-1"),
        c(2, "--count must be between 2 and 100000, got 100001.", "--count", "100001")));
    t.put("evaluate --sampler", values(
        c(2, "Invalid value for option '--sampler' (NAME): --sampler must be one of ddpm, tutorial, ddim, got "
            + "'dpm'.", "--sampler", "dpm"),
        c(2, "Invalid value for option '--sampler' (NAME): --sampler must be one of ddpm, tutorial, ddim, got "
            + "'dpm'.", "--sampler", "ddpm,dpm")));
    t.put("evaluate --sampling-steps", values(
        c(2, "--sampling-steps must be between 1 and 1000, got 0.", "--sampling-steps", "0"),
        c(2, "--sampling-steps must be between 1 and 1000, got 1001.", "--sampling-steps", "1001"),
        c(2, "--sampling-steps applies to the ddim sampler only; add --sampler ddim or drop --sampling-steps.",
            "--sampling-steps", "5", "--sampler", "ddpm,tutorial")));
    t.put("evaluate --eta", values(
        c(2, "--eta must lie in [0, 1], got 2.0.", "--eta", "2"),
        c(2, "--eta must lie in [0, 1], got -1.0.", "--eta", "-1"),
        c(2, "--eta must lie in [0, 1], got NaN.", "--eta", "NaN"),
        c(2, "--eta applies to the ddim sampler only; add --sampler ddim or drop --eta.", "--eta", "0.5",
            "--sampler", "ddpm")));
    t.put("evaluate --seed", values());
    t.put("evaluate --guidance", values(
        c(2, "--guidance steers a conditional model, and {model} is unconditional (train one with --conditional).",
            "--guidance", "0,1")));
    t.put("evaluate --out", values(
        c(2, "{folder} is a folder; give a file name.", "--out", "{folder}"),
        c(1, "Cannot create {underfile}.json: {file} is a file, not a folder.", "--out", "{underfile}.json"),
        c(2, "{dir}/existing.json already exists; choose another name or add --overwrite.", "--out",
            "{dir}/existing.json")));
    t.put("evaluate --overwrite", covered("cli.OptionSweepTest#overwriteReplacesEvaluationAndChart"));

    // ---- summary ----
    standard(t, "summary", true);
    t.put("summary --features", values(
        c(2, "--features must be between 1 and 100000, got 0.", "--features", "0"),
        c(2, "--features must be between 1 and 100000, got 2000000000.", "--features", "2000000000")));
    t.put("summary --time-embedding", values(
        c(2, "--time-embedding must be an even number between 4 and 100000, got 2.", "--time-embedding", "2"),
        c(2, "--time-embedding must be an even number between 4 and 100000, got 5.", "--time-embedding", "5"),
        c(2, "--time-embedding must be an even number between 4 and 100000, got 2000000000.", "--time-embedding",
            "2000000000")));
    t.put("summary --channels", values(
        c(2, "--channels must be 1 or 3, got 2.", "--channels", "2"),
        c(2, "--channels must be 1 or 3, got 0.", "--channels", "0")));
    t.put("summary --classes", values(
        c(2, "--classes must be between 0 and 100000, got -1.", "--classes", "-1")));
    t.put("summary --image-size", values(
        c(2, "--image-size must be between 2 and 512, got 0.", "--image-size", "0"),
        c(2, "--image-size must be between 2 and 512, got 1.", "--image-size", "1"),
        c(2, "--image-size must be between 2 and 512, got 100000.", "--image-size", "100000")));

    // ---- bench ----
    standard(t, "bench", true);
    t.put("bench --features", values(
        c(2, "--features must be positive, got 0.", "--features", "0"),
        c(2, memory("--features 100000", "the weights and their optimizer state", "--features \\d+"),
            "--features", "100000")));
    t.put("bench --batch", values(
        c(2, "--batch must be between 1 and 1700 (the training images of all digits), got 0.", "--batch", "0"),
        c(2, "--batch must be between 1 and 1700 (the training images of all digits), got 1701.", "--batch",
            "1701")));
    t.put("bench --steps", values(
        c(2, "--steps must be between 1 and 1000000, got 0.", "--steps", "0"),
        c(2, "--steps must be between 1 and 1000000, got 2000000000.", "--steps", "2000000000")));
    t.put("bench --sample-images", values(
        c(2, "--sample-images must be positive, got -1.", "--sample-images", "-1"),
        c(2, memory("--sample-images 2000000000", "the sampler's activations at --features 16",
            "--sample-images \\d+"), "--sample-images", "2000000000")));
    t.put("bench --precision", values(
        c(2, "Invalid value for option '--precision': --precision must be fp32, bf16, fp16 or auto, got '32'.",
            "--precision", "32"),
        c(2, "--precision fp16 needs a GPU, and TensorFlow sees none; on CPUs use bf16 (where supported) or fp32.",
            "--precision", "fp16")));
    t.put("bench --xla", values(
        c(2, "Invalid value for option '--xla': --xla must be on, off or auto, got '1'.", "--xla", "1")));
    // the placement options are train's (the Parallelism mixin), checked before anything is timed
    t.put("bench --devices", values(
        c(2, "Invalid value for option '--devices': expected a positive number or auto, got '0'.", "--devices", "0"),
        c(2, "--devices 200 is more than the 172 images of a step; use at most 172.", "--devices", "200"),
        c(2, "--devices 20 is more than the 10 images of a step; use at most 10.", "--devices", "20", "--batch",
            "10"),
        c(2, "Give --devices or --workers, not both.", "--devices", "2", "--workers", "127.0.0.1:1")));
    t.put("bench --workers", values(
        c(2, "--workers must list host:port pairs separated by commas (ports 1..65535), got 'nowhere'.",
            "--workers", "nowhere"),
        c(2, "--workers lists 3 workers, more than the 2 images of a step; use at most 2.", "--workers",
            "127.0.0.1:1,127.0.0.1:2,127.0.0.1:3", "--batch", "2")));
    t.put("bench --chief", values(
        c(2, "--chief applies to training on workers; add --workers or drop it.", "--chief", "127.0.0.1:7001"),
        c(2, "--chief takes one host:port, got 'a:1,b:2'.", "--chief", "a:1,b:2", "--workers", "127.0.0.1:1")));
    t.put("bench --connect-timeout", values(
        c(2, "--connect-timeout applies to training on workers; add --workers or drop it.", "--connect-timeout",
            "5"),
        c(2, "--connect-timeout must be at least 1 second, got 0.", "--connect-timeout", "0", "--workers",
            "127.0.0.1:1"),
        c(1, "No worker answered at task 0 (127.0.0.1:1) within 1 s; start each with 'worker --cluster 127.0.0.1:1 "
            + "--task I' (or raise --connect-timeout).", "--connect-timeout", "1", "--workers", "127.0.0.1:1")));

    // ---- plot-loss ----
    standard(t, "plot-loss", true);
    t.put("plot-loss --run", values(
        c(1, "Run folder {missing} does not exist.", "--run", "{missing}"),
        c(1, "{file} has no train_log.csv.", "--run", "{file}"),
        c(1, "{folder} has no train_log.csv.", "--run", "{folder}")));
    t.put("plot-loss --name", values(
        c(2, "--name is given 2 times for 1 --run folder; give at most one label per run, in order.", "--name",
            "a", "--name", "b")));
    t.put("plot-loss --reference", values(
        c(1, "Reference curve {missing} does not exist.", "--reference", "{missing}"),
        c(1, "Reference curve {folder} is a folder, not a CSV file.", "--reference", "{folder}"),
        c(1, "{file} line 1: expected 'epoch,ema_loss', found 'x'.", "--reference", "{file}")));
    t.put("plot-loss --reference-name", values(
        c(2, "--reference-name labels the --reference curves; add --reference FILE.csv or drop --reference-name.",
            "--reference-name", "tutorial")));
    t.put("plot-loss --at", values(
        c(2, "--at takes steps of 0 or more, got -5.", "--at", "0,-5")));
    t.put("plot-loss --out", values(
        c(2, "{folder} is a folder; give a file name.", "--out", "{folder}"),
        c(1, "Cannot create {underfile}.png: {file} is a file, not a folder.", "--out", "{underfile}.png"),
        c(2, "{dir}/existing.png already exists; choose another name or add --overwrite.", "--out",
            "{dir}/existing.png")));
    t.put("plot-loss --overwrite", covered("cli.OptionSweepTest#overwriteReplacesEvaluationAndChart"));

    // ---- bench serve ----
    standard(t, "bench serve", true);
    t.put("bench serve --model", values(
        c(1, "Model folder {missing} does not exist.", "--model", "{missing}"),
        c(1, "{folder} holds neither a saved_model.pb nor numbered version folders (1/, 2/, ...) with one.",
            "--model", "{folder}")));
    t.put("bench serve --clients", values(
        c(2, "--clients must be between 1 and 1024, got 0.", "--clients", "0")));
    t.put("bench serve --seconds", values(
        c(2, "--seconds must be between 1 and 1024, got 0.", "--seconds", "0")));
    t.put("bench serve --images", values(
        c(2, "--images must be between 1 and 1024, got 2000.", "--images", "2000")));
    t.put("bench serve --rounds", values(
        c(2, "--rounds must be between 1 and 1024, got 0.", "--rounds", "0")));
    t.put("bench serve --max-concurrent", values(
        c(2, "--max-concurrent must be between 1 and 1024, got -1.", "--max-concurrent", "-1")));
    t.put("bench serve --precision", values(
        c(2, "Invalid value for option '--precision': --precision must be fp32, bf16, fp16 or auto, got 'half'.",
            "--precision", "half")));
    t.put("bench serve --xla", values(
        c(2, "Invalid value for option '--xla': --xla must be on, off or auto, got 'yes'.", "--xla", "yes")));

    // ---- serve (every row is refused before the server would start) ----
    standard(t, "serve", true);
    t.put("serve --model", values(
        c(1, "Model folder {missing} does not exist.", "--model", "{missing}"),
        c(1, "{file} is a file, not a SavedModel folder or a folder of numbered versions.", "--model", "{file}"),
        c(1, "{folder} holds neither a saved_model.pb nor numbered version folders (1/, 2/, ...) with one.",
            "--model", "{folder}")));
    t.put("serve --name", values(
        c(2, "--name must not contain '/', ':', '?', '#', '%' or spaces, got 'a/b'.", "--name", "a/b"),
        c(2, "--name must not contain '/', ':', '?', '#', '%' or spaces, got 'a b'.", "--name", "a b")));
    t.put("serve --host", values(
        c(2, "--host 'no-such-host.invalid' is not a known host name or address.", "--host",
            "no-such-host.invalid"),
        c(1, "Cannot listen on 192.0.2.1:0: Cannot assign requested address.", "--host", "192.0.2.1")));
    t.put("serve --port", values(
        c(2, "--port must be from 0 to 65535, got -1.", "--port", "-1"),
        c(2, "--port must be from 0 to 65535, got 65536.", "--port", "65536")));
    t.put("serve --max-body-mb", values(
        c(2, "--max-body-mb must be a positive whole number, got 0.", "--max-body-mb", "0")));
    t.put("serve --max-batch", values(
        c(2, "--max-batch must be a positive whole number, got 0.", "--max-batch", "0")));
    t.put("serve --max-concurrent", values(
        c(2, "--max-concurrent must be a positive whole number, got -2.", "--max-concurrent", "-2")));
    t.put("serve --timeout-ms", values(
        c(2, "--timeout-ms must be a positive whole number, got 0.", "--timeout-ms", "0")));
    t.put("serve --drain-s", values(
        c(2, "--drain-s must be 0 or more, got -1.", "--drain-s", "-1")));
    t.put("serve --precision", values(
        c(2, "Invalid value for option '--precision': --precision must be fp32, bf16, fp16 or auto, got 'half'.",
            "--precision", "half")));
    t.put("serve --xla", values(
        c(2, "Invalid value for option '--xla': --xla must be on, off or auto, got 'yes'.", "--xla", "yes")));

    // ---- the rest ----
    standard(t, "devices", true);
    standard(t, "generate-completion", false);
    standard(t, "worker", true);
    t.put("worker --cluster", values(
        bare(2, "--cluster must list host:port pairs separated by commas (ports 1..65535), got 'nowhere'.",
            "--cluster", "nowhere", "--task", "0")));
    t.put("worker --task", values(
        bare(2, "--task 2 is outside the cluster of 1 worker (0..0).", "--cluster", "127.0.0.1:7001", "--task", "2"),
        bare(2, "--task -1 is outside the cluster of 1 worker (0..0).", "--cluster", "127.0.0.1:7001", "--task",
            "-1")));
    t.put("help --help", covered(HELP));
    t.put("help COMMAND", values(
        c(2, "Unknown subcommand 'trian'.", "trian"),
        c(2, "Unknown option: '--features'.", "train", "--features")));
    return t;
  }

  /** The options each command needs to get past the option under test, which replaces any of them it names. */
  private static final Map<String, List<String>> BASE = Map.of(
      "train", List.of("--out", "{new}", "--steps", "2", "--features", "2", "--no-export", "--quiet"),
      "sample", List.of("--model", "{model}", "--out", "{new}.png", "--count", "2"),
      "evaluate", List.of("--model", "{model}", "--out", "{new}.json", "--count", "2"),
      "export", List.of("--checkpoint", "{run}", "--out", "{new}"),
      "plot-loss", List.of("--run", "{run}", "--out", "{new}.png"),
      "serve", List.of("--model", "{model}", "--port", "0"),
      "bench serve", List.of("--model", "{model}", "--seconds", "1"));

  // ---- enumeration -------------------------------------------------------------------------------------------------

  /** Every option (and positional parameter) of the root command and every subcommand, from picocli's model. */
  private static Map<String, ArgSpec> arguments() {
    return arguments(new CommandLine(new Main()));
  }

  private static Map<String, ArgSpec> arguments(CommandLine root) {
    Map<String, ArgSpec> all = new LinkedHashMap<>();
    List<CommandSpec> commands = new ArrayList<>();
    commands.add(root.getCommandSpec());
    for (int i = 0; i < commands.size(); i++) { // and their subcommands (bench serve), breadth first
      commands.get(i).subcommands().values().forEach(sub -> commands.add(sub.getCommandSpec()));
    }
    for (CommandSpec spec : commands) {
      String name = spec.parent() == null ? "tf-diffusion" : spec.qualifiedName(" ").replaceFirst("^\\S+ ", "");
      for (OptionSpec o : spec.options()) {
        all.put(name + " " + o.longestName(), o);
      }
      for (PositionalParamSpec p : spec.positionalParameters()) {
        all.put(name + " " + p.paramLabel(), p);
      }
    }
    return all;
  }

  /** "bench serve" of "bench serve --clients": a key's command, which may be a subcommand's qualified name. */
  private static String commandOf(String key) {
    return key.substring(0, key.lastIndexOf(' '));
  }

  @Test
  void everyOptionOfEveryCommandHasASweepRow() {
    Map<String, ArgSpec> arguments = arguments();
    Set<String> commands = new TreeSet<>();
    arguments.keySet().forEach(k -> commands.add(commandOf(k)));
    assertTrue(commands.containsAll(List.of("train", "sample", "export", "evaluate", "summary", "bench",
        "plot-loss", "devices", "generate-completion", "help")), commands.toString());
    Set<String> missing = new TreeSet<>(arguments.keySet());
    missing.removeAll(TABLE.keySet());
    assertTrue(missing.isEmpty(), "options without a row in OptionSweepTest.TABLE: " + missing);
    Set<String> stale = new TreeSet<>(TABLE.keySet());
    stale.removeAll(arguments.keySet());
    assertTrue(stale.isEmpty(), "rows for options that do not exist: " + stale);
    for (Map.Entry<String, Row> e : TABLE.entrySet()) {
      ArgSpec arg = arguments.get(e.getKey());
      boolean isSwitch = arg.arity().max() == 0;
      if (e.getValue() instanceof Switch s) {
        assertTrue(isSwitch, e.getKey() + " takes a value: give it cases, not a behaviour test");
        assertTestExists(e.getKey(), s.coveredBy());
      } else {
        assertFalse(isSwitch, e.getKey() + " is a switch: name the behaviour test that covers it");
        assertFalse(cases(e.getKey(), arg).isEmpty(), e.getKey() + " has no cases");
      }
    }
  }

  /** The check above, on a command line with one option more: it names the option that has no row. */
  @Test
  void anOptionWithoutARowIsFound() {
    CommandLine root = new CommandLine(new Main());
    root.getSubcommands().get("sample").getCommandSpec()
        .addOption(OptionSpec.builder("--new-option").type(int.class).build());
    Set<String> missing = new TreeSet<>(arguments(root).keySet());
    missing.removeAll(TABLE.keySet());
    assertEquals(Set.of("sample --new-option"), missing);
  }

  private static void assertTestExists(String option, String coveredBy) {
    String[] parts = coveredBy.split("#");
    try {
      Method m = Class.forName("dev.tfdiffusion." + parts[0]).getDeclaredMethod(parts[1]);
      assertTrue(m.isAnnotationPresent(Test.class), coveredBy + " (the test of " + option + ") is not a @Test");
    } catch (ClassNotFoundException | NoSuchMethodException e) {
      fail(option + " names " + coveredBy + ", which does not exist");
    }
  }

  // ---- the sweep -------------------------------------------------------------------------------------------------

  /**
   * The type's generic cases: a missing value; for whole numbers a word, a fraction and a number beyond the type;
   * for decimals a word.
   */
  private static List<Case> generic(ArgSpec arg) {
    List<Case> cases = new ArrayList<>();
    if (!(arg instanceof OptionSpec o) || o.arity().max() == 0) {
      return cases;
    }
    String name = o.longestName();
    String label = "~(Missing required parameter for option '" + Pattern.quote(name) + "' \\(.*\\)"
        + "|Expected parameter for option '" + Pattern.quote(name) + "' but found .*)\\.";
    cases.add(c(2, label, name));
    Class<?> type = o.auxiliaryTypes().length > 0 && o.isMultiValue() ? o.auxiliaryTypes()[0] : o.type();
    String invalid = "~Invalid value for option '" + Pattern.quote(name) + "'( \\(\\S+\\))?: ";
    if (type == int.class || type == Integer.class || type == long.class || type == Long.class) {
      boolean isInt = type == int.class || type == Integer.class;
      cases.add(c(2, invalid + "'abc' is not a whole number\\.", name, "abc"));
      cases.add(c(2, invalid + "'2\\.5' is not a whole number\\.", name, "2.5"));
      cases.add(c(2, invalid + "'99999999999999999999' is too large \\(at most "
          + (isInt ? Integer.MAX_VALUE : Long.MAX_VALUE) + "\\)\\.", name, "99999999999999999999"));
    } else if (type == double.class || type == Double.class || type == float.class || type == Float.class) {
      cases.add(c(2, invalid + "'abc' is not a number\\.", name, "abc"));
    }
    return cases;
  }

  private static List<Case> cases(String key, ArgSpec arg) {
    List<Case> all = new ArrayList<>(((Values) TABLE.get(key)).cases());
    all.addAll(generic(arg));
    return all;
  }

  @TestFactory
  Stream<DynamicTest> everyMistypedValueGetsOneSentenceAndWritesNothing() {
    List<DynamicTest> tests = new ArrayList<>();
    Map<String, ArgSpec> arguments = arguments();
    for (Map.Entry<String, Row> e : TABLE.entrySet()) {
      if (!(e.getValue() instanceof Values) || !arguments.containsKey(e.getKey())) {
        continue;
      }
      String command = commandOf(e.getKey());
      for (Case c : cases(e.getKey(), arguments.get(e.getKey()))) {
        tests.add(DynamicTest.dynamicTest(command + " " + String.join(" ", c.args()), () -> check(command, c)));
      }
    }
    return tests.stream();
  }

  private static void check(String command, Case c) {
    List<String> args = new ArrayList<>();
    if (!command.equals("tf-diffusion")) {
      args.addAll(List.of(command.split(" ")));
    }
    List<String> given = c.args().stream().map(OptionSweepTest::fill).toList();
    List<String> base = c.bare() ? List.of() : BASE.getOrDefault(command, List.of());
    for (int i = 0; i < base.size(); i++) {
      boolean takesValue = i + 1 < base.size() && !base.get(i + 1).startsWith("--");
      if (!given.contains(base.get(i))) {
        args.add(fill(base.get(i)));
        if (takesValue) {
          args.add(fill(base.get(i + 1)));
        }
      }
      if (takesValue) {
        i++;
      }
    }
    args.addAll(given);
    String shown = String.join(" ", args);
    Output o = FileSnapshot.assertWritesNothing(() -> capture(() -> Main.run(new PrintWriter(System.err, true),
        args.toArray(new String[0]))), dir, DEFAULT_RUNS, DEFAULT_PNG, SampleFiles.csvFor(DEFAULT_PNG));
    String err = o.err().strip();
    assertEquals(c.exit(), o.code(), shown + ": exit code; stderr: " + err);
    assertFalse(err.contains("Exception"), shown + ": " + err);
    assertFalse(err.contains("at dev.tfdiffusion") || err.contains("\tat "), shown + ": stack trace: " + err);
    List<String> lines = err.lines().toList();
    assertFalse(lines.isEmpty(), shown + ": nothing on stderr");
    String sentence = lines.get(0);
    assertTrue(sentence.endsWith("."), shown + ": not a sentence: " + sentence);
    // a usage error that picocli found is followed by the pointer to --help, and nothing else
    List<String> after = lines.subList(1, lines.size());
    String qualified = command.equals("tf-diffusion") ? "tf-diffusion" : "tf-diffusion " + command;
    if (command.equals("help") && sentence.startsWith("Unknown subcommand")) {
      qualified = "tf-diffusion";
    }
    assertTrue(after.isEmpty() || after.equals(List.of("Run '" + qualified + " --help' for the options.")),
        shown + ": more than one sentence: " + err);
    String expected = fill(c.message());
    if (expected.startsWith("~")) {
      assertTrue(Pattern.matches(expected.substring(1), sentence), shown + ": " + sentence + "\n  does not match "
          + expected.substring(1));
    } else {
      assertEquals(expected, sentence, shown);
    }
    assertEquals("", o.out(), shown + ": a failing command prints nothing on stdout");
  }

  /** The paths a case names: {dir}, {run}, {model}, a {file}, an empty {folder}, a {full} folder, ... */
  private static String fill(String s) {
    Path file = dir.resolve("plain-file");
    return s.replace("{new}", dir.resolve("new-" + FRESH.incrementAndGet()).toString())
        .replace("{model}", model.toString())
        .replace("{run}", run.toString())
        .replace("{underfile}", file.resolve("sub").toString())
        .replace("{file}", file.toString())
        .replace("{folder}", dir.resolve("empty-folder").toString())
        .replace("{full}", dir.resolve("full-folder").toString())
        .replace("{missing}", dir.resolve("missing").toString())
        .replace("{dir}", dir.toString());
  }

  // ---- the switches' behaviour tests -----------------------------------------------------------------------------

  private record Output(int code, String out, String err) {}

  /** Runs {@code command} with System.out and System.err captured. */
  private static Output capture(java.util.function.IntSupplier command) {
    PrintStream out = System.out;
    PrintStream err = System.err;
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    ByteArrayOutputStream e = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
      int code = command.getAsInt();
      return new Output(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(out);
      System.setErr(err);
    }
  }

  /** A (sub)command's words followed by {@code arg}. */
  private static String[] with(String command, String arg) {
    List<String> args = new ArrayList<>(List.of(command.split(" ")));
    args.add(arg);
    return args.toArray(String[]::new);
  }

  private static Output cli(String... args) {
    return capture(() -> Main.run(new PrintWriter(System.err, true), args));
  }

  @Test
  void helpAndVersionOfEveryCommand() {
    for (String command : List.of("train", "sample", "export", "evaluate", "summary", "bench", "bench serve",
        "serve", "plot-loss", "devices", "generate-completion")) {
      Output help = FileSnapshot.assertWritesNothing(() -> cli(with(command, "--help")), dir, DEFAULT_RUNS);
      assertEquals(0, help.code(), command);
      assertTrue(help.out().contains("SYNOPSIS") && help.out().contains("tf-diffusion " + command), command);
      Output version = cli(with(command, "--version"));
      assertEquals(0, version.code(), command);
      assertFalse(version.out().isBlank(), command + " --version");
    }
    assertTrue(cli("--version").out().contains("tf-diffusion"));
    assertTrue(cli("help", "--help").out().contains("tf-diffusion help"));
    assertTrue(cli("--help").out().contains("COMMANDS"));
  }

  @Test
  void verboseAddsTheStackTraceOnlyWhenAsked() throws IOException {
    // a model whose variables are cut short cannot be loaded: a failure with a cause
    Path broken = dir.resolve("broken-model");
    TestFiles.copyTree(model, broken);
    Path data = broken.resolve("variables/variables.data-00000-of-00001");
    try (RandomAccessFile f = new RandomAccessFile(data.toFile(), "rw")) {
      f.setLength(f.length() / 2);
    }
    Path out = dir.resolve("broken.png");
    Output quiet = cli("sample", "--model", broken.toString(), "--out", out.toString(), "--count", "2");
    Output verbose = cli("sample", "--model", broken.toString(), "--out", out.toString(), "--count", "2",
        "--verbose");
    assertEquals(1, quiet.code());
    assertEquals(1, verbose.code());
    String sentence = quiet.err().strip();
    assertEquals(1, sentence.lines().count(), sentence);
    assertTrue(sentence.startsWith("Cannot load the SavedModel in " + broken + ": "), sentence);
    assertTrue(verbose.err().startsWith(sentence), verbose.err());
    assertTrue(verbose.err().contains("\tat "), "--verbose shows the stack trace: " + verbose.err());
    assertFalse(Files.exists(out));
  }

  @Test
  void trainSwitches() throws IOException {
    // the shared run (trainTinyModel) was trained with --quiet --no-export --overwrite over an older run
    assertEquals("", tinyTraining.out(), "--quiet prints nothing");
    assertTrue(junkRemoved, "--overwrite empties the older run first");
    assertFalse(exportedByTrain, "--no-export skips the SavedModel and the samples");
    assertTrue(Files.readString(run.resolve("config.json")).contains("\"features\" : 4"), "--overwrite");
  }

  @Test
  void sampleSwitches() throws IOException {
    Path out = dir.resolve("switches/s.png");
    Files.createDirectories(out.getParent());
    Files.writeString(out, "old");
    Output o = cli("sample", "--model", model.toString(), "--count", "2", "--out", out.toString(),
        "--tutorial-sampler", "--figures", "--overwrite");
    assertEquals(0, o.code(), o.err());
    assertTrue(o.out().contains("tutorial"), "--tutorial-sampler: " + o.out());
    assertFalse(Files.readString(out, StandardCharsets.ISO_8859_1).equals("old"), "--overwrite");
    assertTrue(Files.size(out.resolveSibling("reconstruct.png")) > 0, "--figures");
    assertTrue(Files.size(out.resolveSibling("forward_reverse.png")) > 0, "--figures");
    Output both = cli("sample", "--model", model.toString(), "--count", "2", "--out", out.toString(),
        "--tutorial-sampler", "--sampler", "ddim", "--overwrite");
    assertEquals(2, both.code());
    assertEquals("--tutorial-sampler means --sampler tutorial; give one of them, not --sampler ddim as well.",
        both.err().strip());
  }

  @Test
  void overwriteReplacesEvaluationAndChart() throws IOException {
    Path chart = dir.resolve("overwrite/loss.png");
    Files.createDirectories(chart.getParent());
    Files.writeString(chart, "old");
    assertEquals(0, cli("plot-loss", "--run", run.toString(), "--out", chart.toString(), "--overwrite").code());
    assertFalse(Files.readString(chart, StandardCharsets.ISO_8859_1).equals("old"));
    Path json = chart.resolveSibling("evaluation.json");
    Files.writeString(json, "old");
    Output o = cli("evaluate", "--model", model.toString(), "--count", "2", "--sampler", "ddim",
        "--sampling-steps", "1", "--out", json.toString(), "--overwrite");
    assertEquals(0, o.code(), o.err());
    assertFalse(Files.readString(json).equals("old"), "--overwrite");
  }

  // ---- the memory estimate ------------------------------------------------------------------------------------

  @Test
  void parameterFormulaMatchesTheBuiltGraph() {
    for (int[] c : new int[][] {{1, 4}, {3, 16}, {4, 128}}) {
      assertEquals((double) dev.tfdiffusion.model.ModelSummary.of(c[0], c[1], 8, 8).totalParameters(),
          MemoryEstimate.parameters(c[0], c[1]), Arrays.toString(c));
    }
    // the tutorial's count (ModelSummaryTest builds that graph)
    assertEquals(57_355_137.0, MemoryEstimate.parameters(64, 128));
  }

  @Test
  void theSuggestedSizeFitsAndOneMoreDoesNot() {
    long limit = 16L << 30;
    String m = refusal(() -> MemoryEstimate.requireTrainingFits(1000, 128, 8, 8, 172, "--batch-size", 1797,
        limit));
    java.util.regex.Matcher n = Pattern.compile("use at most --features (\\d+)").matcher(m);
    assertTrue(n.find(), m);
    int max = Integer.parseInt(n.group(1));
    assertTrue(MemoryEstimate.trainingBytes(max, 128, 8, 8, 172, 1797) <= limit);
    assertTrue(MemoryEstimate.trainingBytes(max + 1, 128, 8, 8, 172, 1797) > limit);
    assertEquals("--features 1000 needs about " + MemoryEstimate.bytes(MemoryEstimate.stateBytes(1000, 128))
        + " for the weights and their optimizer state; this machine has 17 GB of memory (use at most --features "
        + max + ").", m);
    String batch = refusal(() -> MemoryEstimate.requireTrainingFits(8, 128, 256, 256, 172, "--batch-size", 1797,
        limit));
    assertTrue(batch.matches("--batch-size 172 with 256x256 images at --features 8 needs about .*; this machine has "
        + "17 GB of memory \\(use at most --batch-size \\d+\\)\\."), batch);
    String count = refusal(() -> SampleCommand.requireSamplesFit(100_000, 512, 512, 6L << 30));
    assertTrue(count.matches("--count 100000 needs about 1\\.1 TB of Java heap for 512x512 images and their CSV; "
        + "this JVM may use 6\\.0 GB \\(use at most --count \\d+, or run java with a larger -Xmx\\)\\."), count);
  }

  private static String refusal(Runnable check) {
    try {
      check.run();
    } catch (dev.tfdiffusion.UserError e) {
      assertEquals(2, e.exitCode());
      return e.getMessage();
    }
    return fail("not refused");
  }

}
