package dev.tfdiffusion.bench;

import dev.tfdiffusion.config.Presets;
import dev.tfdiffusion.config.TrainConfig;
import dev.tfdiffusion.data.Images;
import dev.tfdiffusion.data.TrainingData;
import dev.tfdiffusion.export.InferenceGraph;
import dev.tfdiffusion.model.ModelSummary;
import dev.tfdiffusion.sample.Signatures;
import dev.tfdiffusion.checkpoint.Checkpoints;
import dev.tfdiffusion.train.Placement;
import dev.tfdiffusion.train.TrainGraph;
import dev.tfdiffusion.util.FileTrees;
import dev.tfdiffusion.util.Compute;
import dev.tfdiffusion.util.SessionOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.tensorflow.Result;
import org.tensorflow.Signature;
import org.tensorflow.Tensor;
import org.tensorflow.TensorFlow;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;

/**
 * Times the training step (the tutorial's: whole batch, gradient penalty on) and the 1000-step sampler on this
 * machine, and reports them with the analytic FLOP count of {@link ModelSummary} and against the machine's own
 * float32 matrix-product rate ({@link Sgemm}): {@code useful_fraction}, and the sampler's time over its analytic limit
 * (the forward FLOPs of 1000 steps at that rate).
 *
 * <p>With a {@link Placement} of several towers (devices or worker tasks) the training step runs on them, and one
 * more step, traced after the timed ones, measures the bytes that cross between them ({@link Exchange}); the sampler
 * is always timed on one local device.
 */
public final class Benchmark {
  /** The tutorial's batch: all 172 training images of digit 1. */
  public static final int TUTORIAL_BATCH = 172;
  /** Side of the matrices of the {@link Sgemm} yardstick. */
  static final int SGEMM_SIZE = 4096;

  private Benchmark() {}

  /**
   * The benchmark's training configuration: the quick preset at {@code features}, on digit 1 for up to 172 images
   * per step (172 = the tutorial's full batch), on all digits above.
   */
  public static TrainConfig config(int features, int batch) {
    return Presets.quick().with(Map.of("features", features,
        "digit", batch <= TUTORIAL_BATCH ? "1" : TrainConfig.ALL_DIGITS,
        "batch-size", batch == TUTORIAL_BATCH ? 0 : batch));
  }

  /**
   * @param batch images per step: up to 172 from digit 1 (172 = the tutorial's full batch), more from all digits
   * @param placement where the training step's towers run ({@link Placement#SINGLE}: one device)
   * @return the JSON fields, in a stable order
   */
  public static Map<String, Object> run(int features, int batch, int steps, Compute compute, int sampleImages,
                                        String device, Placement placement) throws IOException {
    boolean xla = compute.xla();
    Map<String, Object> out = new LinkedHashMap<>();
    long start = System.nanoTime();
    TrainConfig config = config(features, batch);
    Images train = TrainingData.load(config).train();
    int used = config.batchSize() == 0 ? train.count() : config.batchSize();
    ModelSummary model = ModelSummary.of(features, config.timeEmbedding(), train.height(), train.width());

    Path tmp = Files.createTempDirectory("tf-diffusion-bench");
    try {
      double[] stepMs = new double[steps];
      double buildSeconds;
      double firstStepSeconds;
      Checkpoints.Checkpoint checkpoint;
      long rssAfterWarmup;
      long rssEnd;
      Exchange.Traffic measured;
      Exchange.Traffic modelled;
      try (TrainGraph graph = new TrainGraph(config, train.shape(),
          SessionOptions.create(compute, placement.virtualCpus()), null, placement)) {
        graph.loadImages(train);
        buildSeconds = (System.nanoTime() - start) / 1e9;
        long t = System.nanoTime();
        graph.step();
        firstStepSeconds = (System.nanoTime() - t) / 1e9;
        for (int i = 0; i < 3; i++) {
          graph.step();
        }
        rssAfterWarmup = currentRssMb();
        for (int i = 0; i < steps; i++) {
          t = System.nanoTime();
          graph.step();
          stepMs[i] = (System.nanoTime() - t) / 1e6;
        }
        rssEnd = currentRssMb();
        modelled = Exchange.model(graph.params(), graph.trainedParams(), used, (long) train.height() * train.width(),
            placement);
        // one device moves nothing between places; its step is not traced, so its numbers stay as they were
        measured = placement.towers().size() > 1 ? Exchange.measure(graph.traceStep(), placement.towers()) : modelled;
        checkpoint = new Checkpoints(tmp, 1).write(graph.globalStep(), 0, 0, graph::save);
      }
      Arrays.sort(stepMs);
      double median = steps % 2 == 1 ? stepMs[steps / 2] : (stepMs[steps / 2 - 1] + stepMs[steps / 2]) / 2;

      out.put("device", device);
      out.put("tensorflow", TensorFlow.version());
      out.put("xla", xla);
      out.put("precision", compute.precision().flag());
      out.put("features", features);
      out.put("batch", used);
      out.put("parameters", model.totalParameters());
      out.put("timed_steps", steps);
      out.put("build_s", round(buildSeconds, 2));
      out.put("first_step_s", round(firstStepSeconds, 2));
      out.put("time_to_first_step_s", round(buildSeconds + firstStepSeconds, 2));
      out.put("train_step_ms_median", round(median, 1));
      out.put("train_step_ms_min", round(stepMs[0], 1));
      out.put("train_step_ms_max", round(stepMs[steps - 1], 1));
      out.put("train_step_gflop", round(model.trainStepFlops(used) / 1e9, 2));
      out.put("useful_gflops", round(model.trainStepFlops(used) / 1e9 / (median / 1000), 1));
      out.put("sample_images", sampleImages);
      double sampleMs = sampleMs(config, train, checkpoint, compute, sampleImages);
      out.put("sample_1000_ms", round(sampleMs, 0));
      // the yardstick, measured in the same run: what fraction of this machine's matrix-product rate we use
      double sgemm = Sgemm.gflops(SGEMM_SIZE, 5, xla);
      double useful = model.trainStepFlops(used) / 1e9 / (median / 1000);
      double sampleLimitMs = 1000.0 * sampleImages * model.forwardFlopsPerImage() / 1e9 / sgemm * 1000;
      out.put("sgemm_gflops", round(sgemm, 1));
      out.put("useful_fraction", round(useful / sgemm, 3));
      out.put("sample_1000_limit_ms", round(sampleLimitMs, 0));
      out.put("sample_1000_over_limit", round(sampleMs / sampleLimitMs, 2));
      out.put("rss_after_warmup_mb", rssAfterWarmup);
      out.put("rss_after_timed_steps_mb", rssEnd);
      out.put("peak_rss_mb", peakRssMb());
      out.put("devices", placement.devices());
      out.put("workers", placement.remote() != null ? placement.towers().size() : 0);
      out.put("exchanged_mb_per_step", round(measured.totalBytes() / 1e6, 3));
      out.put("exchanged_mb_per_step_model", round(modelled.totalBytes() / 1e6, 3));
      out.put("exchanged_mb_per_tower_per_step", round(measured.busiestTowerBytes() / 1e6, 3));
      out.put("exchanged_mb_per_tower_per_step_model", round(modelled.busiestTowerBytes() / 1e6, 3));
      return out;
    } finally {
      FileTrees.delete(tmp);
    }
  }

  /** The exported {@code sample} signature's graph on {@code n} images, after one run on 1 image has optimised it. */
  private static double sampleMs(TrainConfig config, Images train, Checkpoints.Checkpoint checkpoint,
                                 Compute compute, int n) {
    try (InferenceGraph graph = new InferenceGraph(config, train.height(), train.width(),
        train.channels(), SessionOptions.create(compute, 0), TrainGraph.MODEL_PREFIX)) {
      graph.restore(checkpoint.prefix());
      Signature sample = graph.signatures().stream().filter(s -> s.key().equals(Signatures.SAMPLE)).findFirst()
          .orElseThrow();
      sample(graph, sample, 1, train);
      long t = System.nanoTime();
      sample(graph, sample, n, train);
      return (System.nanoTime() - t) / 1e6;
    }
  }

  private static void sample(InferenceGraph graph, Signature signature, int n, Images train) {
    float[] noise = new float[n * train.pixelsPerImage()];
    Random rng = new Random(0);
    for (int i = 0; i < noise.length; i++) {
      noise[i] = (float) rng.nextGaussian();
    }
    try (TFloat32 x = TFloat32.tensorOf(Shape.of(n, train.height(), train.width(), train.channels()),
             DataBuffers.of(noise, true, false));
         TInt64 seed = TInt64.scalarOf(0)) {
      Map<String, Tensor> in = Map.of("noise", x, "seed", seed);
      try (Result r = graph.session().function(signature).call(in)) {
        r.get("images").orElseThrow();
      }
    }
  }

  /** The process's peak resident set (VmHWM), in MB; -1 where /proc is missing. */
  public static long peakRssMb() {
    return statusMb("VmHWM:");
  }

  /** The process's resident set now (VmRSS), in MB. */
  public static long currentRssMb() {
    return statusMb("VmRSS:");
  }

  private static long statusMb(String key) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith(key)) {
          return Long.parseLong(line.replaceAll("\\D", "")) / 1024;
        }
      }
    } catch (IOException | NumberFormatException e) {
      // not Linux
    }
    return -1;
  }

  private static double round(double v, int digits) {
    double scale = Math.pow(10, digits);
    return Math.round(v * scale) / scale;
  }
}
