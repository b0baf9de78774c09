package dev.tfdiffusion.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tfdiffusion.TestFiles;
import dev.tfdiffusion.cli.Main;
import dev.tfdiffusion.util.Compute;
import dev.tfdiffusion.util.SessionOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** README's curl examples, run with bash and curl against a live server, so that they cannot drift. */
class ServeReadmeTest {
  private static final String MARKER = "<!-- readme-curls";

  @TempDir
  Path dir;

  /** The bash block after the marker in README.md. */
  static String block() throws Exception {
    return TestFiles.readmeBlock(MARKER, "bash");
  }

  @Test
  void theCurlsInReadmeWork() throws Exception {
    Path run = dir.resolve("run");
    assertEquals(0, Main.run("train", "--features", "4", "--steps", "2", "--quiet", "--out", run.toString()));
    try (ModelServer server = ModelServer.start(run.resolve("saved_model"), new ModelServer.Options("digits",
        "127.0.0.1", 0, 16 << 20, 1024, 2, 2, 30_000), SessionOptions.create(Compute.DEFAULT, 0))) {
      String script = "set -euo pipefail\n" + block().replace("localhost:8501", "localhost:" + server.port());
      Process bash = new ProcessBuilder("bash", "-c", script).directory(dir.toFile()).redirectErrorStream(false)
          .start();
      String out = new String(bash.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      String err = new String(bash.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
      assertEquals(0, bash.waitFor(), "README's curls failed:\n" + out + err);

      // the four JSON answers, one after another on stdout
      List<JsonNode> answers = new ArrayList<>();
      var parser = new ObjectMapper().createParser(out);
      for (JsonNode n = parser.readValueAsTree(); n != null; n = parser.readValueAsTree()) {
        answers.add(n);
      }
      assertEquals(4, answers.size(), out);
      assertEquals("AVAILABLE", answers.get(0).get("model_version_status").get(0).get("state").asText());
      assertTrue(answers.get(1).get("metadata").get("signature_def").get("signature_def").has("sample_ddim"));
      assertEquals(1, answers.get(2).get("predictions").size());
      assertEquals(8, answers.get(2).get("predictions").get(0).size());
      assertEquals(2, answers.get(3).get("outputs").size());
      byte[] png = Files.readAllBytes(dir.resolve("samples.png"));
      assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, Arrays.copyOf(png, 4));
    }
  }
}
