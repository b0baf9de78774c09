package dev.tfdiffusion.serve;

import static dev.tfdiffusion.serve.Tensors.spec;
import static dev.tfdiffusion.serve.Tensors.specs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.tensorflow.proto.DataType.DT_FLOAT;
import static org.tensorflow.proto.DataType.DT_INT32;
import static org.tensorflow.proto.DataType.DT_INT64;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat16;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.TString;

/** Output tensors to the response body: TFS's row/columnar shapes, checks, numbers and PrettyWriter layout. */
class TensorJsonResponseTest {
  private static SortedMap<String, Tensor> outputs(Object... keysAndTensors) {
    SortedMap<String, Tensor> map = new TreeMap<>();
    for (int i = 0; i < keysAndTensors.length; i += 2) {
      map.put((String) keysAndTensors[i], (Tensor) keysAndTensors[i + 1]);
    }
    return map;
  }

  private static String error(boolean row, SortedMap<String, Tensor> outputs) {
    ServeException e = assertThrows(ServeException.class, () -> TensorJson.response(row, outputs));
    assertEquals(Status.INVALID_ARGUMENT, e.status());
    return e.getMessage();
  }

  @Test
  void tfsReferenceResponses() {
    // api_rest.md: half_plus_three answers {"instances": [1.0, 2.0, 5.0]} and the handler test's columnar request
    try (TFloat32 y = TFloat32.vectorOf(3.5f, 4f, 5.5f)) {
      assertEquals("{\n    \"predictions\": [3.5, 4.0, 5.5\n    ]\n}", TensorJson.response(true, outputs("y", y)));
    }
    try (TFloat32 y = TFloat32.vectorOf(3.5f, 4f)) {
      assertEquals("{\n    \"outputs\": [\n        3.5,\n        4.0\n    ]\n}",
          TensorJson.response(false, outputs("y", y)));
    }
  }

  @Test
  void rowSplitsOneOutputIntoUnnamedItems() {
    try (TFloat32 y = TFloat32.tensorOf(Shape.of(2, 2, 2), DataBuffers.of(1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f))) {
      assertEquals("{\n    \"predictions\": [[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]]\n    ]\n}",
          TensorJson.response(true, outputs("y", y)));
    }
  }

  @Test
  void rowGivesAnObjectPerItemForSeveralOutputs() {
    try (TFloat32 a = TFloat32.tensorOf(Shape.of(2, 2), DataBuffers.of(1f, 2f, 3f, 4f));
         TInt32 b = TInt32.vectorOf(1, 2)) {
      assertEquals("""
          {
              "predictions": [
                  {
                      "a": [1.0, 2.0],
                      "b": 1
                  },
                  {
                      "a": [3.0, 4.0],
                      "b": 2
                  }
              ]
          }""", TensorJson.response(true, outputs("b", b, "a", a)));
    }
  }

  @Test
  void rowOfAnEmptyBatch() {
    try (TFloat32 y = TFloat32.tensorOf(Shape.of(0, 2), DataBuffers.of(new float[0], true, false))) {
      assertEquals("{\n    \"predictions\": []\n}", TensorJson.response(true, outputs("y", y)));
    }
  }

  @Test
  void rowNeedsABatchDimensionShared() {
    try (TFloat32 scalar = TFloat32.scalarOf(1f); TFloat32 two = TFloat32.vectorOf(1f, 2f);
         TInt64 three = TInt64.vectorOf(1, 2, 3)) {
      assertEquals("Tensor name: y has no shape information ", error(true, outputs("y", scalar)));
      assertEquals("Tensor name: b has inconsistent batch size: 3 expecting: 2",
          error(true, outputs("a", two, "b", three)));
      // columnar has no such rule: the trajectory signature's [K] and [K, N, ...] outputs are fine there
      assertEquals("{\n    \"outputs\": {\n        \"a\": [\n            1.0,\n            2.0\n        ],\n"
          + "        \"b\": [\n            1,\n            2,\n            3\n        ],\n        \"s\": 1.0\n    }\n}",
          TensorJson.response(false, outputs("a", two, "b", three, "s", scalar)));
    }
    assertEquals("Cannot convert empty tensor map to JSON", error(false, new TreeMap<>()));
  }

  @Test
  void columnarWritesWholeTensorsScalarsBare() {
    try (TInt32 m = TInt32.tensorOf(Shape.of(2, 3), DataBuffers.of(1, 2, 3, 4, 5, 6))) {
      assertEquals("""
          {
              "outputs": [
                  [
                      1,
                      2,
                      3
                  ],
                  [
                      4,
                      5,
                      6
                  ]
              ]
          }""", TensorJson.response(false, outputs("m", m)));
    }
    try (TInt32 s = TInt32.scalarOf(7)) {
      assertEquals("{\n    \"outputs\": 7\n}", TensorJson.response(false, outputs("s", s)));
    }
  }

  @Test
  void numbersAsTfsWritesThem() {
    try (TFloat32 f = TFloat32.vectorOf(0.1f, 9_000_000f, 3e-5f, 0.123456789f, -0f, Float.NaN,
        Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY);
         TFloat64 d = TFloat64.vectorOf(0.1, 1.0 / 3);
         TInt64 l = TInt64.vectorOf(Long.MAX_VALUE, Long.MIN_VALUE);
         TBool b = TBool.vectorOf(true, false)) {
      assertEquals("{\n    \"predictions\": [0.1, 9e+06, 3e-05, 0.123456791, -0.0, NaN, Infinity, -Infinity\n"
          + "    ]\n}", TensorJson.response(true, outputs("f", f)));
      assertEquals("{\n    \"predictions\": [0.1, 0.33333333333333331\n    ]\n}",
          TensorJson.response(true, outputs("d", d)));
      assertEquals("{\n    \"predictions\": [9223372036854775807, -9223372036854775808\n    ]\n}",
          TensorJson.response(true, outputs("l", l)));
      assertEquals("{\n    \"predictions\": [true, false\n    ]\n}", TensorJson.response(true, outputs("b", b)));
    }
  }

  @Test
  void stringsAsTextOrBase64ForBytesOutputs() {
    try (TString label = TString.vectorOf("cat", "d\"og");
         TString image = TString.tensorOfBytes(Shape.of(2), DataBuffers.ofObjects("image bytes".getBytes(
             StandardCharsets.UTF_8), new byte[] {(byte) 0xff}))) {
      assertEquals("""
          {
              "predictions": [
                  {
                      "image_bytes": {
                          "b64": "aW1hZ2UgYnl0ZXM="
                      },
                      "label": "cat"
                  },
                  {
                      "image_bytes": {
                          "b64": "/w=="
                      },
                      "label": "d\\"og"
                  }
              ]
          }""", TensorJson.response(true, outputs("label", label, "image_bytes", image)));
    }
  }

  @Test
  void typesJsonCannotHoldAreTfsError() {
    try (TFloat16 h = TFloat16.vectorOf(1f)) {
      assertEquals("Failed to write JSON value for tensor type: half", error(false, outputs("h", h)));
    }
  }

  @Test
  void rowAndColumnarRoundTrips() throws Exception {
    // what a request's tensors become when a signature hands them back unchanged (identity outputs)
    ObjectMapper json = new ObjectMapper();
    String[][] cases = {
        // body, inputs' spec key, response key, expected response value
        {"{\"instances\": [1.5, -2, 3]}", "f1", "predictions", "[1.5,-2.0,3.0]"},
        {"{\"instances\": [[[1, 2]], [[3, 4]]]}", "f3", "predictions", "[[[1.0,2.0]],[[3.0,4.0]]]"},
        {"{\"inputs\": 0.25}", "f0", "outputs", "0.25"},
        {"{\"inputs\": [[1, 2], [3, 4]]}", "i2", "outputs", "[[1,2],[3,4]]"},
        {"{\"instances\": [7, -8]}", "i1", "predictions", "[7,-8]"},
        {"{\"inputs\": -5}", "i0", "outputs", "-5"},
        {"{\"instances\": [[9007199254740993], [-1]]}", "l2", "predictions", "[[9007199254740993],[-1]]"},
        {"{\"inputs\": 9223372036854775807}", "l0", "outputs", "9223372036854775807"},
    };
    SortedMap<String, TensorSpec> all = specs(spec("f0", DT_FLOAT), spec("f1", DT_FLOAT, -1),
        spec("f3", DT_FLOAT, -1, 1, 2), spec("i0", DT_INT32), spec("i1", DT_INT32, -1), spec("i2", DT_INT32, -1, 2),
        spec("l0", DT_INT64), spec("l2", DT_INT64, -1, 1));
    for (String[] c : cases) {
      SortedMap<String, TensorSpec> one = specs(all.get(c[1]));
      try (Tensors t = Tensors.of(c[0], one)) {
        PredictRequest r = TensorJson.parse(c[0].getBytes(StandardCharsets.UTF_8));
        String body = TensorJson.response(r.row(), new TreeMap<>(t.map));
        JsonNode out = json.readTree(body);
        assertEquals(1, out.size(), body);
        assertEquals(json.readTree(c[3]), out.get(c[2]), c[0] + " -> " + body);
        assertTrue(body.startsWith("{\n    \"" + c[2] + "\": "), body);
      }
    }
  }
}
