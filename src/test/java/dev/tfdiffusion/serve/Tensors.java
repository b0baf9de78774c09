package dev.tfdiffusion.serve;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.proto.DataType;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.TString;

/** Test helpers: signature specs, a request's tensors (closed by try-with-resources), and their values. */
final class Tensors implements AutoCloseable {
  final Map<String, Tensor> map;

  private Tensors(Map<String, Tensor> map) {
    this.map = map;
  }

  static TensorSpec spec(String key, DataType dtype, long... shape) {
    return new TensorSpec(key, dtype, shape, "serving_default_" + key + ":0");
  }

  static SortedMap<String, TensorSpec> specs(TensorSpec... specs) {
    SortedMap<String, TensorSpec> map = new TreeMap<>();
    Arrays.stream(specs).forEach(s -> map.put(s.key(), s));
    return map;
  }

  /** The request's tensors for {@code inputs} of signature "serving_default". */
  static Tensors of(String body, SortedMap<String, TensorSpec> inputs) {
    PredictRequest r = TensorJson.parse(body.getBytes(StandardCharsets.UTF_8));
    return new Tensors(TensorJson.tensors(r, inputs, r.signatureName()));
  }

  Tensor get(String key) {
    Tensor t = map.get(key);
    if (t == null) {
      throw new AssertionError("no tensor " + key + " among " + map.keySet());
    }
    return t;
  }

  long[] shape(String key) {
    return get(key).shape().asArray();
  }

  float[] floats(String key) {
    float[] a = new float[(int) get(key).shape().size()];
    ((TFloat32) get(key)).copyTo(DataBuffers.of(a, false, false));
    return a;
  }

  double[] doubles(String key) {
    double[] a = new double[(int) get(key).shape().size()];
    ((TFloat64) get(key)).copyTo(DataBuffers.of(a, false, false));
    return a;
  }

  int[] ints(String key) {
    int[] a = new int[(int) get(key).shape().size()];
    ((TInt32) get(key)).copyTo(DataBuffers.of(a, false, false));
    return a;
  }

  long[] longs(String key) {
    long[] a = new long[(int) get(key).shape().size()];
    ((TInt64) get(key)).copyTo(DataBuffers.of(a, false, false));
    return a;
  }

  boolean[] booleans(String key) {
    boolean[] a = new boolean[(int) get(key).shape().size()];
    ((TBool) get(key)).copyTo(DataBuffers.of(a, false, false));
    return a;
  }

  String[] strings(String key) {
    byte[][] a = new byte[(int) get(key).shape().size()][];
    ((TString) get(key)).asBytes().copyTo(DataBuffers.of(a, false, false));
    return Arrays.stream(a).map(b -> new String(b, StandardCharsets.UTF_8)).toArray(String[]::new);
  }

  @Override
  public void close() {
    TensorJson.closeAll(map.values());
  }
}
