package dev.tfdiffusion.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tfdiffusion.UserError;
import dev.tfdiffusion.bench.Benchmark;
import dev.tfdiffusion.config.Presets;
import dev.tfdiffusion.config.TrainConfig;
import dev.tfdiffusion.data.TrainingData;
import dev.tfdiffusion.model.MemoryEstimate;
import dev.tfdiffusion.util.Compute;
import dev.tfdiffusion.train.Placement;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code bench}: one JSON object of timings, for people and scripts. */
@Command(name = "bench", mixinStandardHelpOptions = true, subcommands = BenchServeCommand.class,
    description = {"Times the training step (gradient penalty on) and the 1000-step sampler, and prints one JSON "
        + "object: device, features, batch, build_s, first_step_s, train_step_ms_median/min/max, useful_gflops "
        + "(from the analytic FLOP count that summary prints), sample_1000_ms (for --sample-images), peak_rss_mb, ...",
        "",
        "With --devices N or --workers the training step runs as 'train' would run it there (towers on N devices, or "
            + "on worker tasks with bench as the chief), and the JSON adds the megabytes that cross between devices "
            + "or tasks in one step, measured from a traced step (exchanged_mb_per_step, "
            + "exchanged_mb_per_tower_per_step) and counted from the graph's design (the same keys ending in "
            + "_model). The sampler is always timed on one local device."})
public final class BenchCommand implements Callable<Integer> {
  /** The timings are kept in an array: a million steps is days of timing already. */
  static final int MAX_STEPS = 1_000_000;
  private static final int TIME_EMBEDDING = Presets.quick().timeEmbedding();

  @Option(names = "--features", paramLabel = "N", description = "U-Net base width (default: ${DEFAULT-VALUE}).")
  int features = 16;

  @Option(names = "--batch", paramLabel = "N",
      description = "Images per step: up to 172 of digit 1 (172, the default, is the tutorial's full batch), more "
          + "from all digits.")
  int batch = Benchmark.TUTORIAL_BATCH;

  @Option(names = "--steps", paramLabel = "N", description = "Timed steps after 4 warm-up steps (default: "
      + "${DEFAULT-VALUE}).")
  int steps = 20;

  @Option(names = "--sample-images", paramLabel = "N", description = "Images of the timed sampler run (default: "
      + "${DEFAULT-VALUE}).")
  int sampleImages = 64;

  @Mixin
  CommonOptions.ComputeSwitches compute;

  @Mixin
  Parallelism parallelism;

  @Mixin
  CommonOptions.Verbose verbose;

  @Override
  public Integer call() throws IOException {
    for (String option : new String[] {"--features", "--sample-images"}) {
      int value = option.equals("--features") ? features : sampleImages;
      if (value <= 0) {
        throw UserError.usage(option + " must be positive, got " + value + ".");
      }
    }
    if (steps <= 0 || steps > MAX_STEPS) {
      throw UserError.usage("--steps must be between 1 and " + MAX_STEPS + ", got " + steps + ".");
    }
    if (batch <= 0 || batch > 1700) {
      throw UserError.usage("--batch must be between 1 and 1700 (the training images of all digits), got " + batch
          + ".");
    }
    // bench trains on the bundled 8x8 digits (all 1797 of them when --batch is above 172)
    MemoryEstimate.requireTrainingFits(features, TIME_EMBEDDING, 8, 8, batch, "--batch", 1797,
        MemoryEstimate.nativeLimit());
    MemoryEstimate.requireInferenceFits("--sample-images", features, TIME_EMBEDDING, 8, 8, sampleImages,
        MemoryEstimate.nativeLimit());
    Compute settings = compute.resolve(); // before TensorFlow starts: XLA reads its environment then
    TrainConfig config = Benchmark.config(features, batch);
    Placement placement = parallelism.placement(config, TrainingData.load(config));
    System.out.println(new ObjectMapper().writeValueAsString(
        Benchmark.run(features, batch, steps, settings, sampleImages, device(), placement)));
    return 0;
  }

  /** "GPU ..." when TensorFlow sees one, else the CPU's model name and core count. */
  static String device() {
    for (Devices.Device d : Devices.list()) {
      if (d.type().equals("GPU")) {
        return "GPU " + d.name();
      }
    }
    String cpu = "CPU";
    try {
      cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
          .findFirst().map(l -> l.substring(l.indexOf(':') + 1).strip()).orElse("CPU");
    } catch (IOException e) {
      // not Linux
    }
    return cpu + ", " + Runtime.getRuntime().availableProcessors() + " cores";
  }
}
