package dev.tfdiffusion.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfdiffusion.cli.Main;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Serving a conditional model: the picture endpoint and the page take a label and guidance, as sample does. */
class ConditionalServeTest {
  @TempDir
  Path dir;

  @Test
  void samplesPngTakesALabelAndGuidanceAsTheSampleCommandDoes() throws Exception {
    Path run = dir.resolve("run");
    assertEquals(0, Main.run("train", "--conditional", "--features", "2", "--steps", "2", "--batch-size", "32",
        "--diffusion-steps", "20", "--quiet", "--out", run.toString()));
    Path model = run.resolve("saved_model");
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
