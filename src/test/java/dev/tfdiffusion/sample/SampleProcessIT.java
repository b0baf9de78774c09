package dev.tfdiffusion.sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfdiffusion.ChildProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged program as users run it: child {@code java -jar target/tf-diffusion.jar} processes train a tiny model,
 * export it, and sample from the SavedModel alone.
 */
class SampleProcessIT {
  @TempDir
  static Path dir;
  static Path model;

  static ChildProcess.Output java(String... args) throws IOException, InterruptedException {
    return ChildProcess.run(dir, args);
  }

  @BeforeAll
  static void trainAndExport() throws Exception {
    ChildProcess.Output train = java("train", "--features", "4", "--steps", "3", "--no-export", "--out", "run");
    assertEquals(0, train.code(), train.text());
    ChildProcess.Output export = java("export", "--checkpoint", "run");
    assertEquals(0, export.code(), export.text());
    assertTrue(export.text().contains("Exported step 3 of run to " + Path.of("run", "saved_model")
        + " (moving-average weights)."), export.text());
    model = dir.resolve("run/saved_model");
  }

  @Test
  void sameSeedSameCsvOtherSeedOtherCsv() throws Exception {
    for (String[] a : List.of(new String[] {"a.png", "7"}, new String[] {"b.png", "7"},
        new String[] {"c.png", "8"})) {
      ChildProcess.Output o = java("sample", "--model", model.toString(), "--count", "16", "--seed", a[1], "--out", a[0]);
      assertEquals(0, o.code(), o.text());
    }
    String a = Files.readString(dir.resolve("a.csv"));
    assertEquals(16, a.lines().count());
    assertEquals(64, a.lines().findFirst().orElseThrow().split(",").length);
    assertEquals(a, Files.readString(dir.resolve("b.csv")));
    assertNotEquals(a, Files.readString(dir.resolve("c.csv")));
    assertTrue(Files.size(dir.resolve("a.png")) > 0);
  }

  @Test
  void devicesListsTheCpu() throws Exception {
    ChildProcess.Output o = java("devices");
    assertEquals(0, o.code(), o.text());
    assertTrue(o.text().contains("/job:localhost/replica:0/task:0/device:CPU:0"), o.text());
  }

  @Test
  void badModelIsOneLineAndExitCodeOne() throws Exception {
    ChildProcess.Output o = java("sample", "--model", "nowhere");
    assertEquals(1, o.code());
    assertEquals("Model folder nowhere does not exist.", o.text().strip());
  }
}
