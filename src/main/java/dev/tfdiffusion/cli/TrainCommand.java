package dev.tfdiffusion.cli;

import dev.tfdiffusion.RunLayout;
import dev.tfdiffusion.UserError;
import dev.tfdiffusion.config.Presets;
import dev.tfdiffusion.config.TrainConfig;
import dev.tfdiffusion.data.Images;
import dev.tfdiffusion.data.TrainingData;
import dev.tfdiffusion.model.MemoryEstimate;
import dev.tfdiffusion.train.Placement;
import dev.tfdiffusion.train.Trainer;
import dev.tfdiffusion.util.Compute;
import dev.tfdiffusion.util.FileTrees;
import dev.tfdiffusion.util.RunLock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code train}: every {@link TrainConfig} field is an option of the same name; unset options take the preset's
 * value.
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Trains the diffusion model and writes config.json, train_log.csv, loss.png, "
        + "training_images.png and checkpoints to the run folder; at the end, the SavedModel (saved_model/), "
        + "samples.png/.csv, reconstruct.png, forward_reverse.png and reverse.gif.",
        "Defaults come from the preset (quick unless --preset says otherwise); every option overrides one field."})
public final class TrainCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @ParentCommand
  Main main;

  // ---- the run, not hyperparameters ----
  @Option(names = "--preset", paramLabel = "NAME",
      description = "Starting point: quick (the default: the tutorial's model at a quarter of the width, trained for "
          + "fewer steps), tutorial (the tutorial exactly) or conditional (all ten digits, sample --label asks for "
          + "one). The options below show each preset's value.")
  String preset = Presets.DEFAULT;

  @Option(names = "--config", paramLabel = "FILE.json",
      description = "Start from a config.json (as every run writes) instead of a preset; other options override it.")
  Path configFile;

  @Option(names = "--out", paramLabel = "DIR",
      description = "Run folder (default: graphs/<preset>-digit<d>-<date-time>).")
  Path out;

  @Option(names = "--resume", paramLabel = "DIR",
      description = "Continue the run in DIR from its newest good checkpoint, with its own config.json.")
  Path resume;

  @Option(names = "--overwrite", description = "Replace the run already in --out (its files are deleted).")
  boolean overwrite;

  @Option(names = "--stop-after", paramLabel = "STEP",
      description = "Stop after STEP steps with a checkpoint (resume later with --resume).")
  long stopAfter;

  @Option(names = "--no-export", description = "Skip the SavedModel, samples and figures at the end of the run.")
  boolean noExport;

  @Mixin
  CommonOptions.ComputeSwitches compute;

  @Mixin
  Parallelism parallelism;

  @Mixin
  RecoveryOptions recovery;

  @Option(names = "--quiet", description = "Print nothing but errors.")
  boolean quiet;

  @Mixin
  CommonOptions.Verbose verbose;

  @Mixin
  Hyperparameters hyperparameters;

  @Override
  public Integer call() throws IOException {
    if (stopAfter < 0 || (stopAfter == 0 && spec.commandLine().getParseResult().hasMatchedOption("--stop-after"))) {
      throw UserError.usage("--stop-after must be positive, got " + stopAfter + ".");
    }
    Placement.Recovery faults = recovery.resolve(parallelism.onWorkers());
    Map<String, Object> overrides = configOverrides();
    if (resume != null) {
      if (!overrides.isEmpty() || out != null || overwrite || configFile != null
          || spec.commandLine().getParseResult().hasMatchedOption("--preset")) {
        throw UserError.usage("--resume continues " + resume + " with its own config.json; drop "
            + String.join(", ", matchedNames(overrides)) + " (start a new run to change settings).");
      }
      requireRun(resume);
      try (RunLock lock = RunLock.acquire(resume, CommonOptions.typed(spec))) {
        TrainConfig config = TrainConfig.read(resume.resolve(RunLayout.CONFIG)).validate();
        Images.Split data = TrainingData.load(config, fits(config));
        Compute settings = compute.resolve(); // before TensorFlow starts: XLA reads its environment then
        return train(config, data, settings, parallelism.placement(config, data, faults), resume);
      }
    }
    if (configFile != null && spec.commandLine().getParseResult().hasMatchedOption("--preset")) {
      throw UserError.usage("Give either --config or --preset, not both.");
    }
    TrainConfig base = configFile != null ? TrainConfig.read(configFile).validate() : Presets.named(preset);
    if (overrides.containsKey("steps") && !overrides.containsKey("warmup-steps")) {
      // keep the preset's warm-up share of the run (the tutorial's 1000 of 5000) when only the length changes
      overrides.put("warmup-steps", (int) ((long) base.warmupSteps() * (Integer) overrides.get("steps")
          / base.steps()));
    }
    if (Boolean.TRUE.equals(overrides.get("conditional")) && !overrides.containsKey("digit")) {
      overrides.put("digit", TrainConfig.ALL_DIGITS); // a conditional model learns every class
    }
    TrainConfig config = base.with(overrides).validate();
    Path runDir = out != null ? out : defaultRunDir(config);
    requireNewRunDir(runDir, overwrite);
    // bad data fails here, before a run folder is created, or an old one emptied for --overwrite
    Images.Split data = TrainingData.load(config, fits(config));
    config = TrainingData.withClasses(config, data);
    Compute settings = compute.resolve(); // before TensorFlow starts: XLA reads its environment then
    Placement placement = parallelism.placement(config, data, faults);
    try (RunLock lock = prepareNewRunDir(runDir, overwrite, CommonOptions.typed(spec))) {
      return train(config, data, settings, placement, runDir);
    }
  }

  /**
   * Refuses, before anything is written or resized, a model, image size or batch whose training step cannot fit in
   * memory.
   */
  public static TrainingData.SizeCheck fits(TrainConfig config) {
    return (train, test, height, width, channels) -> {
      MemoryEstimate.requireImagesFit(train + test, height, width, channels, Runtime.getRuntime().maxMemory());
      MemoryEstimate.requireTrainingFits(config.features(), config.timeEmbedding(), height, width,
          config.batchSize() == 0 ? train : config.batchSize(), "--batch-size", train + test,
          MemoryEstimate.nativeLimit());
    };
  }

  /** The run itself, under the run folder's lock. */
  private int train(TrainConfig config, Images.Split data, Compute settings, Placement placement, Path runDir)
      throws IOException {
    Trainer trainer = new Trainer(config, new Trainer.Options(runDir, resume != null, stopAfter,
        System.console() != null, quiet, settings, Versions.all(), placement), System.out);
    CountDownLatch done = trainer.installInterruptHandler();
    Trainer.Outcome outcome;
    try {
      outcome = trainer.run(data);
    } catch (IOException | RuntimeException e) {
      // a stop hook waiting on this run must let the process exit only after the error has been printed
      main.releaseAfterExit(done);
      throw e;
    }
    done.countDown();
    if (outcome.finished() && !noExport) {
      RunFolders.exportWithFigures(runDir, System.out, quiet);
    }
    return 0;
  }

  /** The config fields given on the command line, by flag name. */
  private Map<String, Object> configOverrides() {
    List<String> keys = TrainConfig.keys();
    Map<String, Object> overrides = new LinkedHashMap<>();
    for (OptionSpec o : spec.commandLine().getParseResult().matchedOptions()) {
      for (String name : o.names()) {
        if (keys.contains(name.substring(2))) {
          overrides.put(name.substring(2), o.getValue());
          break;
        }
      }
    }
    return overrides;
  }

  private List<String> matchedNames(Map<String, Object> overrides) {
    List<String> names = new java.util.ArrayList<>(overrides.keySet().stream().map(k -> "--" + k).toList());
    if (out != null) {
      names.add("--out");
    }
    if (configFile != null) {
      names.add("--config");
    }
    if (overwrite) {
      names.add("--overwrite");
    }
    if (spec.commandLine().getParseResult().hasMatchedOption("--preset")) {
      names.add("--preset");
    }
    return names;
  }

  static Path defaultRunDir(TrainConfig config) {
    String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    String digitPart = TrainConfig.ALL_DIGITS.equals(config.digit()) ? "all" : "digit" + config.digit();
    return Path.of("graphs", config.preset() + "-" + digitPart + "-" + stamp);
  }

  static void requireRun(Path dir) {
    if (!Files.exists(dir)) {
      throw new UserError("Run folder " + dir + " does not exist.");
    }
    if (!Files.isRegularFile(dir.resolve(RunLayout.CONFIG))) {
      throw new UserError(dir + " is not a training run (it has no " + RunLayout.CONFIG + ").");
    }
  }

  /**
   * Creates and locks {@code runDir} for {@code command} (the lock's holder details) and, if {@code overwrite},
   * empties it. {@link #requireNewRunDir} ran before, without writing anything; it runs again under the lock, since
   * another process may have started a run there in between.
   */
  public static RunLock prepareNewRunDir(Path runDir, boolean overwrite, String command) throws IOException {
    try {
      Files.createDirectories(runDir);
    } catch (IOException e) {
      throw new UserError("Cannot create run folder " + runDir + ": " + e.getMessage() + ".");
    }
    if (!Files.isWritable(runDir)) {
      throw new UserError("Run folder " + runDir + " is not writable.");
    }
    RunLock lock = RunLock.acquire(runDir, command);
    try {
      requireNewRunDir(runDir, overwrite);
      if (overwrite) {
        FileTrees.deleteContents(runDir, RunLayout.LOCK);
      }
      return lock;
    } catch (IOException | RuntimeException e) {
      lock.close();
      throw e;
    }
  }

  /** Refuses an --out that is a file, a non-empty folder or (without {@code overwrite}) a run; writes nothing. */
  public static void requireNewRunDir(Path runDir, boolean overwrite) throws IOException {
    if (Files.exists(runDir) && !Files.isDirectory(runDir)) {
      throw UserError.usage("--out " + runDir + " is a file, not a folder.");
    }
    if (!Files.isDirectory(runDir)) {
      OutputPaths.requireCreatable("run folder ", runDir);
      return;
    }
    boolean isRun = Files.exists(runDir.resolve(RunLayout.CONFIG));
    boolean empty;
    try (Stream<Path> entries = Files.list(runDir)) {
      empty = entries.allMatch(p -> p.getFileName().toString().equals(RunLayout.LOCK));
    }
    if (isRun && !overwrite) {
      throw UserError.usage(runDir + " already holds a run; continue it with --resume " + runDir
          + ", or replace it with --overwrite.");
    }
    if (!isRun && !empty) {
      throw UserError.usage(runDir + " is not empty and holds no run; choose a new or empty --out folder.");
    }
  }
}
