package dev.tfdiffusion.serve;

import static dev.tfdiffusion.serve.ServeException.invalidArgument;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.LongStream;

/**
 * The inputs of a predict request as TFS reads them from "instances" ({@code FillTensorMapFromInstancesList}) or
 * "inputs" ({@code FillTensorMapFromInputsMap}): same walk, same order of checks, same messages. The result is
 * values and shapes, not yet tensors, so a failure leaves nothing to close.
 */
final class InputValues {
  /** One input's values and its final shape (the batch dimension included in row format). */
  record Filled(Column column, long[] shape) {}

  private final SortedMap<String, TensorSpec> specs;
  private final String signature;
  private final Map<String, Column> columns = new HashMap<>();

  private InputValues(SortedMap<String, TensorSpec> specs, String signature) {
    this.specs = specs;
    this.signature = signature;
  }

  /** Row format: {@code instances} is a non-empty list, of values/lists or of objects keyed by input name. */
  static SortedMap<String, Filled> row(JsonNode instances, SortedMap<String, TensorSpec> specs, String signature) {
    return new InputValues(specs, signature).row(instances);
  }

  /** Columnar format: {@code inputs} is one value/list (single-input signatures) or an object keyed by input name. */
  static SortedMap<String, Filled> columnar(JsonNode inputs, SortedMap<String, TensorSpec> specs, String signature) {
    return new InputValues(specs, signature).columnar(inputs);
  }

  /** A {"b64": ...} object is a value, not a set of named inputs. */
  private static boolean isElementObject(JsonNode v) {
    return v.isObject() && !Column.isBase64Object(v);
  }

  private SortedMap<String, Filled> row(JsonNode instances) {
    if (!instances.get(0).isObject() && specs.size() > 1) {
      throw invalidArgument("instances is a plain list, but expecting list of objects as multiple input tensors "
          + "required as per tensorinfo_map");
    }
    boolean objects = isElementObject(instances.get(0));
    Map<String, long[]> itemShapes = new HashMap<>();
    Map<String, Integer> itemSizes = new HashMap<>();
    int count = 0;
    for (JsonNode element : instances) {
      if (objects) {
        rowObject(element, count, itemShapes, itemSizes);
      } else {
        rowValue(element, count, itemShapes, itemSizes);
      }
      count++;
    }
    SortedMap<String, Filled> filled = new TreeMap<>();
    for (Map.Entry<String, long[]> e : itemShapes.entrySet()) {
      long[] shape = LongStream.concat(LongStream.of(count), Arrays.stream(e.getValue())).toArray();
      filled.put(e.getKey(), new Filled(columns.get(e.getKey()), shape));
    }
    return filled;
  }

  private void rowObject(JsonNode element, int index, Map<String, long[]> shapes, Map<String, Integer> sizes) {
    if (!isElementObject(element)) {
      throw invalidArgument("Expecting object but got list at item " + index + " of input list");
    }
    TreeSet<String> keys = new TreeSet<>();
    for (Map.Entry<String, JsonNode> e : element.properties()) {
      String name = e.getKey();
      keys.add(name);
      try {
        addInstanceItem(e.getValue(), name, shapes, sizes);
      } catch (ServeException ex) {
        throw invalidArgument("Failed to process element: " + index + " key: " + name
            + " of 'instances' list. Error: " + statusString(ex));
      }
    }
    if (!keys.equals(specs.keySet())) {
      throw invalidArgument("Failed to process element: " + index + " of 'instances' list. JSON object: "
          + RapidJson.debugString(element) + " keys must be equal to: " + String.join(",", specs.keySet()));
    }
  }

  private void rowValue(JsonNode element, int index, Map<String, long[]> shapes, Map<String, Integer> sizes) {
    if (isElementObject(element)) {
      throw invalidArgument("Expecting value/list but got object at item " + index + " of input list");
    }
    try {
      addInstanceItem(element, specs.firstKey(), shapes, sizes);
    } catch (ServeException ex) {
      throw invalidArgument("Failed to process element: " + index + " of 'instances' list. Error: "
          + statusString(ex));
    }
  }

  /** {@code Status::ToString()}, which TFS nests in its row-format messages. */
  private static String statusString(ServeException e) {
    return e.status().name() + ": " + e.getMessage();
  }

  /** {@code AddInstanceItem}: one instance of one input; every instance of it must have the same size and shape. */
  private void addInstanceItem(JsonNode item, String name, Map<String, long[]> shapes, Map<String, Integer> sizes) {
    if (!specs.containsKey(name)) {
      throw invalidArgument("JSON object: does not have named input: " + name);
    }
    Column column = column(name);
    long[] shape = denseShape(item);
    int before = column.size();
    fill(item, 0, shape, column);
    int size = column.size() - before;
    if (!sizes.containsKey(name)) {
      sizes.put(name, size);
      shapes.put(name, shape);
    } else if (sizes.get(name) != size) {
      throw invalidArgument("Expecting tensor size: " + sizes.get(name) + " but got: " + size);
    } else if (!Arrays.equals(shapes.get(name), shape)) {
      throw invalidArgument("Expecting shape " + shapeString(shapes.get(name)) + " but got: " + shapeString(shape));
    }
  }

  private SortedMap<String, Filled> columnar(JsonNode inputs) {
    SortedMap<String, Filled> filled = new TreeMap<>();
    if (!inputs.isObject() || Column.isBase64Object(inputs)) {
      if (specs.size() > 1) {
        throw invalidArgument("inputs is a plain value/list, but expecting an object as multiple input tensors "
            + "required as per tensorinfo_map");
      }
      filled.put(specs.firstKey(), whole(specs.firstKey(), inputs));
      return filled;
    }
    for (String name : specs.keySet()) {
      JsonNode item = inputs.get(name);
      if (item == null) {
        throw invalidArgument("Missing named input: " + name + " in 'inputs' object.");
      }
      filled.put(name, whole(name, item));
    }
    return filled; // keys the signature does not name are ignored, as in TFS
  }

  private Filled whole(String name, JsonNode value) {
    Column column = column(name);
    long[] shape = denseShape(value);
    fill(value, 0, shape, column);
    return new Filled(column, shape);
  }

  private Column column(String name) {
    return columns.computeIfAbsent(name, n -> Column.of(n, signature, specs.get(n).dtype()));
  }

  /** {@code GetDenseTensorShape}: the lengths of the first list at each level; a non-list is a scalar. */
  static long[] denseShape(JsonNode v) {
    LongStream.Builder dims = LongStream.builder();
    for (JsonNode level = v; level.isArray(); level = level.get(0)) {
      dims.add(level.size());
      if (level.isEmpty()) {
        break;
      }
    }
    return dims.build().toArray();
  }

  /** {@code FillTensorProto}: every leaf at depth rank, every list of the length {@code shape} says. */
  private static void fill(JsonNode v, int level, long[] shape, Column column) {
    int rank = shape.length;
    if (!v.isArray()) {
      if (level != rank) {
        throw invalidArgument("JSON Value: " + RapidJson.debugString(v) + " found at incorrect level: " + (level + 1)
            + " in the JSON DOM. Expected at level: " + rank);
      }
      column.add(v);
      return;
    }
    if (level >= rank) {
      throw invalidArgument("Encountered list at unexpected level: " + level + " expected < " + rank);
    }
    if (v.size() != shape[level]) {
      throw invalidArgument("Encountered list at unexpected size: " + v.size() + " at level: " + level
          + " expected size: " + shape[level]);
    }
    for (JsonNode item : v) {
      fill(item, level + 1, shape, column);
    }
  }

  /** TFS's {@code ShapeToString}: [2,3], [] for a scalar. */
  static String shapeString(long[] shape) {
    return Arrays.stream(shape).mapToObj(Long::toString).collect(Collectors.joining(",", "[", "]"));
  }
}
