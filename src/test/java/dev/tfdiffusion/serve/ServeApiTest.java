package dev.tfdiffusion.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tfdiffusion.cli.Main;
import dev.tfdiffusion.sample.SavedModelSampler;
import dev.tfdiffusion.util.Compute;
import dev.tfdiffusion.util.SessionOptions;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A live server on a free port over a tiny trained model laid out as TensorFlow Serving expects (versions 1 and 2):
 * every endpoint, and every error row of TensorFlow Serving's REST API and of the server's own limits.
 */
public class ServeApiTest {
  @TempDir
  static Path dir;
  static Path base;
  static ModelServer server;
  static final HttpClient HTTP = HttpClient.newHttpClient();
  static final ObjectMapper JSON = new ObjectMapper();

  @BeforeAll
  static void trainAndServe() throws IOException {
    Path run = dir.resolve("run");
    assertEquals(0, Main.run("train", "--features", "4", "--steps", "3", "--quiet", "--no-export", "--out",
        run.toString()));
    base = dir.resolve("models");
    assertEquals(0, Main.run("export", "--checkpoint", run.toString(), "--out", base.resolve("1").toString()));
    assertEquals(0, Main.run("export", "--checkpoint", run.toString(), "--out", base.resolve("2").toString(),
        "--no-ema"));
    server = start(base, 1, 1, 30_000);
  }

  public static ModelServer start(Path model, int maxConcurrent, int queue, long timeoutMs) throws IOException {
    return ModelServer.start(model, new ModelServer.Options("digits", "127.0.0.1", 0, 64 * 1024, 8, maxConcurrent,
        queue, timeoutMs), SessionOptions.create(Compute.DEFAULT, 0));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  public record Answer(int status, String body, String contentType, byte[] bytes) {
    JsonNode json() throws IOException {
      return JSON.readTree(body);
    }
  }

  public static Answer get(ModelServer s, String path) throws IOException, InterruptedException {
    return send(s, HttpRequest.newBuilder(uri(s, path)).GET().build());
  }

  static Answer post(ModelServer s, String path, String body) throws IOException, InterruptedException {
    return send(s, HttpRequest.newBuilder(uri(s, path)).POST(HttpRequest.BodyPublishers.ofString(body)).build());
  }

  static URI uri(ModelServer s, String path) {
    return URI.create("http://127.0.0.1:" + s.port() + path);
  }

  static Answer send(ModelServer s, HttpRequest request) throws IOException, InterruptedException {
    HttpResponse<byte[]> r = HTTP.send(request, HttpResponse.BodyHandlers.ofByteArray());
    return new Answer(r.statusCode(), new String(r.body()), r.headers().firstValue("Content-Type").orElse(""),
        r.body());
  }

  public static void assertError(Answer a, int status, String message) throws IOException {
    assertEquals(status, a.status(), a.body());
    assertEquals("application/json", a.contentType());
    assertEquals(message, a.json().get("error").asText());
  }

  /** x for serving_default: n images of 8x8x1 with value v. */
  static String images(int n, double v) {
    StringBuilder row = new StringBuilder("[");
    for (int i = 0; i < 8; i++) {
      row.append(i == 0 ? "" : ",").append("[");
      for (int j = 0; j < 8; j++) {
        row.append(j == 0 ? "" : ",").append("[").append(v).append("]");
      }
      row.append("]");
    }
    String image = row.append("]").toString();
    return "[" + String.join(",", java.util.Collections.nCopies(n, image)) + "]";
  }

  // ---- status and metadata --------------------------------------------------------------------------------------

  @Test
  void statusListsEveryVersionAsAvailable() throws Exception {
    Answer a = get(server, "/v1/models/digits");
    assertEquals(200, a.status());
    JsonNode versions = a.json().get("model_version_status");
    assertEquals(2, versions.size());
    assertEquals("1", versions.get(0).get("version").asText());
    assertEquals("2", versions.get(1).get("version").asText());
    assertEquals("AVAILABLE", versions.get(1).get("state").asText());
    assertEquals("OK", versions.get(1).get("status").get("error_code").asText());
    Answer one = get(server, "/v1/models/digits/versions/1");
    assertEquals(1, one.json().get("model_version_status").size());
    assertEquals("1", one.json().get("model_version_status").get(0).get("version").asText());
  }

  @Test
  void statusOfUnknownModelsAndVersions() throws Exception {
    assertError(get(server, "/v1/models/cats"), 404, "Could not find any versions of model cats");
    assertError(get(server, "/v1/models/digits/versions/7"), 404, "Could not find version 7 of model digits");
    assertError(get(server, "/v1/models"), 400, "Missing model name in request.");
    assertError(get(server, "/v1/models/digits/labels/stable"), 400, "Unrecognized servable version label: stable");
  }

  @Test
  void metadataHasTheSignatureMapInTensorFlowServingsShape() throws Exception {
    Answer a = get(server, "/v1/models/digits/metadata");
    assertEquals(200, a.status());
    JsonNode root = a.json();
    assertEquals("digits", root.get("model_spec").get("name").asText());
    assertEquals("2", root.get("model_spec").get("version").asText());
    JsonNode defs = root.get("metadata").get("signature_def").get("signature_def");
    JsonNode x = defs.get("serving_default").get("inputs").get("x");
    assertEquals("DT_FLOAT", x.get("dtype").asText());
    List<String> dims = new ArrayList<>();
    x.get("tensor_shape").get("dim").forEach(d -> dims.add(d.get("size").asText()));
    assertEquals(List.of("-1", "8", "8", "1"), dims);
    assertFalse(x.get("tensor_shape").get("unknown_rank").asBoolean());
    assertEquals("DT_INT64", defs.get("sample").get("inputs").get("seed").get("dtype").asText());
    assertEquals(0, defs.get("sample").get("inputs").get("seed").get("tensor_shape").get("dim").size());
    assertEquals("tensorflow/serving/predict", defs.get("serving_default").get("method_name").asText());
    assertEquals("1", get(server, "/v1/models/digits/versions/1/metadata").json().get("model_spec").get("version")
        .asText());
    assertError(get(server, "/v1/models/cats/metadata"), 404, "Servable not found for request: Latest(cats)");
    assertError(get(server, "/v1/models/digits/versions/9/metadata"), 404,
        "Servable not found for request: Specific(digits, 9)");
  }

  // ---- predict ------------------------------------------------------------------------------------------------------

  @Test
  void rowAndColumnarRequestsAgreeAndMatchTheSampler() throws Exception {
    Answer row = post(server, "/v1/models/digits:predict",
        "{\"instances\": [{\"x\": " + images(1, 0.25).substring(1, images(1, 0.25).length() - 1) + ", \"t\": 10},"
            + " {\"x\": " + images(1, 0.5).substring(1, images(1, 0.5).length() - 1) + ", \"t\": 900}]}");
    assertEquals(200, row.status(), row.body());
    JsonNode predictions = row.json().get("predictions");
    assertEquals(2, predictions.size());
    assertEquals(8, predictions.get(0).size());
    Answer columnar = post(server, "/v1/models/digits:predict",
        "{\"signature_name\": \"serving_default\", \"inputs\": {\"x\": " + images(1, 0.25) + ", \"t\": [10]}}");
    assertEquals(200, columnar.status(), columnar.body());
    JsonNode outputs = columnar.json().get("outputs");
    assertEquals(1, outputs.size(), "one output: unnamed, with its batch dimension");
    // the same image alone or in a batch of two: equal to float32 rounding (oneDNN's kernels depend on the batch)
    assertEquals(predictions.get(0).get(3).get(4).get(0).asDouble(), outputs.get(0).get(3).get(4).get(0).asDouble(),
        1e-5);
    try (SavedModelSampler direct = SavedModelSampler.open(base.resolve("2"))) {
      float[] x = new float[64];
      java.util.Arrays.fill(x, 0.25f);
      float[] eps = direct.denoise(x, new int[] {10});
      assertEquals(eps[0], (float) outputs.get(0).get(0).get(0).get(0).asDouble(), 1e-6f);
      assertEquals(eps[63], (float) outputs.get(0).get(7).get(7).get(0).asDouble(), 1e-6f);
    }
  }

  @Test
  void samplerSignaturesTakeScalarsColumnar() throws Exception {
    Answer a = post(server, "/v1/models/digits/versions/1:predict", "{\"signature_name\": \"sample_ddim\", "
        + "\"inputs\": {\"noise\": " + images(2, 0.1) + ", \"seed\": 3, \"steps\": 4, \"eta\": 0.0}}");
    assertEquals(200, a.status(), a.body());
    assertEquals(2, a.json().get("outputs").size());
    Answer again = post(server, "/v1/models/digits/versions/1:predict", "{\"signature_name\": \"sample_ddim\", "
        + "\"inputs\": {\"noise\": " + images(2, 0.1) + ", \"seed\": 3, \"steps\": 4, \"eta\": 0.0}}");
    assertEquals(a.json(), again.json(), "same inputs, same images");
  }

  @Test
  void predictErrorsAreTensorFlowServings() throws Exception {
    assertError(post(server, "/v1/models/cats:predict", "{\"instances\": [1]}"), 404,
        "Servable not found for request: Latest(cats)");
    assertError(post(server, "/v1/models/digits/versions/5:predict", "{\"instances\": [1]}"), 404,
        "Servable not found for request: Specific(digits, 5)");
    assertError(post(server, "/v1/models/digits:predict", "{\"signature_name\": \"nope\", \"instances\": [1]}"), 400,
        "Serving signature name: \"nope\" not found in signature def");
    assertError(post(server, "/v1/models/digits:predict", ""), 400, "JSON Parse error: The document is empty");
    assertEquals(400, post(server, "/v1/models/digits:predict", "{\"instances\": ").status());
    assertError(post(server, "/v1/models/digits:predict", "{\"x\": 1}"), 400, "Missing 'inputs' or 'instances' key");
    Answer both = post(server, "/v1/models/digits:predict", "{\"instances\": [1], \"inputs\": [1]}");
    assertEquals(400, both.status());
    assertTrue(both.json().get("error").asText().contains(
        "Not formatted correctly expecting only one of 'inputs' or 'instances' keys to exist"), both.body());
    Answer unknown = post(server, "/v1/models/digits:predict", "{\"instances\": [{\"x\": " + images(1, 0)
        .substring(1, images(1, 0).length() - 1) + ", \"t\": 1, \"tt\": 2}]}");
    assertEquals(400, unknown.status());
    assertTrue(unknown.json().get("error").asText().contains("does not have named input: tt"), unknown.body());
    assertEquals(400, post(server, "/v1/models/digits:predict", "{\"inputs\": {\"x\": [1.0], \"t\": [1]}}")
        .status(), "x has the wrong shape for the signature");
    assertEquals(400, post(server, "/v1/models/digits:predict", "{\"inputs\": {\"x\": " + images(1, 0) + ", "
        + "\"t\": [\"ten\"]}}").status(), "t has the wrong type");
    assertTrue(post(server, "/v1/models/digits:predict", "{\"inputs\": {\"x\": " + images(1, 0) + "}}").body()
        .contains("t"), "the missing input is named");
    assertError(send(server, HttpRequest.newBuilder(uri(server, "/v1/models/digits")).PUT(
        HttpRequest.BodyPublishers.ofString("{}")).build()), 400, "Malformed request: PUT /v1/models/digits");
    assertError(get(server, "/v1/models/digits:predict"), 400, "Malformed request: GET /v1/models/digits:predict");
    // TensorFlow Serving matches its URL patterns against the path with the query: here "digits?x=1" is the name
    assertError(get(server, "/v1/models/digits?x=1"), 404, "Could not find any versions of model digits?x=1");
    assertError(post(server, "/v1/models/digits:predict?x=1", "{}"), 400,
        "Malformed request: POST /v1/models/digits:predict");
    assertEquals(501, post(server, "/v1/models/digits:classify", "{\"instances\": [1]}").status());
  }

  @Test
  void bodiesAndBatchesOverTheLimitsAre413() throws Exception {
    String big = "{\"instances\": [" + "0.5,".repeat(40_000) + "0.5]}";
    assertEquals(413, post(server, "/v1/models/digits:predict", big).status());
    Answer batch = post(server, "/v1/models/digits:predict", "{\"inputs\": {\"x\": " + images(9, 0) + ", \"t\": "
        + "[1,1,1,1,1,1,1,1,1]}}");
    assertError(batch, 413, "The request's batch of 9 is larger than this server's --max-batch of 8.");
  }

  // ---- operating -----------------------------------------------------------------------------------------------

  @Test
  void aFullServerAnswers429AndARunOverItsDeadline504() throws Exception {
    try (ModelServer small = start(base.resolve("1"), 1, 0, 300)) {
      String slow = "{\"signature_name\": \"sample\", \"inputs\": {\"noise\": " + images(8, 0.1) + ", \"seed\": 1}}";
      CompletableFuture<HttpResponse<String>> first = HTTP.sendAsync(HttpRequest.newBuilder(uri(small,
          "/v1/models/digits:predict")).POST(HttpRequest.BodyPublishers.ofString(slow)).build(),
          HttpResponse.BodyHandlers.ofString());
      Thread.sleep(100);
      Answer second = post(small, "/v1/models/digits:predict", slow);
      HttpResponse<String> done = first.get();
      long start = System.nanoTime();
      assertEquals(504, done.statusCode(), done.body());
      assertError(second, 429, "The server is busy: 1 runs are in progress and 0 waiting, its limit "
          + "(--max-concurrent); try again shortly.");
      // the cancelled run really stopped: a small request right after is answered at once
      Answer quick = post(small, "/v1/models/digits:predict", "{\"inputs\": {\"x\": " + images(1, 0) + ", "
          + "\"t\": [5]}}");
      assertEquals(200, quick.status(), quick.body());
      assertTrue((System.nanoTime() - start) / 1e9 < 2, "the follow-up waited for the cancelled run");
    }
  }

  @Test
  void healthMetricsAndPage() throws Exception {
    Answer live = get(server, "/v2/health/live");
    assertEquals(200, live.status());
    assertEquals(0, live.bytes().length);
    assertEquals(200, get(server, "/v2/health/ready").status());
    get(server, "/v1/models/digits");
    Answer metrics = get(server, ModelServer.METRICS_PATH);
    assertEquals(200, metrics.status());
    assertTrue(metrics.body().contains(":tensorflow:serving:request_count{model_name=\"digits\",status=\"OK\"}"),
        metrics.body());
    Answer page = get(server, "/");
    assertEquals(200, page.status());
    assertTrue(page.contentType().startsWith("text/html"));
    assertTrue(page.body().contains("data-model=\"digits\""));
    assertError(get(server, "/nothing"), 404, "Nothing is served at /nothing.");
  }

  @Test
  void samplesPngIsTheSampleCommandsPictureForTheSameSeed() throws Exception {
    Answer a = get(server, "/v1/models/digits/samples.png?count=4&seed=3&sampler=ddim&steps=5");
    assertEquals(200, a.status(), a.body());
    assertEquals("image/png", a.contentType());
    assertArrayEquals(a.bytes(), get(server, "/v1/models/digits/samples.png?count=4&seed=3&sampler=ddim&steps=5")
        .bytes(), "same seed, same bytes");
    assertFalse(java.util.Arrays.equals(a.bytes(), get(server,
        "/v1/models/digits/samples.png?count=4&seed=4&sampler=ddim&steps=5").bytes()));
    Path png = dir.resolve("cli.png");
    assertEquals(0, Main.run("sample", "--model", base.resolve("2").toString(), "--count", "4", "--seed", "3",
        "--sampler", "ddim", "--sampling-steps", "5", "--out", png.toString()));
    assertArrayEquals(Files.readAllBytes(png), a.bytes(), "the sample command's grid");
    Answer gif = get(server, "/v1/models/digits/reverse.gif?count=2&seed=1&sampler=ddpm&frames=3");
    assertEquals(200, gif.status(), gif.body());
    assertEquals("image/gif", gif.contentType());
    assertError(get(server, "/v1/models/digits/samples.png?count=0"), 400,
        "'count' must be a whole number from 1 to 8, got '0'.");
    assertError(get(server, "/v1/models/digits/samples.png?sampler=fast"), 400,
        "'sampler' must be ddpm, ddim or tutorial, got 'fast'.");
    assertError(get(server, "/v1/models/digits/samples.png?colour=red"), 400,
        "Unknown parameter 'colour'; the image endpoints take count, seed, sampler, steps, eta, frames, label and "
            + "guidance.");
    assertError(get(server, "/v1/models/digits/samples.png?label=3"), 400,
        "'label' steers a conditional model, and digits is unconditional.");
  }

  @Test
  void aDrainedServerIsNotReadyAndRefusesNewWork() throws Exception {
    try (ModelServer other = start(base.resolve("1"), 1, 1, 30_000)) {
      assertEquals(200, get(other, "/v2/health/ready").status());
      CompletableFuture<Boolean> drained = CompletableFuture.supplyAsync(() -> other.drainAndStop(
          Duration.ofSeconds(5)));
      assertTrue(drained.get());
      assertThrowsConnect(other);
    }
  }

  /** A new connection (not one the shared client keeps alive) is refused: the port is closed. */
  private static void assertThrowsConnect(ModelServer stopped) throws InterruptedException {
    try {
      HttpClient.newHttpClient().send(HttpRequest.newBuilder(uri(stopped, "/v2/health/live")).build(),
          HttpResponse.BodyHandlers.discarding());
      throw new AssertionError("a stopped server accepted a connection");
    } catch (java.net.ConnectException expected) {
      // connection refused: it stopped accepting
    } catch (IOException e) {
      throw new AssertionError("expected a refused connection, got " + e, e);
    }
  }
}
