package dev.tfdiffusion.serve;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.proto.DataType;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.TString;

/**
 * The values of one input in the order TFS appends them to its TensorProto ({@code AddValueToTensor}), each checked
 * against the input's dtype as it arrives so the first bad value is the one reported; then the TF Java tensor.
 */
final class Column {
  /** What JSON can fill; TFS also fills int8/int16/uint8/uint32/uint64, which no tf-diffusion signature uses. */
  static final List<DataType> SUPPORTED = List.of(DataType.DT_FLOAT, DataType.DT_DOUBLE, DataType.DT_INT32,
      DataType.DT_INT64, DataType.DT_BOOL, DataType.DT_STRING);

  private final DataType dtype;
  /** Checked leaves, converted only when the tensor is made (the tree already holds them). */
  private final List<JsonNode> leaves = new ArrayList<>();
  /** DT_STRING: the bytes of each string, base64 decoded when given as {"b64": ...}. */
  private final List<byte[]> strings = new ArrayList<>();

  private Column(DataType dtype) {
    this.dtype = dtype;
  }

  /** A column for {@code input} of {@code signature}, or one sentence (400) when JSON cannot fill its dtype. */
  static Column of(String input, String signature, DataType dtype) {
    if (!SUPPORTED.contains(dtype)) {
      throw ServeException.invalidArgument("Input \"" + input + "\" of signature \"" + signature + "\" has type "
          + dtype + ", which a JSON request cannot fill (supported: "
          + String.join(", ", SUPPORTED.stream().map(DataType::name).toList()) + ")");
    }
    return new Column(dtype);
  }

  /** TensorFlow's {@code DataTypeString}: DT_FLOAT is "float", DT_INT32 "int32". */
  static String typeString(DataType dtype) {
    return dtype.name().substring("DT_".length()).toLowerCase(Locale.ROOT);
  }

  int size() {
    return dtype == DataType.DT_STRING ? strings.size() : leaves.size();
  }

  /** Adds a leaf (any JSON value but a list), or fails with TFS's type or base64 message. */
  void add(JsonNode leaf) {
    if (dtype == DataType.DT_STRING) {
      strings.add(bytes(leaf));
    } else if (!leaf.isObject() && accepts(leaf)) {
      leaves.add(leaf);
    } else {
      throw typeError(leaf);
    }
  }

  /** rapidjson's checks: any number for floats, IsInt for int32 (so 1.0 is refused), IsInt64, IsBool. */
  private boolean accepts(JsonNode v) {
    return switch (dtype) {
      case DT_FLOAT, DT_DOUBLE -> v.isNumber();
      case DT_INT32 -> v.isInt();
      case DT_INT64 -> v.isInt() || v.isLong();
      case DT_BOOL -> v.isBoolean();
      default -> throw new IllegalStateException(dtype.name());
    };
  }

  private byte[] bytes(JsonNode leaf) {
    if (leaf.isTextual()) {
      return leaf.textValue().getBytes(StandardCharsets.UTF_8);
    }
    if (!leaf.isObject()) {
      throw typeError(leaf);
    }
    if (!isBase64Object(leaf)) {
      throw ServeException.invalidArgument("JSON Value: " + RapidJson.debugString(leaf)
          + " not formatted correctly for base64 data");
    }
    try {
      return Base64.getDecoder().decode(leaf.get("b64").textValue());
    } catch (IllegalArgumentException e) {
      throw ServeException.invalidArgument("Unable to base64 decode");
    }
  }

  /** {@code IsValBase64Object}: an object whose only member is "b64", a string. */
  static boolean isBase64Object(JsonNode v) {
    return v.isObject() && v.size() == 1 && v.has("b64") && v.get("b64").isTextual();
  }

  private ServeException typeError(JsonNode v) {
    return ServeException.invalidArgument("JSON Value: " + RapidJson.debugString(v) + " Type: "
        + RapidJson.typeName(v) + " is not of expected type: " + typeString(dtype));
  }

  /** The tensor of {@code shape} holding the values; the caller closes it. */
  Tensor tensor(long[] shape) {
    Shape s = shape.length == 0 ? Shape.scalar() : Shape.of(shape);
    if (s.size() != size()) {
      throw new IllegalStateException("shape " + s + " for " + size() + " values");
    }
    int n = size();
    switch (dtype) {
      case DT_FLOAT -> {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
          a[i] = (float) leaves.get(i).doubleValue(); // rapidjson's GetFloat: the double, then float
        }
        return TFloat32.tensorOf(s, DataBuffers.of(a, true, false));
      }
      case DT_DOUBLE -> {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) {
          a[i] = leaves.get(i).doubleValue();
        }
        return TFloat64.tensorOf(s, DataBuffers.of(a, true, false));
      }
      case DT_INT32 -> {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) {
          a[i] = leaves.get(i).intValue();
        }
        return TInt32.tensorOf(s, DataBuffers.of(a, true, false));
      }
      case DT_INT64 -> {
        long[] a = new long[n];
        for (int i = 0; i < n; i++) {
          a[i] = leaves.get(i).longValue();
        }
        return TInt64.tensorOf(s, DataBuffers.of(a, true, false));
      }
      case DT_BOOL -> {
        boolean[] a = new boolean[n];
        for (int i = 0; i < n; i++) {
          a[i] = leaves.get(i).booleanValue();
        }
        return TBool.tensorOf(s, DataBuffers.of(a, true, false));
      }
      case DT_STRING -> {
        return TString.tensorOfBytes(s, DataBuffers.of(strings.toArray(new byte[0][]), true, false));
      }
      default -> throw new IllegalStateException(dtype.name());
    }
  }
}
