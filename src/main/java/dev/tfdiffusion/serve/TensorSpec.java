package dev.tfdiffusion.serve;

import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorInfo;
import org.tensorflow.proto.TensorShapeProto;

/**
 * One input or output of a signature, as the SavedModel's SignatureDef declares it: what a request is checked against
 * and what the session is fed or fetched by.
 *
 * @param key the input/output key in the signature ("x", "noise"), as requests and responses name it
 * @param dtype the declared type
 * @param shape the declared dims, -1 where unknown; {@code null} when the rank itself is unknown
 * @param tensorName the graph tensor to feed or fetch ("serving_default_x:0")
 */
public record TensorSpec(String key, DataType dtype, long[] shape, String tensorName) {
  public TensorSpec {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(dtype, "dtype");
    Objects.requireNonNull(tensorName, "tensorName");
    shape = shape == null ? null : shape.clone();
  }

  /** From a SignatureDef's TensorInfo (as in {@code bundle.metaGraphDef().getSignatureDefMap()}). */
  public static TensorSpec of(String key, TensorInfo info) {
    TensorShapeProto s = info.getTensorShape();
    long[] shape = !info.hasTensorShape() || s.getUnknownRank() ? null
        : s.getDimList().stream().mapToLong(TensorShapeProto.Dim::getSize).toArray();
    return new TensorSpec(key, info.getDtype(), shape, info.getName());
  }

  /** Every entry of a SignatureDef's inputs or outputs map, sorted by key (TFS lists names sorted in messages). */
  public static SortedMap<String, TensorSpec> of(Map<String, TensorInfo> infos) {
    SortedMap<String, TensorSpec> specs = new TreeMap<>();
    infos.forEach((key, info) -> specs.put(key, of(key, info)));
    return specs;
  }

  /** A copy: the record stays immutable. */
  @Override
  public long[] shape() {
    return shape == null ? null : shape.clone();
  }

  public boolean unknownRank() {
    return shape == null;
  }

  /**
   * Whether a tensor of {@code dims} fits: same rank and every known dim equal (-1 matches anything); any shape fits
   * an unknown rank.
   */
  public boolean accepts(long[] dims) {
    if (shape == null) {
      return true;
    }
    if (dims.length != shape.length) {
      return false;
    }
    for (int i = 0; i < dims.length; i++) {
      if (shape[i] >= 0 && shape[i] != dims[i]) {
        return false;
      }
    }
    return true;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TensorSpec t && key.equals(t.key) && dtype == t.dtype && Arrays.equals(shape, t.shape)
        && tensorName.equals(t.tensorName);
  }

  @Override
  public int hashCode() {
    return Objects.hash(key, dtype, Arrays.hashCode(shape), tensorName);
  }

  @Override
  public String toString() {
    return key + " " + dtype + (shape == null ? " [?]" : " " + InputValues.shapeString(shape)) + " (" + tensorName
        + ")";
  }
}
