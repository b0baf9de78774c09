package dev.tfdiffusion.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tfdiffusion.util.Compute;
import dev.tfdiffusion.util.SessionOptions;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TString;

/**
 * A client written for TensorFlow Serving works unchanged: the exact requests of TensorFlow Serving's REST API
 * documentation ({@code g3doc/api_rest.md}), sent to models built like the documentation's, get the documented
 * answers and response shapes.
 */
class TensorFlowServingClientTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  Path dir;

  /** The documentation's {@code saved_model_half_plus_three}: y = 0.5 x + 3. */
  private Path halfPlusThree() throws java.io.IOException {
    Path out = dir.resolve("saved_model_half_plus_three");
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1)));
      Operand<TFloat32> y = tf.withName("y").math.add(tf.math.mul(x, tf.constant(0.5f)), tf.constant(3f));
      export(g, out, Signature.builder().key("serving_default").methodName("tensorflow/serving/predict")
          .input("x", x).output("y", y).build());
    }
    return out;
  }

  /** A model with the documentation's three named inputs, tag, signal and sensor; its outputs echo them per item. */
  private Path tagSignalSensor() throws java.io.IOException {
    Path out = dir.resolve("three_inputs");
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TString> tag = tf.withName("tag").placeholder(TString.class, Placeholder.shape(Shape.of(-1)));
      Placeholder<TFloat32> signal = tf.withName("signal").placeholder(TFloat32.class,
          Placeholder.shape(Shape.of(-1, 5)));
      Placeholder<TFloat32> sensor = tf.withName("sensor").placeholder(TFloat32.class,
          Placeholder.shape(Shape.of(-1, 2, 2)));
      export(g, out, Signature.builder().key("serving_default").methodName("tensorflow/serving/predict")
          .input("tag", tag).input("signal", signal).input("sensor", sensor)
          .output("tag_out", tf.withName("tag_out").identity(tag))
          .output("signal_sum", tf.withName("signal_sum").sum(signal, tf.constant(1)))
          .output("sensor_out", tf.withName("sensor_out").identity(sensor)).build());
    }
    return out;
  }

  private static void export(Graph g, Path out, Signature signature) throws java.io.IOException {
    try (Session s = new Session(g)) {
      SavedModelBundle.exporter(out.toString()).withSession(s).withSignatures(signature).export();
    }
  }

  private static ModelServer serve(Path model, String name) throws Exception {
    return ModelServer.start(model, new ModelServer.Options(name, "127.0.0.1", 0, 1 << 20, 64, 2, 2, 30_000),
        SessionOptions.create(Compute.DEFAULT, 0));
  }

  @Test
  void theDocumentedPredictCallGetsTheDocumentedAnswer() throws Exception {
    try (ModelServer server = serve(halfPlusThree(), "saved_model_half_plus_three")) {
      ServeApiTest.Answer a = ServeApiTest.post(server, "/v1/models/saved_model_half_plus_three:predict",
          "{\"instances\": [1.0,2.0,5.0]}");
      assertEquals(200, a.status(), a.body());
      assertEquals(JSON.readTree("{\"predictions\": [3.5, 4.0, 5.5]}"), a.json());
      ServeApiTest.Answer missing = ServeApiTest.post(server, "/v1/models/half:predict",
          "{\"instances\": [1.0,5.0]}");
      assertEquals(404, missing.status());
      assertEquals(JSON.readTree("{ \"error\": \"Servable not found for request: Latest(half)\" }"),
          missing.json());
      ServeApiTest.Answer columnar = ServeApiTest.post(server, "/v1/models/saved_model_half_plus_three:predict",
          "{\"signature_name\": \"serving_default\", \"inputs\": [3.0, 4.0]}");
      assertEquals(JSON.readTree("{\"outputs\": [4.5, 5.0]}"), columnar.json());
    }
  }

  @Test
  void theDocumentedRowAndColumnarRequestsWithThreeInputs() throws Exception {
    try (ModelServer server = serve(tagSignalSensor(), "three")) {
      // the documentation's row example (its second "signal" has one "]" too many there, which no parser accepts)
      String row = """
          {
           "instances": [
             {
               "tag": "foo",
               "signal": [1, 2, 3, 4, 5],
               "sensor": [[1, 2], [3, 4]]
             },
             {
               "tag": "bar",
               "signal": [3, 4, 1, 2, 5],
               "sensor": [[4, 5], [6, 8]]
             }
           ]
          }""";
      String columnar = """
          {
           "inputs": {
             "tag": ["foo", "bar"],
             "signal": [[1, 2, 3, 4, 5], [3, 4, 1, 2, 5]],
             "sensor": [[[1, 2], [3, 4]], [[4, 5], [6, 8]]]
           }
          }""";
      ServeApiTest.Answer r = ServeApiTest.post(server, "/v1/models/three:predict", row);
      assertEquals(200, r.status(), r.body());
      // several outputs: one object per item, keyed by output name
      JsonNode predictions = r.json().get("predictions");
      assertEquals(2, predictions.size());
      assertEquals("bar", predictions.get(1).get("tag_out").asText());
      assertEquals(15.0, predictions.get(1).get("signal_sum").asDouble());
      assertEquals(JSON.readTree("[[4.0, 5.0], [6.0, 8.0]]"), predictions.get(1).get("sensor_out"));
      ServeApiTest.Answer c = ServeApiTest.post(server, "/v1/models/three:predict", columnar);
      assertEquals(200, c.status(), c.body());
      // several outputs, columnar: one object keyed by output name, each a whole tensor
      JsonNode outputs = c.json().get("outputs");
      assertEquals(JSON.readTree("[\"foo\", \"bar\"]"), outputs.get("tag_out"));
      assertEquals(JSON.readTree("[15.0, 15.0]"), outputs.get("signal_sum"));
      assertEquals(List.of(2, 2, 2), List.of(outputs.get("sensor_out").size(), outputs.get("sensor_out").get(0)
          .size(), outputs.get("sensor_out").get(0).get(0).size()));
    }
  }
}
