package dev.tfdiffusion.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.TensorInfo;
import org.tensorflow.proto.TensorShapeProto;

class TensorSpecTest {
  private static TensorInfo info(String name, DataType dtype, long... dims) {
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
    for (long d : dims) {
      shape.addDim(TensorShapeProto.Dim.newBuilder().setSize(d));
    }
    return TensorInfo.newBuilder().setName(name).setDtype(dtype).setTensorShape(shape).build();
  }

  @Test
  void fromSignatureDefTensorInfo() {
    TensorSpec x = TensorSpec.of("x", info("serving_default_x:0", DataType.DT_FLOAT, -1, 8, 8, 1));
    assertEquals("x", x.key());
    assertEquals(DataType.DT_FLOAT, x.dtype());
    assertArrayEquals(new long[] {-1, 8, 8, 1}, x.shape());
    assertEquals("serving_default_x:0", x.tensorName());
    assertArrayEquals(new long[0], TensorSpec.of("seed", info("seed:0", DataType.DT_INT64)).shape());
  }

  @Test
  void unknownRank() {
    TensorInfo unknown = TensorInfo.newBuilder().setName("u:0").setDtype(DataType.DT_FLOAT)
        .setTensorShape(TensorShapeProto.newBuilder().setUnknownRank(true)).build();
    assertNull(TensorSpec.of("u", unknown).shape());
    assertTrue(TensorSpec.of("u", unknown).unknownRank());
    TensorInfo noShape = TensorInfo.newBuilder().setName("n:0").setDtype(DataType.DT_FLOAT).build();
    assertNull(TensorSpec.of("n", noShape).shape());
    assertTrue(TensorSpec.of("u", unknown).accepts(new long[] {3, 4}));
  }

  @Test
  void ofMapSortsByKey() {
    SortedMap<String, TensorSpec> specs = TensorSpec.of(Map.of("x", info("x:0", DataType.DT_FLOAT, -1),
        "t", info("t:0", DataType.DT_INT32, -1)));
    assertEquals(List.of("t", "x"), List.copyOf(specs.keySet()));
    assertEquals(DataType.DT_INT32, specs.get("t").dtype());
  }

  @Test
  void acceptsSameRankAndKnownDims() {
    TensorSpec x = TensorSpec.of("x", info("x:0", DataType.DT_FLOAT, -1, 8));
    assertTrue(x.accepts(new long[] {5, 8}));
    assertTrue(x.accepts(new long[] {0, 8}));
    assertFalse(x.accepts(new long[] {5, 7}));
    assertFalse(x.accepts(new long[] {5}));
    assertFalse(x.accepts(new long[] {5, 8, 1}));
    TensorSpec scalar = TensorSpec.of("s", info("s:0", DataType.DT_INT64));
    assertTrue(scalar.accepts(new long[0]));
    assertFalse(scalar.accepts(new long[] {1}));
  }

  @Test
  void valueSemanticsDespiteTheArray() {
    long[] dims = {-1, 2};
    TensorSpec a = new TensorSpec("x", DataType.DT_FLOAT, dims, "x:0");
    dims[1] = 3;
    a.shape()[0] = 7;
    assertArrayEquals(new long[] {-1, 2}, a.shape());
    TensorSpec b = new TensorSpec("x", DataType.DT_FLOAT, new long[] {-1, 2}, "x:0");
    assertEquals(a, b);
    assertEquals(a.hashCode(), b.hashCode());
    assertFalse(a.equals(new TensorSpec("x", DataType.DT_FLOAT, null, "x:0")));
    assertEquals("x DT_FLOAT [-1,2] (x:0)", a.toString());
  }
}
