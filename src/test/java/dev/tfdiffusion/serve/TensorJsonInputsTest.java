package dev.tfdiffusion.serve;

import static dev.tfdiffusion.serve.Tensors.spec;
import static dev.tfdiffusion.serve.Tensors.specs;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.tensorflow.proto.DataType.DT_BOOL;
import static org.tensorflow.proto.DataType.DT_DOUBLE;
import static org.tensorflow.proto.DataType.DT_FLOAT;
import static org.tensorflow.proto.DataType.DT_HALF;
import static org.tensorflow.proto.DataType.DT_INT32;
import static org.tensorflow.proto.DataType.DT_INT64;
import static org.tensorflow.proto.DataType.DT_STRING;

import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** Request values to tensors: TFS's row and columnar readings, its messages, and our shape check. */
class TensorJsonInputsTest {
  private static final SortedMap<String, TensorSpec> FLOATS = specs(spec("x", DT_FLOAT, -1));
  private static final SortedMap<String, TensorSpec> MATRIX = specs(spec("x", DT_FLOAT, -1, -1));
  /** The denoiser's inputs: images and timesteps. */
  private static final SortedMap<String, TensorSpec> DENOISE = specs(spec("x", DT_FLOAT, -1, 2),
      spec("t", DT_INT32, -1));

  /** The 400 message {@code body} gets for {@code inputs}. */
  private static String error(String body, SortedMap<String, TensorSpec> inputs) {
    ServeException e = assertThrows(ServeException.class, () -> Tensors.of(body, inputs).close());
    assertEquals(Status.INVALID_ARGUMENT, e.status());
    return e.getMessage();
  }

  @Test
  void rowPlainListBatchesTheSingleInput() {
    try (Tensors t = Tensors.of("{\"instances\": [1.0, 2, -3.5]}", FLOATS)) {
      assertEquals(Set.of("x"), t.map.keySet());
      assertArrayEquals(new long[] {3}, t.shape("x"));
      assertArrayEquals(new float[] {1f, 2f, -3.5f}, t.floats("x"));
    }
    try (Tensors t = Tensors.of("{\"instances\": [[[1, 2], [3, 4]], [[5, 6], [7, 8]]]}",
        specs(spec("x", DT_FLOAT, -1, 2, 2)))) {
      assertArrayEquals(new long[] {2, 2, 2}, t.shape("x"));
      assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, t.floats("x"));
    }
  }

  @Test
  void rowObjectsBatchEveryNamedInput() {
    try (Tensors t = Tensors.of("{\"instances\": [{\"x\": [1, 2], \"t\": 10}, {\"t\": 20, \"x\": [3, 4]}]}",
        DENOISE)) {
      assertArrayEquals(new long[] {2, 2}, t.shape("x"));
      assertArrayEquals(new float[] {1, 2, 3, 4}, t.floats("x"));
      assertArrayEquals(new long[] {2}, t.shape("t"));
      assertArrayEquals(new int[] {10, 20}, t.ints("t"));
    }
  }

  @Test
  void rowRoundTripsInt32AndInt64() {
    try (Tensors t = Tensors.of("{\"instances\": [[1, -2147483648], [2147483647, 0]]}",
        specs(spec("i", DT_INT32, -1, 2)))) {
      assertArrayEquals(new int[] {1, Integer.MIN_VALUE, Integer.MAX_VALUE, 0}, t.ints("i"));
    }
    try (Tensors t = Tensors.of("{\"instances\": [9223372036854775807, -9223372036854775808, 9007199254740993]}",
        specs(spec("l", DT_INT64, -1)))) {
      assertArrayEquals(new long[] {3}, t.shape("l"));
      assertArrayEquals(new long[] {Long.MAX_VALUE, Long.MIN_VALUE, 9007199254740993L}, t.longs("l"));
    }
  }

  @Test
  void columnarTakesEachValueWhole() {
    try (Tensors t = Tensors.of("{\"inputs\": {\"x\": [[1, 2], [3, 4], [5, 6]], \"t\": [7, 8, 9]}}", DENOISE)) {
      assertArrayEquals(new long[] {3, 2}, t.shape("x"));
      assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, t.floats("x"));
      assertArrayEquals(new int[] {7, 8, 9}, t.ints("t"));
    }
    try (Tensors t = Tensors.of("{\"inputs\": [[1.5, 2.5]]}", MATRIX)) {
      assertArrayEquals(new long[] {1, 2}, t.shape("x"));
    }
  }

  @Test
  void columnarScalarsOfEveryType() {
    SortedMap<String, TensorSpec> inputs = specs(spec("f", DT_FLOAT), spec("d", DT_DOUBLE), spec("i", DT_INT32),
        spec("l", DT_INT64), spec("b", DT_BOOL), spec("s", DT_STRING));
    try (Tensors t = Tensors.of("{\"inputs\": {\"f\": 0.5, \"d\": 0.1, \"i\": -7, \"l\": 12345678901, \"b\": true, "
        + "\"s\": \"hi\"}}", inputs)) {
      for (String key : inputs.keySet()) {
        assertArrayEquals(new long[0], t.shape(key), key);
      }
      assertArrayEquals(new float[] {0.5f}, t.floats("f"));
      assertArrayEquals(new double[] {0.1}, t.doubles("d"));
      assertArrayEquals(new int[] {-7}, t.ints("i"));
      assertArrayEquals(new long[] {12345678901L}, t.longs("l"));
      assertArrayEquals(new boolean[] {true}, t.booleans("b"));
      assertArrayEquals(new String[] {"hi"}, t.strings("s"));
    }
    try (Tensors t = Tensors.of("{\"inputs\": 2.5}", specs(spec("x", DT_FLOAT)))) {
      assertArrayEquals(new long[0], t.shape("x"));
      assertArrayEquals(new float[] {2.5f}, t.floats("x"));
    }
  }

  @Test
  void numbersAreReadAsRapidJsonReadsThem() {
    try (Tensors t = Tensors.of("{\"inputs\": [NaN, Infinity, -Infinity, 1435774380, 0.1, 18446744073709551615]}",
        FLOATS)) {
      float[] v = t.floats("x");
      assertTrue(Float.isNaN(v[0]));
      assertEquals(Float.POSITIVE_INFINITY, v[1]);
      assertEquals(Float.NEGATIVE_INFINITY, v[2]);
      assertEquals(1435774336f, v[3]); // api_rest.md's example of float rounding
      assertEquals(0.1f, v[4]);
      assertEquals(1.8446744e19f, v[5]);
    }
  }

  @Test
  void base64ObjectsAreStringValues() {
    try (Tensors t = Tensors.of("{\"inputs\": [{\"b64\": \"aW1hZ2UgYnl0ZXM=\"}, \"plain\", {\"b64\": \"aGk\"}]}",
        specs(spec("s", DT_STRING, -1)))) {
      assertArrayEquals(new String[] {"image bytes", "plain", "hi"}, t.strings("s"));
    }
    SortedMap<String, TensorSpec> strings = specs(spec("s", DT_STRING, -1));
    assertEquals("Unable to base64 decode", error("{\"inputs\": [{\"b64\": \"!!\"}]}", strings));
    assertEquals("JSON Value: {\n    \"b64\": 1\n} not formatted correctly for base64 data",
        error("{\"inputs\": [{\"b64\": 1}]}", strings));
    assertEquals("JSON Value: {\n    \"b64\": \"aGk=\"\n} Type: Object is not of expected type: float",
        error("{\"inputs\": [{\"b64\": \"aGk=\"}]}", FLOATS));
  }

  // --- TFS's messages, row format (FillTensorMapFromInstancesList)

  @Test
  void rowPlainListNeedsASingleInput() {
    assertEquals("instances is a plain list, but expecting list of objects as multiple input tensors required as "
        + "per tensorinfo_map", error("{\"instances\": [[1, 2]]}", DENOISE));
  }

  @Test
  void rowObjectKeysMustBeTheInputNames() {
    assertEquals("Failed to process element: 0 of 'instances' list. JSON object: {\n    \"x\": [1, 2]\n} keys must "
        + "be equal to: t,x", error("{\"instances\": [{\"x\": [1, 2]}]}", DENOISE));
    assertEquals("Failed to process element: 1 key: y of 'instances' list. Error: INVALID_ARGUMENT: JSON object: "
        + "does not have named input: y",
        error("{\"instances\": [{\"x\": [1, 2], \"t\": 1}, {\"x\": [1, 2], \"y\": 3, \"t\": 1}]}", DENOISE));
  }

  @Test
  void rowMustNotMixObjectsAndValues() {
    assertEquals("Expecting object but got list at item 1 of input list",
        error("{\"instances\": [{\"x\": [1, 2], \"t\": 1}, [1, 2]]}", DENOISE));
    assertEquals("Expecting value/list but got object at item 1 of input list",
        error("{\"instances\": [[1, 2], {\"x\": [1, 2]}]}", MATRIX));
  }

  @Test
  void rowInstancesMustAgreeInSizeAndShape() {
    assertEquals("Failed to process element: 2 of 'instances' list. Error: INVALID_ARGUMENT: Expecting tensor size: "
        + "2 but got: 3", error("{\"instances\": [[1, 2], [3, 4], [5, 6, 7]]}", MATRIX));
    assertEquals("Failed to process element: 2 of 'instances' list. Error: INVALID_ARGUMENT: Expecting shape [2] "
        + "but got: [1,2]", error("{\"instances\": [[1, 2], [3, 4], [[5, 6]]]}", MATRIX));
    assertEquals("Failed to process element: 1 of 'instances' list. Error: INVALID_ARGUMENT: Expecting shape [] "
        + "but got: [1]", error("{\"instances\": [1, [1]]}", FLOATS));
    assertEquals("Failed to process element: 1 key: x of 'instances' list. Error: INVALID_ARGUMENT: Expecting "
        + "tensor size: 2 but got: 4",
        error("{\"instances\": [{\"x\": [1, 2], \"t\": 1}, {\"x\": [1, 2, 3, 4], \"t\": 2}]}", DENOISE));
  }

  @Test
  void rowTypeErrorsAreNested() {
    assertEquals("Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: JSON Value: \"x\" "
        + "Type: String is not of expected type: float", error("{\"instances\": [\"x\", \"y\"]}", FLOATS));
    assertEquals("Failed to process element: 1 of 'instances' list. Error: INVALID_ARGUMENT: JSON Value: \"a\" "
        + "Type: String is not of expected type: float", error("{\"instances\": [[1, 2], [\"a\", \"b\"]]}", MATRIX));
  }

  // --- TFS's messages, columnar format (FillTensorMapFromInputsMap)

  @Test
  void columnarPlainValueNeedsASingleInput() {
    assertEquals("inputs is a plain value/list, but expecting an object as multiple input tensors required as per "
        + "tensorinfo_map", error("{\"inputs\": [[1, 2]]}", DENOISE));
  }

  @Test
  void columnarNeedsEveryNamedInputAndIgnoresOthers() {
    assertEquals("Missing named input: t in 'inputs' object.", error("{\"inputs\": {\"x\": [[1, 2]]}}", DENOISE));
    assertEquals("Missing named input: x in 'inputs' object.", error("{\"inputs\": {}}", FLOATS));
    try (Tensors t = Tensors.of("{\"inputs\": {\"x\": [[1, 2]], \"t\": [3], \"junk\": \"?\"}}", DENOISE)) {
      assertEquals(Set.of("t", "x"), t.map.keySet());
    }
  }

  // --- values (FillTensorProto, AddValueToTensor)

  @Test
  void raggedOrMisleveledLists() {
    assertEquals("Encountered list at unexpected size: 1 at level: 1 expected size: 2",
        error("{\"inputs\": [[1, 2], [3]]}", MATRIX));
    assertEquals("JSON Value: 3 found at incorrect level: 2 in the JSON DOM. Expected at level: 2",
        error("{\"inputs\": [[1, 2], 3]}", MATRIX));
    assertEquals("Encountered list at unexpected level: 1 expected < 1", error("{\"inputs\": [1, [2]]}", FLOATS));
  }

  @Test
  void typeErrorsNameTheValueItsJsonTypeAndTheDtype() {
    assertEquals("JSON Value: \"x\" Type: String is not of expected type: float",
        error("{\"inputs\": [\"x\"]}", FLOATS));
    assertEquals("JSON Value: true Type: True is not of expected type: float", error("{\"inputs\": [true]}", FLOATS));
    assertEquals("JSON Value: null Type: Null is not of expected type: double",
        error("{\"inputs\": [null]}", specs(spec("x", DT_DOUBLE, -1))));
    assertEquals("JSON Value: {\n    \"a\": 1\n} Type: Object is not of expected type: float",
        error("{\"inputs\": [{\"a\": 1}]}", FLOATS));
  }

  @Test
  void int32NeedsAnIntegerInRange() {
    SortedMap<String, TensorSpec> ints = specs(spec("i", DT_INT32, -1));
    assertEquals("JSON Value: 2.0 Type: Number is not of expected type: int32", error("{\"inputs\": [1, 2.0]}", ints));
    assertEquals("JSON Value: 2147483648 Type: Number is not of expected type: int32",
        error("{\"inputs\": [2147483648]}", ints));
    assertEquals("JSON Value:  Type: Number is not of expected type: int32", error("{\"inputs\": [NaN]}", ints));
  }

  @Test
  void int64NeedsAnIntegerInRange() {
    SortedMap<String, TensorSpec> longs = specs(spec("l", DT_INT64, -1));
    assertEquals("JSON Value: 1.5 Type: Number is not of expected type: int64",
        error("{\"inputs\": [9223372036854775807, 1.5]}", longs));
    assertEquals("JSON Value: 9223372036854775808 Type: Number is not of expected type: int64",
        error("{\"inputs\": [9223372036854775808]}", longs));
  }

  @Test
  void boolNeedsTrueOrFalse() {
    SortedMap<String, TensorSpec> bools = specs(spec("b", DT_BOOL, -1));
    assertEquals("JSON Value: 1 Type: Number is not of expected type: bool", error("{\"inputs\": [true, 1]}", bools));
    try (Tensors t = Tensors.of("{\"instances\": [true, false]}", bools)) {
      assertArrayEquals(new boolean[] {true, false}, t.booleans("b"));
    }
  }

  @Test
  void typesJsonCannotFillAreOneSentence() {
    assertEquals("Input \"h\" of signature \"serving_default\" has type DT_HALF, which a JSON request cannot fill "
        + "(supported: DT_FLOAT, DT_DOUBLE, DT_INT32, DT_INT64, DT_BOOL, DT_STRING)",
        error("{\"inputs\": [1]}", specs(spec("h", DT_HALF, -1))));
  }

  @Test
  void aSignatureWithoutInputs() {
    PredictRequest r = TensorJson.parse("{\"inputs\": 1}".getBytes(StandardCharsets.UTF_8));
    ServeException e = assertThrows(ServeException.class, () -> TensorJson.tensors(r, new TreeMap<>(), "sample"));
    assertEquals("Failed to get input map for signature: sample", e.getMessage());
  }

  // --- input count (predict_util.cc VerifyRequestInputsSize)

  @Test
  void inputCountWithTfsText() {
    // a {"b64": ...} instance is a value, so it fills only the first input: TFS then counts the inputs
    SortedMap<String, TensorSpec> two = specs(spec("a", DT_STRING, -1), spec("b", DT_FLOAT, -1));
    assertEquals("input size does not match signature: 1!=2 len({a}) != len({a,b}). Sent extra: {}. Missing but "
        + "required: {b}.", error("{\"instances\": [{\"b64\": \"aGk=\"}]}", two));
    ServeException e = assertThrows(ServeException.class,
        () -> TensorJson.verifyInputsSize(Set.of("y", "x", "t"), Set.of("x", "t")));
    assertEquals("input size does not match signature: 3!=2 len({t,x,y}) != len({t,x}). Sent extra: {y}. Missing "
        + "but required: {}.", e.getMessage());
  }

  // --- our check: shapes against the signature

  @Test
  void shapesMustFitTheSignature() {
    SortedMap<String, TensorSpec> ddim = specs(spec("noise", DT_FLOAT, -1, 8, 8, 1), spec("seed", DT_INT64));
    PredictRequest r = TensorJson.parse(("{\"signature_name\": \"sample_ddim\", \"inputs\": {\"noise\": "
        + zeros(1, 8, 8, 1) + ", \"seed\": [1, 2]}}").getBytes(StandardCharsets.UTF_8));
    ServeException e = assertThrows(ServeException.class, () -> TensorJson.tensors(r, ddim, r.signatureName()));
    assertEquals(Status.INVALID_ARGUMENT, e.status());
    assertEquals("Input \"seed\" of signature \"sample_ddim\" has shape [2] but the signature expects [] (scalar)",
        e.getMessage());
    assertEquals("Input \"noise\" of signature \"serving_default\" has shape [2,8,8] but the signature expects "
        + "[-1,8,8,1]", error("{\"inputs\": {\"noise\": " + zeros(2, 8, 8) + ", \"seed\": 1}}", ddim));
    assertEquals("Input \"x\" of signature \"serving_default\" has shape [2,3] but the signature expects [-1,2]",
        error("{\"instances\": [{\"x\": [1, 2, 3], \"t\": 1}, {\"x\": [4, 5, 6], \"t\": 2}]}", DENOISE));
    try (Tensors t = Tensors.of("{\"inputs\": {\"noise\": " + zeros(3, 8, 8, 1) + ", \"seed\": 5}}", ddim)) {
      assertArrayEquals(new long[] {3, 8, 8, 1}, t.shape("noise"));
      assertArrayEquals(new long[0], t.shape("seed"));
    }
  }

  @Test
  void anUnknownRankAcceptsEveryShape() {
    SortedMap<String, TensorSpec> any = specs(new TensorSpec("x", DT_FLOAT, null, "x:0"));
    try (Tensors t = Tensors.of("{\"inputs\": [[[1]]]}", any)) {
      assertArrayEquals(new long[] {1, 1, 1}, t.shape("x"));
    }
  }

  /** A nested JSON list of zeros of {@code shape}. */
  private static String zeros(int... shape) {
    return zeros(shape, 0);
  }

  private static String zeros(int[] shape, int dim) {
    if (dim == shape.length) {
      return "0";
    }
    String item = zeros(shape, dim + 1);
    return "[" + String.join(", ", java.util.Collections.nCopies(shape[dim], item)) + "]";
  }

  // --- batch size for --max-batch

  @Test
  void batchSizeIsTheLargestDimZero() {
    try (Tensors t = Tensors.of("{\"instances\": [{\"x\": [1, 2], \"t\": 1}, {\"x\": [3, 4], \"t\": 2}, "
        + "{\"x\": [5, 6], \"t\": 3}]}", DENOISE)) {
      assertEquals(3, TensorJson.batchSize(t.map));
    }
    SortedMap<String, TensorSpec> mixed = specs(spec("noise", DT_FLOAT, -1, 2), spec("seed", DT_INT64),
        spec("t", DT_INT32, -1));
    try (Tensors t = Tensors.of("{\"inputs\": {\"noise\": [[1, 2], [3, 4]], \"seed\": 7, \"t\": [1, 2, 3, 4, 5]}}",
        mixed)) {
      assertEquals(5, TensorJson.batchSize(t.map));
    }
    try (Tensors t = Tensors.of("{\"inputs\": {\"seed\": 7}}", specs(spec("seed", DT_INT64)))) {
      assertEquals(0, TensorJson.batchSize(t.map));
    }
  }

  // --- the TFS documentation's requests (g3doc/api_rest.md)

  private static final SortedMap<String, TensorSpec> DOCS = specs(spec("tag", DT_STRING, -1),
      spec("signal", DT_FLOAT, -1, 5), spec("sensor", DT_FLOAT, -1, 2, 2));

  @Test
  void docsRowExample() {
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
    try (Tensors t = Tensors.of(row, DOCS)) {
      assertDocsTensors(t);
    }
    // as printed in api_rest.md, with a stray bracket after the second "signal": TFS would refuse it too
    ServeException typo = assertThrows(ServeException.class,
        () -> Tensors.of(row.replace("[3, 4, 1, 2, 5],", "[3, 4, 1, 2, 5]],"), DOCS).close());
    assertTrue(typo.getMessage().startsWith("JSON Parse error: Missing a comma or '}' after an object member. at "
        + "offset: "), typo.getMessage());
  }

  @Test
  void docsColumnarExample() {
    String columnar = """
        {
         "inputs": {
           "tag": ["foo", "bar"],
           "signal": [[1, 2, 3, 4, 5], [3, 4, 1, 2, 5]],
           "sensor": [[[1, 2], [3, 4]], [[4, 5], [6, 8]]]
         }
        }""";
    try (Tensors t = Tensors.of(columnar, DOCS)) {
      assertDocsTensors(t);
    }
  }

  private static void assertDocsTensors(Tensors t) {
    assertArrayEquals(new long[] {2}, t.shape("tag"));
    assertArrayEquals(new String[] {"foo", "bar"}, t.strings("tag"));
    assertArrayEquals(new long[] {2, 5}, t.shape("signal"));
    assertArrayEquals(new float[] {1, 2, 3, 4, 5, 3, 4, 1, 2, 5}, t.floats("signal"));
    assertArrayEquals(new long[] {2, 2, 2}, t.shape("sensor"));
    assertArrayEquals(new float[] {1, 2, 3, 4, 4, 5, 6, 8}, t.floats("sensor"));
  }

  @Test
  void docsSingleInputExamples() {
    try (Tensors t = Tensors.of("{\n  \"instances\": [ \"foo\", \"bar\", \"baz\" ]\n}",
        specs(spec("s", DT_STRING, -1)))) {
      assertArrayEquals(new long[] {3}, t.shape("s"));
      assertArrayEquals(new String[] {"foo", "bar", "baz"}, t.strings("s"));
    }
    try (Tensors t = Tensors.of("{\n  \"instances\": [ [[1, 2]], [[3, 4]] ]\n}",
        specs(spec("x", DT_INT32, -1, 1, 2)))) {
      assertArrayEquals(new long[] {2, 1, 2}, t.shape("x"));
      assertArrayEquals(new int[] {1, 2, 3, 4}, t.ints("x"));
    }
  }
}
