package dev.tfdiffusion.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.tfdiffusion.RunLayout;
import dev.tfdiffusion.UserError;
import dev.tfdiffusion.config.TrainConfig;
import dev.tfdiffusion.evaluate.Evaluation;
import dev.tfdiffusion.evaluate.Judge;
import dev.tfdiffusion.export.ModelExport;
import dev.tfdiffusion.sample.SampleFiles;
import dev.tfdiffusion.sample.SavedModelSampler;
import dev.tfdiffusion.sample.Signatures;
import dev.tfdiffusion.sample.Sampler;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code evaluate}: how good are a model's samples, by an independent digit classifier. */
@Command(name = "evaluate", mixinStandardHelpOptions = true,
    description = {"Draws samples with each sampler and scores them with a digit classifier trained (once, cached) on "
        + "the bundled digits: share recognised as the target digit, Fréchet distance to the real digits in the "
        + "classifier's features (next to the real-vs-real floor), memorisation and diversity. Prints a table and "
        + "writes evaluation.json."})
public final class EvaluateCommand implements Callable<Integer> {
  @Option(names = "--model", required = true, paramLabel = "DIR", description = "The SavedModel folder.")
  Path modelDir;

  @Option(names = "--count", paramLabel = "N", description = "Samples per sampler; for a conditional model, per "
      + "class (default: 256, or 64 per class).")
  Integer count;

  @Option(names = "--guidance", paramLabel = "W", split = ",",
      description = "For a conditional model: the guidance weights to score, comma-separated (default: the "
          + "sampling default, 2).")
  List<Double> guidances;

  @Option(names = "--sampler", paramLabel = "NAME", split = ",", converter = SamplerConverter.class,
      description = "Samplers to compare, comma-separated (default: ddpm,tutorial,ddim).")
  List<Sampler> samplers = List.of(Sampler.DDPM, Sampler.TUTORIAL, Sampler.DDIM);

  @Option(names = "--sampling-steps", paramLabel = "N", description = "DDIM steps (default: ${DEFAULT-VALUE}).")
  int samplingSteps = 50;

  @Option(names = "--eta", paramLabel = "E", description = "DDIM noise scale (default: ${DEFAULT-VALUE}).")
  float eta = 0f;

  @Option(names = "--seed", paramLabel = "S", description = "Seed of the samples (default: ${DEFAULT-VALUE}).")
  long seed = 0;

  @Option(names = "--out", paramLabel = "FILE", description = "Where to write the JSON (default: evaluation.json "
      + "beside the model folder).")
  Path out;

  @Option(names = "--overwrite", description = "Replace an existing evaluation file.")
  boolean overwrite;

  @Mixin
  CommonOptions.Verbose verbose;

  @Spec
  CommandSpec spec;

  /** Samples per class of a conditional model unless --count says otherwise. */
  static final int DEFAULT_PER_CLASS = 64;

  /** --guidance's weights for a conditional model; refused for an unconditional one. */
  private List<Double> guidances(SavedModelSampler model) {
    if (!model.conditional()) {
      if (guidances != null) {
        throw UserError.usage("--guidance steers a conditional model, and " + modelDir
            + " is unconditional (train one with --conditional).");
      }
      return List.of();
    }
    if (guidances == null) {
      return List.of(Signatures.DEFAULT_GUIDANCE);
    }
    for (double w : guidances) {
      if (!(w >= 0) || !Double.isFinite(w)) {
        throw UserError.usage("--guidance must be a number of at least 0, got " + w + ".");
      }
    }
    return guidances;
  }

  @Override
  public Integer call() throws IOException {
    if (count == null) {
      count = 256;
    }
    if (count < 2 || count > SampleCommand.MAX_COUNT) {
      throw UserError.usage("--count must be between 2 and " + SampleCommand.MAX_COUNT + ", got " + count + ".");
    }
    if (samplingSteps < 1 || samplingSteps > 1000) {
      throw UserError.usage("--sampling-steps must be between 1 and 1000, got " + samplingSteps + ".");
    }
    if (!(eta >= 0 && eta <= 1)) {
      throw UserError.usage("--eta must lie in [0, 1], got " + eta + ".");
    }
    SampleCommand.requireDdimFor(spec.commandLine().getParseResult(), samplers);
    SavedModelSampler.requireSavedModelFolder(modelDir);
    Path json = out != null ? out : modelDir.toAbsolutePath().getParent().resolve(RunLayout.EVALUATION_JSON);
    OutputPaths.requireCreatable(json);
    SampleFiles.checkWritable(overwrite, json);
    Path configFile = modelDir.resolve(RunLayout.CONFIG);
    if (!Files.isRegularFile(configFile)) {
      throw new UserError(modelDir + " has no " + RunLayout.CONFIG + "; evaluate needs the run's data settings.");
    }
    TrainConfig config = TrainConfig.read(configFile);
    try (SavedModelSampler model = SavedModelSampler.open(modelDir);
         Judge judge = Judge.load(Judge.defaultCache(), System.out)) {
      if (model.height() != 8 || model.width() != 8 || model.channels() != 1) {
        throw new UserError("evaluate judges 8x8 gray digits; " + modelDir + " makes " + model.height() + "x"
            + model.width() + (model.channels() == 1 ? "" : " colour") + " images.");
      }
      List<Double> weights = guidances(model);
      int n = spec.commandLine().getParseResult().hasMatchedOption("--count") || !model.conditional() ? count
          : DEFAULT_PER_CLASS;
      if ((long) n * Math.max(1, model.classes()) > SampleCommand.MAX_COUNT) {
        throw UserError.usage("--count " + n + " per class makes " + (long) n * model.classes() + " samples; use at "
            + "most " + SampleCommand.MAX_COUNT / model.classes() + ".");
      }
      Evaluation.Report report = Evaluation.run(model, modelDir, config, judge, n, seed, samplers,
          samplingSteps, eta, weights);
      System.out.print(Evaluation.table(report));
      OutputPaths.createParents(json);
      SampleFiles.writeAtomically(json, new ObjectMapper()
          .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE).enable(SerializationFeature.INDENT_OUTPUT)
          .writeValueAsString(report) + "\n");
      System.out.println("Wrote " + json + ".");
    }
    return 0;
  }
}
