package dev.tfdiffusion.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfdiffusion.cli.Main;
import dev.tfdiffusion.config.TrainConfig;
import dev.tfdiffusion.data.TrainingData;
import dev.tfdiffusion.diffusion.BetaSchedule;
import dev.tfdiffusion.diffusion.GaussianDiffusion;
import dev.tfdiffusion.sample.Sampler;
import dev.tfdiffusion.sample.SavedModelSampler;
import dev.tfdiffusion.checkpoint.Checkpoints;
import dev.tfdiffusion.train.TrainGraph;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A tiny run trained, exported and sampled in-process: the SavedModel's layout and signatures, the round trip of
 * the denoiser against the training graph, and what each signature computes.
 */
class ExportAndSampleTest {
  @TempDir
  static Path dir;
  static Path run;
  static Path model;
  static SavedModelSampler sampler;
  static Path raw;
  static SavedModelSampler rawSampler;

  @BeforeAll
  static void trainAndExport() {
    run = dir.resolve("run");
    assertEquals(0, Main.run("train", "--features", "4", "--steps", "3", "--quiet", "--out", run.toString()));
    model = run.resolve("saved_model");
    sampler = SavedModelSampler.open(model);
    raw = dir.resolve("raw-model");
    assertEquals(0, Main.run("export", "--checkpoint", run.toString(), "--out", raw.toString(), "--no-ema"));
    rawSampler = SavedModelSampler.open(raw);
  }

  @AfterAll
  static void close() {
    sampler.close();
    rawSampler.close();
  }

  @Test
  void savedModelHasTheStandardLayoutAndAllSignatures() throws IOException {
    assertTrue(Files.isRegularFile(model.resolve("saved_model.pb")));
    assertTrue(Files.isRegularFile(model.resolve("variables/variables.index")));
    try (var files = Files.list(model.resolve("variables"))) {
      assertTrue(files.anyMatch(f -> f.getFileName().toString().startsWith("variables.data-")));
    }
    assertEquals(TrainConfig.read(run.resolve("config.json")), TrainConfig.read(model.resolve("config.json")));
    assertEquals(List.of("forward_noise", "sample", "sample_ddim", "sample_tutorial", "serving_default",
        "trajectory", "trajectory_tutorial"), sampler.signatureNames());
    assertEquals(8, sampler.height());
    assertEquals(8, sampler.width());
  }

  @Test
  void trainingEndsWithSamplesAndFigures() throws IOException {
    List<String> csv = Files.readAllLines(run.resolve("samples.csv"));
    assertEquals(64, csv.size());
    for (String row : csv) {
      String[] cells = row.split(",");
      assertEquals(64, cells.length);
      for (String c : cells) {
        float v = Float.parseFloat(c);
        assertTrue(v >= 0 && v <= 1, "pixel " + v + " outside [0, 1]");
      }
    }
    for (String png : List.of("samples.png", "reconstruct.png", "forward_reverse.png")) {
      assertNotNull(ImageIO.read(run.resolve(png).toFile()), png);
    }
    try (ImageInputStream in = ImageIO.createImageInputStream(run.resolve("reverse.gif").toFile())) {
      ImageReader reader = ImageIO.getImageReadersByFormatName("gif").next();
      reader.setInput(in);
      assertEquals(101, reader.getNumImages(true), "100 trajectory frames and the final images");
    }
  }

  @Test
  void servingDefaultRoundTripsTheTrainingGraph() {
    TrainConfig config = TrainConfig.read(run.resolve("config.json"));
    int n = TrainingData.load(config).train().count();
    Random rng = new Random(9);
    float[] x = new float[n * 64];
    int[] t = new int[n];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) rng.nextGaussian();
    }
    for (int i = 0; i < n; i++) {
      t[i] = rng.nextInt(1000);
    }
    float[] fromTraining;
    try (TrainGraph graph = new TrainGraph(config, n, 8, 8)) {
      graph.restore(new Checkpoints(run, 3).latest(w -> {}).orElseThrow().prefix());
      fromTraining = graph.denoise(x, t);
    }
    float[] fromSavedModel = rawSampler.denoise(x, t); // the last step's weights, as the training graph holds them
    double max = 0;
    for (int i = 0; i < x.length; i++) {
      max = Math.max(max, Math.abs(fromTraining[i] - fromSavedModel[i]));
    }
    assertTrue(max <= 1e-6, "max |eps difference| = " + max);
    assertTrue(Math.abs(fromTraining[0]) > 0);
  }

  /**
   * The sampler loops get what the network derives from its weights (the small-map convolutions' tap matrices)
   * computed once before the loop; two deterministic DDIM steps (t = 999 -> 0 -> done) must equal the same steps
   * written here around {@code serving_default}, which builds the plain network.
   */
  @Test
  void samplerLoopComputesTheSameNetworkAsServingDefault() {
    GaussianDiffusion d = GaussianDiffusion.of(TrainConfig.read(run.resolve("config.json")),
        BetaSchedule.CLIPPED_COSINE);
    float[] x = sampler.noise(3, 8);
    float[] expected = x;
    int[][] steps = {{999, 0}, {0, -1}};
    for (int[] step : steps) {
      int[] t = new int[3];
      java.util.Arrays.fill(t, step[0]);
      float[] eps = sampler.denoise(expected, t);
      double abarT = (float) d.alphaCumulative(step[0]);
      double abarS = step[1] < 0 ? 1 : (float) d.alphaCumulative(step[1]);
      float[] next = new float[x.length];
      for (int i = 0; i < x.length; i++) {
        double x0 = (expected[i] - Math.sqrt(1 - abarT) * eps[i]) / Math.sqrt(abarT);
        next[i] = (float) (Math.sqrt(abarS) * x0 + Math.sqrt(1 - abarS) * eps[i]);
      }
      expected = next;
    }
    float[] looped = sampler.sampleDdim(x, 8, 2, 0f);
    double scale = 0;
    double max = 0;
    for (int i = 0; i < x.length; i++) {
      scale = Math.max(scale, Math.abs(expected[i]));
      max = Math.max(max, Math.abs(expected[i] - looped[i]));
    }
    assertTrue(scale > 0);
    assertTrue(max <= 1e-5 * scale, "max |difference| " + max + " of values up to " + scale);
  }

  @Test
  void forwardNoiseFollowsTheTrainedSchedule() {
    int n = 400;
    float[] x0 = new float[n * 64];
    java.util.Arrays.fill(x0, 0.75f);
    int[] t = new int[n];
    java.util.Arrays.fill(t, 500);
    float[] xt = sampler.forwardNoise(x0, t, 3);
    GaussianDiffusion s = new GaussianDiffusion(BetaSchedule.CLIPPED_COSINE, 1000, 1e-4, 0.02);
    double mean = 0;
    double var = 0;
    for (float v : xt) {
      mean += v / xt.length;
    }
    for (float v : xt) {
      var += (v - mean) * (v - mean) / xt.length;
    }
    // mean sqrt(abar) x0 and variance 1 - abar, to sampling error over 25,600 values
    assertEquals(Math.sqrt(s.alphaCumulative(500)) * 0.75, mean, 0.02);
    assertEquals(1 - s.alphaCumulative(500), var, 0.03);
    assertArrayEquals(xt, sampler.forwardNoise(x0, t, 3));
  }

  @Test
  void ddimWithoutNoiseIsDeterministic() {
    float[] noise = sampler.noise(4, 1);
    float[] a = sampler.sampleDdim(noise, 1, 20, 0f);
    assertArrayEquals(a, sampler.sampleDdim(noise, 99, 20, 0f), "eta 0 uses no random noise");
    assertFalse(java.util.Arrays.equals(a, sampler.sampleDdim(noise, 99, 20, 1f)), "eta 1 does");
    assertFalse(java.util.Arrays.equals(a, sampler.sampleDdim(noise, 1, 10, 0f)), "other timesteps, other images");
  }

  @Test
  void ddimOverAllStepsWithEtaOneHasTheDdpmStatistics() {
    float[] noise = sampler.noise(256, 2);
    float[] ddpm = sampler.sample(Sampler.DDPM, noise, 3);
    float[] ddim = sampler.sampleDdim(noise, 3, 1000, 1f);
    double[] a = meanAndStd(ddpm);
    double[] b = meanAndStd(ddim);
    // same model, same x_T: the two 1000-step stochastic samplers differ only in sigma_t^2 (beta_t vs the posterior
    // variance) and in their noise draws
    assertEquals(a[0], b[0], 0.05 * Math.max(1, Math.abs(a[0])), "means " + a[0] + " vs " + b[0]);
    assertEquals(a[1], b[1], 0.05 * a[1], "standard deviations " + a[1] + " vs " + b[1]);
  }

  private static double[] meanAndStd(float[] v) {
    double mean = 0;
    for (float x : v) {
      mean += x / (double) v.length;
    }
    double var = 0;
    for (float x : v) {
      var += (x - mean) * (x - mean) / v.length;
    }
    return new double[] {mean, Math.sqrt(var)};
  }

  @Test
  void exportUsesTheMovingAverageUnlessAskedNotTo() throws IOException {
    assertTrue(Files.readString(model.resolve("config.json")).contains("\"weights\" : \"ema\""));
    assertTrue(Files.readString(raw.resolve("config.json")).contains("\"weights\" : \"last-step\""));
    float[] x = sampler.noise(2, 4);
    int[] t = {10, 900};
    assertFalse(java.util.Arrays.equals(sampler.denoise(x, t), rawSampler.denoise(x, t)));
  }

  @Test
  void trajectoryRecordsRealStatesOfTheSampler() {
    float[] noise = sampler.noise(3, 5);
    SavedModelSampler.Trajectory traj = sampler.trajectory(Sampler.DDPM, noise, 5, 4);
    assertArrayEquals(new int[] {999, 666, 333, 0}, traj.timesteps());
    assertEquals(4 * noise.length, traj.states().length);
    // the state entering t=999 is x_T itself
    assertArrayEquals(noise, java.util.Arrays.copyOf(traj.states(), noise.length));
    float[] direct = sampler.sample(Sampler.DDPM, noise, 5);
    for (int i = 0; i < direct.length; i++) {
      assertEquals(direct[i], traj.images()[i], 1e-6f, "trajectory's final images = sample's");
    }
    assertArrayEquals(direct, sampler.sample(Sampler.DDPM, noise, 5), "same seed, same images");
    assertFalse(java.util.Arrays.equals(direct, sampler.sample(Sampler.DDPM, noise, 6)), "another seed, other images");
    assertFalse(java.util.Arrays.equals(direct, sampler.sample(Sampler.TUTORIAL, noise, 5)),
        "the tutorial sampler differs");
  }

  @Test
  void aLoadedModelKeepsItsWeightsWhenExportReplacesItsFolder() throws IOException {
    Path served = dir.resolve("served");
    assertEquals(0, Main.run("export", "--checkpoint", run.toString(), "--out", served.toString(), "--no-ema"));
    float[] x = new float[2 * 64];
    java.util.Arrays.fill(x, 0.25f);
    int[] t = {10, 900};
    Object before = dev.tfdiffusion.util.Folders.identity(served).orElseThrow();
    try (SavedModelSampler loaded = SavedModelSampler.open(served)) {
      float[] lastStep = loaded.denoise(x, t);
      assertEquals(0, Main.run("export", "--checkpoint", run.toString(), "--out", served.toString()));
      assertFalse(before.equals(dev.tfdiffusion.util.Folders.identity(served).orElseThrow()), "swapped in whole");
      assertArrayEquals(lastStep, loaded.denoise(x, t), "the loaded model is in memory; the swap does not touch it");
      try (SavedModelSampler reloaded = SavedModelSampler.open(served)) {
        assertArrayEquals(sampler.denoise(x, t), reloaded.denoise(x, t), "the new folder holds the EMA weights");
      }
    }
    try (var left = Files.list(dir)) {
      assertTrue(left.noneMatch(p -> p.getFileName().toString().startsWith(".served")), "no temporary folders");
    }
  }
}
