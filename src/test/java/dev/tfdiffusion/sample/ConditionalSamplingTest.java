package dev.tfdiffusion.sample;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfdiffusion.FileSnapshot;
import dev.tfdiffusion.cli.Main;
import dev.tfdiffusion.config.TrainConfig;
import dev.tfdiffusion.diffusion.BetaSchedule;
import dev.tfdiffusion.diffusion.GaussianDiffusion;
import dev.tfdiffusion.serve.ModelServer;
import dev.tfdiffusion.serve.ServeApiTest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.exceptions.TFInvalidArgumentException;

/**
 * A tiny class-conditional model of all ten digits, trained and exported through the command line: its signatures,
 * classifier-free guidance against the same steps written around {@code serving_default}, and {@code sample --label}.
 */
class ConditionalSamplingTest {
  @TempDir
  static Path dir;
  static Path model;
  static SavedModelSampler sampler;

  @BeforeAll
  static void trainAndExport() {
    Path run = dir.resolve("run");
    assertEquals(0, Main.run("train", "--conditional", "--digit", "all", "--features", "4", "--steps", "20",
        "--batch-size", "64", "--diffusion-steps", "50", "--quiet", "--no-export", "--out", run.toString()));
    model = run.resolve("saved_model");
    assertEquals(0, Main.run("export", "--checkpoint", run.toString(), "--out", model.toString()));
    sampler = SavedModelSampler.open(model);
  }

  @AfterAll
  static void close() {
    sampler.close();
  }

  @Test
  void theClassCountComesFromTheDataAndTravelsWithTheModel() {
    assertEquals(10, TrainConfig.read(dir.resolve("run/config.json")).classes());
    assertEquals(10, TrainConfig.read(model.resolve("config.json")).classes());
    assertTrue(sampler.conditional());
    assertEquals(10, sampler.classes());
  }

  @Test
  void samplingSignaturesTakeLabelsAndGuidance() {
    try (SavedModelBundle b = SavedModelBundle.load(model.toString(), "serve")) {
      for (String key : List.of(Signatures.SAMPLE, Signatures.SAMPLE_TUTORIAL, Signatures.TRAJECTORY,
          Signatures.TRAJECTORY_TUTORIAL)) {
        assertEquals(Set.of("noise", "seed", "labels", "guidance"), Set.copyOf(
            b.function(key).signature().inputNames().stream().filter(n -> !n.equals("frames")).toList()), key);
      }
      assertEquals(Set.of("noise", "seed", "steps", "eta", "labels", "guidance"),
          b.function(Signatures.SAMPLE_DDIM).signature().inputNames());
      assertEquals(Set.of("x", "t", "labels"), b.function(Signatures.DENOISE).signature().inputNames());
      assertEquals(Set.of("x0", "t", "seed"), b.function(Signatures.FORWARD_NOISE).signature().inputNames());
      assertEquals(List.of(-1L), List.of(b.function(Signatures.DENOISE).signature().getInputs().get("labels")
          .shape.get(0)));
    }
  }

  /**
   * Two deterministic DDIM steps through the guided in-graph loop equal the same steps written here around
   * serving_default: eps = eps(x, none) + w (eps(x, c) - eps(x, none)). At w = 0 that is the unconditional
   * prediction alone, at w = 1 the conditional one.
   */
  @Test
  void guidanceCombinesTheConditionalAndUnconditionalPredictions() {
    GaussianDiffusion d = GaussianDiffusion.of(TrainConfig.read(model.resolve("config.json")),
        BetaSchedule.CLIPPED_COSINE);
    int[] labels = {0, 3, 7};
    int[] none = {10, 10, 10};
    float[] x = sampler.noise(3, 8);
    for (float w : new float[] {0f, 1f, 2.5f}) {
      float[] expected = x;
      int[][] steps = {{49, 0}, {0, -1}};
      for (int[] step : steps) {
        int[] t = {step[0], step[0], step[0]};
        float[] conditional = sampler.denoise(expected, t, labels);
        float[] unconditional = sampler.denoise(expected, t, none);
        double abarT = (float) d.alphaCumulative(step[0]);
        double abarS = step[1] < 0 ? 1 : (float) d.alphaCumulative(step[1]);
        float[] next = new float[x.length];
        for (int i = 0; i < x.length; i++) {
          double eps = unconditional[i] + w * (conditional[i] - unconditional[i]);
          double x0 = (expected[i] - Math.sqrt(1 - abarT) * eps) / Math.sqrt(abarT);
          next[i] = (float) (Math.sqrt(abarS) * x0 + Math.sqrt(1 - abarS) * eps);
        }
        expected = next;
      }
      float[] looped = sampler.sampleDdim(x, 8, 2, 0f, new SavedModelSampler.Condition(labels, w));
      assertClose(expected, looped, "w = " + w);
    }
    // guidance 0 ignores the labels asked for
    assertArrayEquals(sampler.sampleDdim(x, 8, 5, 0f, new SavedModelSampler.Condition(labels, 0f)),
        sampler.sampleDdim(x, 8, 5, 0f, new SavedModelSampler.Condition(new int[] {9, 9, 9}, 0f)));
  }

  private static void assertClose(float[] expected, float[] actual, String what) {
    double scale = 0;
    double max = 0;
    for (int i = 0; i < expected.length; i++) {
      scale = Math.max(scale, Math.abs(expected[i]));
      max = Math.max(max, Math.abs(expected[i] - actual[i]));
    }
    assertTrue(scale > 0);
    assertTrue(max <= 1e-5 * scale, what + ": max |difference| " + max + " of values up to " + scale);
  }

  @Test
  void aLabelOutsideTheClassesFailsTheRunInsteadOfMeaningNoClass() {
    TFInvalidArgumentException e = assertThrows(TFInvalidArgumentException.class,
        () -> sampler.denoise(sampler.noise(1, 1), new int[] {5}, new int[] {11}));
    assertTrue(e.getMessage().contains("labels must lie in 0..9 (or 10 for no class)"), e.getMessage());
  }

  @Test
  void sampleLabelDrawsThatClassFromTheSameNoise() throws IOException {
    Path zero = dir.resolve("zero.png");
    Path one = dir.resolve("one.png");
    Path again = dir.resolve("again.png");
    for (Object[] c : new Object[][] {{zero, "0"}, {one, "1"}, {again, "0"}}) {
      assertEquals(0, Main.run("sample", "--model", model.toString(), "--label", (String) c[1], "--count", "3",
          "--seed", "4", "--sampler", "ddim", "--sampling-steps", "10", "--out", c[0].toString()));
    }
    List<String> a = Files.readAllLines(SampleFiles.csvFor(zero));
    List<String> b = Files.readAllLines(SampleFiles.csvFor(one));
    assertEquals(3, a.size());
    assertEquals(a, Files.readAllLines(SampleFiles.csvFor(again)), "same label and seed, same images");
    for (int i = 0; i < 3; i++) {
      String[] va = a.get(i).split(",");
      String[] vb = b.get(i).split(",");
      assertEquals(65, va.length, "64 pixels and the class asked for");
      assertEquals("0", va[64]);
      assertEquals("1", vb[64]);
      assertFalse(List.of(va).subList(0, 64).equals(List.of(vb).subList(0, 64)), "image " + i);
    }
  }

  @Test
  void labelAllDrawsOneRowPerClass() throws IOException {
    Path out = dir.resolve("all.png");
    assertEquals(0, Main.run("sample", "--model", model.toString(), "--label", "all", "--count", "15",
        "--sampler", "ddim", "--sampling-steps", "5", "--out", out.toString()));
    List<String> rows = Files.readAllLines(SampleFiles.csvFor(out));
    assertEquals(20, rows.size(), "15 rounded up to two per class");
    for (int i = 0; i < 20; i++) {
      assertTrue(rows.get(i).endsWith("," + (i / 2)), rows.get(i));
    }
    java.awt.image.BufferedImage png = javax.imageio.ImageIO.read(out.toFile());
    assertTrue(png.getHeight() > 4 * png.getWidth(), "ten rows of two: " + png.getWidth() + "x" + png.getHeight());
  }

  private static FileSnapshot.Failure fails(String... args) {
    return FileSnapshot.failsWritingNothing(dir, args);
  }

  @Test
  void labelsTheModelDoesNotHaveAreOneSentence() {
    Path out = dir.resolve("bad.png");
    for (String label : List.of("10", "-1", "x", "3.0")) {
      FileSnapshot.Failure o = fails("sample", "--model", model.toString(), "--label", label, "--out", out.toString());
      assertEquals(2, o.code());
      assertEquals("--label must be one of the model's classes 0..9 or 'all', got '" + label + "'.", o.err());
    }
    FileSnapshot.Failure o = fails("sample", "--model", model.toString(), "--guidance", "-1", "--out", out.toString());
    assertEquals(2, o.code());
    assertEquals("--guidance must be a number of at least 0, got -1.0.", o.err());
  }

  @Test
  void evaluateScoresEachClassAtEachGuidance() throws IOException {
    Path json = dir.resolve("evaluation.json");
    assertEquals(0, Main.run("evaluate", "--model", model.toString(), "--sampler", "ddim", "--sampling-steps", "3",
        "--count", "2", "--guidance", "0,1.5", "--out", json.toString()));
    com.fasterxml.jackson.databind.JsonNode report = new com.fasterxml.jackson.databind.ObjectMapper()
        .readTree(json.toFile());
    assertEquals(20, report.get("samples").asInt(), "two per class");
    com.fasterxml.jackson.databind.JsonNode scores = report.get("samplers");
    assertEquals(2, scores.size());
    for (int i = 0; i < 2; i++) {
      com.fasterxml.jackson.databind.JsonNode s = scores.get(i);
      assertEquals(i == 0 ? 0.0 : 1.5, s.get("guidance").asDouble());
      assertEquals(10, s.get("classes").size());
      double mean = 0;
      for (int k = 0; k < 10; k++) {
        com.fasterxml.jackson.databind.JsonNode c = s.get("classes").get(k);
        assertEquals(k, c.get("label").asInt());
        assertEquals(2, c.get("count").asInt());
        mean += c.get("recognised").asDouble() / 10;
      }
      assertEquals(s.get("recognised").asDouble(), mean, 1e-9, "the overall share is the classes' mean");
    }
  }

  /** The server's picture endpoint and page take a label and guidance, as sample does. */
  @Test
  void servingTakesALabelAndGuidanceAsTheSampleCommandDoes() throws Exception {
    try (ModelServer server = ServeApiTest.start(model, 1, 1, 30_000)) {
      ServeApiTest.Answer a = ServeApiTest.get(server,
          "/v1/models/digits/samples.png?count=4&seed=3&sampler=ddim&steps=5&label=7&guidance=1.5");
      assertEquals(200, a.status(), a.body());
      Path png = dir.resolve("sampled.png");
      assertEquals(0, Main.run("sample", "--model", model.toString(), "--count", "4", "--seed", "3", "--sampler",
          "ddim", "--sampling-steps", "5", "--label", "7", "--guidance", "1.5", "--out", png.toString()));
      assertArrayEquals(Files.readAllBytes(png), a.bytes(), "the sample command's grid");
      ServeApiTest.assertError(ServeApiTest.get(server, "/v1/models/digits/samples.png?label=10"), 400,
          "'label' must be a whole number from 0 to 9, got '10'.");
      ServeApiTest.assertError(ServeApiTest.get(server, "/v1/models/digits/samples.png?guidance=-1"), 400,
          "'guidance' must be a number from 0 to 100, got '-1'.");
      String page = ServeApiTest.get(server, "/").body();
      assertTrue(page.contains("data-classes=\"10\""), "the page offers the ten classes");
      assertTrue(page.contains("value=\"2.0\""), "and the default guidance");
    }
  }
}
