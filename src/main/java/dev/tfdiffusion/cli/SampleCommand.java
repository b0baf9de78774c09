package dev.tfdiffusion.cli;

import dev.tfdiffusion.RunLayout;
import dev.tfdiffusion.UserError;
import dev.tfdiffusion.config.TrainConfig;
import dev.tfdiffusion.export.ModelExport;
import dev.tfdiffusion.sample.Figures;
import dev.tfdiffusion.sample.SampleFiles;
import dev.tfdiffusion.sample.Sampler;
import dev.tfdiffusion.sample.SavedModelSampler;
import dev.tfdiffusion.sample.Signatures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import dev.tfdiffusion.model.MemoryEstimate;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sample}: images from a SavedModel's signatures alone. */
@Command(name = "sample", mixinStandardHelpOptions = true,
    description = {"Draws images from pure noise with a SavedModel's 'sample' signature (1000 ancestral steps with "
        + "the schedule the model was trained with) and writes a PNG grid and a CSV (one image per row, pixel "
        + "values clipped to [0, 1]). The same --seed gives the same images."})
public final class SampleCommand implements Callable<Integer> {
  /** Refuse counts whose tensors would not fit comfortably (about 1.5 GB of activations at features 64). */
  static final int MAX_COUNT = 100_000;

  @Option(names = "--model", required = true, paramLabel = "DIR", description = "The SavedModel folder.")
  Path modelDir;

  @Option(names = "--count", paramLabel = "N", description = "Number of images (default: ${DEFAULT-VALUE}).")
  int count = 64;

  @Option(names = "--seed", paramLabel = "S", description = "Seed of x_T and of the sampler's noise (default: "
      + "${DEFAULT-VALUE}).")
  long seed = 0;

  @Option(names = "--out", paramLabel = "FILE.png", description = "PNG grid; the CSV goes beside it with the same name "
      + "(default: ${DEFAULT-VALUE}).")
  Path out = Path.of(RunLayout.SAMPLES_PNG);

  @Option(names = "--sampler", paramLabel = "ddpm|ddim|tutorial", converter = SamplerConverter.class,
      description = "ddpm: 1000 ancestral steps with the trained schedule (default); ddim: --sampling-steps DDIM "
          + "steps; tutorial: the tutorial's sampler, whose linear beta schedule differs from the cosine one the model "
          + "was trained with.")
  Sampler sampler = Sampler.DDPM;

  @Option(names = "--tutorial-sampler", description = "Same as --sampler tutorial.")
  boolean tutorialSampler;

  @Option(names = "--sampling-steps", paramLabel = "N", description = "DDIM steps (default: ${DEFAULT-VALUE}).")
  int samplingSteps = 50;

  @Option(names = "--eta", paramLabel = "E", description = "DDIM noise scale, 0 (deterministic) to 1 (default: "
      + "${DEFAULT-VALUE}).")
  float eta = 0f;

  @Option(names = "--label", paramLabel = "K|all",
      description = "For a conditional model: the class to draw, or 'all' (the default) for one row per class, "
          + "--count images in all. The CSV then ends each row with the class asked for.")
  String label;

  @Option(names = "--guidance", paramLabel = "W",
      description = "For a conditional model: classifier-free guidance weight, eps = eps(none) + W (eps(class) - "
          + "eps(none)); 0 ignores the class, 1 is the plain conditional model (default: ${DEFAULT-VALUE}).")
  double guidance = Signatures.DEFAULT_GUIDANCE;

  @Option(names = "--gif", paramLabel = "FILE.gif", description = "Also write an animation of the reverse process.")
  Path gif;

  @Option(names = "--figures", description = "Also write reconstruct.png and forward_reverse.png beside --out "
      + "(needs the training data named in the model's config.json).")
  boolean figures;

  @Mixin
  CommonOptions.ComputeSwitches compute;

  @Option(names = "--overwrite", description = "Replace existing output files.")
  boolean overwrite;

  @Mixin
  CommonOptions.Verbose verbose;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    if (count <= 0 || count > MAX_COUNT) {
      throw UserError.usage("--count must be between 1 and " + MAX_COUNT + ", got " + count + ".");
    }
    CommandLine.ParseResult parsed = spec.commandLine().getParseResult();
    if (tutorialSampler) {
      if (parsed.hasMatchedOption("--sampler") && sampler != Sampler.TUTORIAL) {
        throw UserError.usage("--tutorial-sampler means --sampler tutorial; give one of them, not --sampler "
            + sampler.label() + " as well.");
      }
      sampler = Sampler.TUTORIAL;
    }
    requireDdimFor(parsed, List.of(sampler));
    if (samplingSteps < 1 || samplingSteps > 1000) {
      throw UserError.usage("--sampling-steps must be between 1 and 1000, got " + samplingSteps + ".");
    }
    if (!(eta >= 0 && eta <= 1)) {
      throw UserError.usage("--eta must lie in [0, 1], got " + eta + ".");
    }
    Path csv = SampleFiles.csvFor(out);
    Path dir = out.toAbsolutePath().getParent();
    OutputPaths.requireCreatable(out);
    OutputPaths.requireCreatable(gif);
    SampleFiles.checkWritable(overwrite, out, csv, gif, figures ? dir.resolve(RunLayout.RECONSTRUCT_PNG) : null,
        figures ? dir.resolve(RunLayout.FORWARD_REVERSE_PNG) : null);
    TrainConfig config = null;
    if (figures) {
      Path configFile = modelDir.resolve(RunLayout.CONFIG);
      if (!Files.isRegularFile(configFile)) {
        throw new UserError(modelDir + " has no " + RunLayout.CONFIG + "; --figures needs the run's data settings.");
      }
      config = TrainConfig.read(configFile);
    }
    SavedModelSampler.requireSavedModelFolder(modelDir);
    try (SavedModelSampler model = SavedModelSampler.open(modelDir, compute.resolve())) {
      int[] labels = labels(model, parsed);
      int n = labels == null ? count : labels.length;
      requireSamplesFit(n, model.height(), model.width() * model.channels(), Runtime.getRuntime().maxMemory());
      SavedModelSampler.Condition condition = labels == null ? null : new SavedModelSampler.Condition(labels,
          (float) guidance);
      long start = System.nanoTime();
      float[] noise = model.noise(n, seed);
      float[] images = this.sampler.run(model, noise, seed, samplingSteps, eta, condition);
      Files.createDirectories(dir);
      int columns = labels != null && ALL.equals(label == null ? ALL : label) ? n / model.classes()
          : SampleFiles.squareColumns(n);
      SampleFiles.writeGrid(out, images, model.height(), model.width(), model.channels(), columns);
      SampleFiles.writeCsv(csv, images, model.pixelsPerImage(), labels);
      System.out.printf("Wrote %d samples (%s%s, seed %d) to %s and %s in %.1f s.%n", n,
          sampler.describe(samplingSteps, eta), describe(labels, model), seed, out, csv,
          (System.nanoTime() - start) / 1e9);
      if (gif != null) {
        OutputPaths.createParents(gif);
        // the animation shows the 1000-step trajectory (of the tutorial's sampler if that was chosen)
        Figures.reverseGif(model, gif, noise, seed, 100, sampler.withTrajectory(), condition);
        System.out.println("Wrote the reverse process to " + gif + ".");
      }
      if (figures) {
        RunFolders.figures(model, config, dir);
        System.out.println("Wrote " + dir.resolve(RunLayout.RECONSTRUCT_PNG) + " and "
            + dir.resolve(RunLayout.FORWARD_REVERSE_PNG) + ".");
      }
    }
    return 0;
  }

  /** --label's value for one row per class. */
  static final String ALL = "all";

  /**
   * The class asked for per image: null for an unconditional model; for a conditional one --label K (every image),
   * or one row per class with --count rounded up to a whole number of rows.
   */
  private int[] labels(SavedModelSampler model, CommandLine.ParseResult parsed) {
    if (!model.conditional()) {
      for (String option : List.of("--label", "--guidance")) {
        if (parsed.hasMatchedOption(option)) {
          throw UserError.usage(option + " steers a conditional model, and " + modelDir
              + " is unconditional (train one with --conditional).");
        }
      }
      return null;
    }
    if (!(guidance >= 0) || !Double.isFinite(guidance)) {
      throw UserError.usage("--guidance must be a number of at least 0, got " + guidance + ".");
    }
    int classes = model.classes();
    if (label == null || ALL.equals(label)) {
      return SavedModelSampler.labelsPerClass(classes, (count + classes - 1) / classes);
    }
    int k;
    try {
      k = Integer.parseInt(label);
    } catch (NumberFormatException e) {
      k = -1;
    }
    if (k < 0 || k >= classes || !label.equals(Integer.toString(k))) {
      throw UserError.usage("--label must be one of the model's classes 0.." + (classes - 1) + " or 'all', got '"
          + label + "'.");
    }
    int[] labels = new int[count];
    java.util.Arrays.fill(labels, k);
    return labels;
  }

  private String describe(int[] labels, SavedModelSampler model) {
    if (labels == null) {
      return "";
    }
    String which = label == null || ALL.equals(label) ? labels.length / model.classes() + " per class"
        : "class " + label;
    return ", " + which + ", guidance " + guidance;
  }

  /** --sampling-steps and --eta steer DDIM only: given with other samplers they would be silently ignored. */
  static void requireDdimFor(CommandLine.ParseResult parsed, List<Sampler> samplers) {
    if (samplers.contains(Sampler.DDIM)) {
      return;
    }
    for (String option : List.of("--sampling-steps", "--eta")) {
      if (parsed.hasMatchedOption(option)) {
        throw UserError.usage(option + " applies to the ddim sampler only; add --sampler ddim or drop " + option
            + ".");
      }
    }
  }

  /** Java-heap bytes per sampled pixel value: noise and images (4 each), the CSV text while it is built (40). */
  static final int HEAP_BYTES_PER_VALUE = 48;

  /**
   * Refuses a --count whose images and their CSV text cannot be held in the Java heap ({@code maxHeap}), or whose
   * values exceed a Java array, saying how many would fit.
   */
  static void requireSamplesFit(int count, int height, int width, long maxHeap) {
    long values = (long) count * height * width;
    double need = (double) values * HEAP_BYTES_PER_VALUE;
    long perImage = (long) height * width;
    long maxByArray = (Integer.MAX_VALUE - 8) / perImage;
    long maxByHeap = (long) (maxHeap / ((double) perImage * HEAP_BYTES_PER_VALUE));
    long max = Math.min(maxByArray, maxByHeap);
    if (count <= max) {
      return;
    }
    throw UserError.usage("--count " + count + " needs about " + MemoryEstimate.bytes(need) + " of Java heap for "
        + height + "x" + width + " images and their CSV; this JVM may use " + MemoryEstimate.bytes(maxHeap)
        + (max >= 1 ? " (use at most --count " + max + ", or run java with a larger -Xmx)." : "."));
  }
}
