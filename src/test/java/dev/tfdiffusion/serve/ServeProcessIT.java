package dev.tfdiffusion.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tfdiffusion.ChildProcess;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code serve} as users run it: the packaged jar in a child process, its ready line, and SIGTERM mid-request. */
class ServeProcessIT {
  private static final Pattern READY = Pattern.compile(
      "serving digits \\(version 1, signatures (.*)\\) at http://127\\.0\\.0\\.1:(\\d+)/");

  @TempDir
  Path dir;

  @Test
  void sigtermDuringALongRequestAnswersItThenExitsZero() throws Exception {
    ChildProcess.Output trained = ChildProcess.run(dir, "train", "--features", "4", "--steps", "3", "--quiet",
        "--out", "run");
    assertEquals(0, trained.code(), trained.text());
    Process server = ChildProcess.builder(dir, "serve", "--model", "run/saved_model", "--port", "0", "--drain-s",
        "60").start();
    try {
      BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(),
          StandardCharsets.UTF_8));
      Matcher ready = null;
      StringBuilder seen = new StringBuilder();
      for (String line = out.readLine(); line != null; line = out.readLine()) {
        seen.append(line).append('\n');
        Matcher m = READY.matcher(line);
        if (m.matches()) {
          ready = m;
          break;
        }
      }
      assertTrue(ready != null, "no ready line in:\n" + seen);
      assertEquals("forward_noise, sample, sample_ddim, sample_tutorial, serving_default, trajectory, "
          + "trajectory_tutorial", ready.group(1));
      String base = "http://127.0.0.1:" + ready.group(2);
      HttpClient http = HttpClient.newHttpClient();

      // a long run: 1000 DDPM steps for 512 images
      String shaped = "{\"signature_name\": \"sample\", \"inputs\": {\"noise\": " + noise(512)
          + ", \"seed\": 1}}";
      CompletableFuture<HttpResponse<String>> slow = http.sendAsync(HttpRequest.newBuilder(URI.create(base
          + "/v1/models/digits:predict")).POST(HttpRequest.BodyPublishers.ofString(shaped)).build(),
          HttpResponse.BodyHandlers.ofString());
      Thread.sleep(1500);
      assertTrue(!slow.isDone(), "the request should still be running when SIGTERM arrives");
      server.destroy(); // SIGTERM
      Thread.sleep(300);
      try {
        HttpResponse<String> late = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base
            + "/v2/health/ready")).build(), HttpResponse.BodyHandlers.ofString());
        throw new AssertionError("a draining server accepted a new connection: " + late.statusCode());
      } catch (java.net.ConnectException expected) {
        // draining: it no longer accepts connections
      }
      HttpResponse<String> answered = slow.get(120, TimeUnit.SECONDS);
      assertEquals(200, answered.statusCode(), answered.body());
      assertEquals(512, new ObjectMapper().readTree(answered.body()).get("outputs").size());
      assertTrue(server.waitFor(60, TimeUnit.SECONDS), "the server did not stop");
      assertEquals(0, server.exitValue());
    } finally {
      server.destroyForcibly();
    }
  }

  /** n images of 8x8x1 values in [-0.3, 0.3], as nested JSON lists. */
  private static String noise(int n) {
    StringBuilder s = new StringBuilder("[");
    for (int k = 0; k < n; k++) {
      s.append(k == 0 ? "[" : ",[");
      for (int i = 0; i < 8; i++) {
        s.append(i == 0 ? "[" : ",[");
        for (int j = 0; j < 8; j++) {
          s.append(j == 0 ? "[" : ",[").append((k + i + j) % 7 * 0.1 - 0.3).append("]");
        }
        s.append("]");
      }
      s.append("]");
    }
    return s.append("]").toString();
  }
}
