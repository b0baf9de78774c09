package dev.tfdiffusion.serve;

import static dev.tfdiffusion.serve.ServeException.invalidArgument;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SortedMap;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.TString;

/**
 * A predict response as TFS writes it ({@code MakeRowFormatJsonFromTensors},
 * {@code MakeColumnarFormatJsonFromTensors}): same checks and messages, same numbers, same PrettyWriter layout (keys
 * sorted; TFS's follow its hash map).
 */
final class OutputJson {
  /** Suffix marking a DT_STRING output as binary: its values are written as {"b64": ...}. */
  private static final String BYTES_SUFFIX = "_bytes";

  private OutputJson() {}

  static String write(boolean row, SortedMap<String, ? extends Tensor> outputs) {
    if (outputs.isEmpty()) {
      throw invalidArgument("Cannot convert empty tensor map to JSON");
    }
    long batch = row ? batchSize(outputs) : -1; // checked before anything is written, as in TFS
    Map<String, Output> values = new LinkedHashMap<>();
    outputs.forEach((name, t) -> values.put(name, Output.of(name, t)));
    StringWriter out = new StringWriter();
    try (JsonGenerator g = RapidJson.generator(out, false)) {
      if (row) {
        predictions(g, values, batch);
      } else {
        outputs(g, values);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a StringWriter does not fail
    }
    return out.toString();
  }

  /** Every output needs a dim 0 and the same one: row format splits them into items. */
  private static long batchSize(SortedMap<String, ? extends Tensor> outputs) {
    long batch = -1;
    for (Map.Entry<String, ? extends Tensor> e : outputs.entrySet()) {
      if (e.getValue().shape().numDimensions() == 0) {
        throw invalidArgument("Tensor name: " + e.getKey() + " has no shape information ");
      }
      long size = e.getValue().shape().get(0);
      if (batch >= 0 && batch != size) {
        throw invalidArgument("Tensor name: " + e.getKey() + " has inconsistent batch size: " + size
            + " expecting: " + batch);
      }
      batch = size;
    }
    return batch;
  }

  /** One item per batch index: a single output's value unnamed, several as an object; arrays single-line. */
  private static void predictions(JsonGenerator g, Map<String, Output> values, long batch) throws IOException {
    boolean objects = values.size() > 1;
    g.writeStartObject();
    g.writeFieldName("predictions");
    g.writeStartArray();
    for (long item = 0; item < batch; item++) {
      if (objects) {
        g.writeStartObject();
      }
      RapidJson.layout(g).singleLineArrays(true);
      for (Map.Entry<String, Output> e : values.entrySet()) {
        if (objects) {
          g.writeFieldName(e.getKey());
        }
        e.getValue().write(g, 1);
      }
      RapidJson.layout(g).singleLineArrays(false);
      if (objects) {
        g.writeEndObject();
      }
    }
    g.writeEndArray();
    g.writeEndObject();
  }

  /** Each whole tensor: unnamed when alone, else an object keyed by output name. */
  private static void outputs(JsonGenerator g, Map<String, Output> values) throws IOException {
    boolean objects = values.size() > 1;
    g.writeStartObject();
    g.writeFieldName("outputs");
    if (objects) {
      g.writeStartObject();
    }
    for (Map.Entry<String, Output> e : values.entrySet()) {
      if (objects) {
        g.writeFieldName(e.getKey());
      }
      e.getValue().write(g, 0);
    }
    if (objects) {
      g.writeEndObject();
    }
    g.writeEndObject();
  }

  /** A tensor's values read once, written in row-major order from a running offset ({@code AddTensorValues}). */
  private abstract static class Output {
    private final long[] dims;
    private int offset;

    Output(Tensor t) {
      dims = t.shape().asArray();
    }

    static Output of(String name, Tensor t) {
      int n = Math.toIntExact(t.shape().size());
      return switch (t.dataType()) {
        case DT_FLOAT -> {
          float[] a = new float[n];
          ((TFloat32) t).copyTo(DataBuffers.of(a, false, false));
          yield new Output(t) {
            @Override
            void value(JsonGenerator g, int i) throws IOException {
              g.writeNumber(Decimals.formatFloat(a[i]));
            }
          };
        }
        case DT_DOUBLE -> {
          double[] a = new double[n];
          ((TFloat64) t).copyTo(DataBuffers.of(a, false, false));
          yield new Output(t) {
            @Override
            void value(JsonGenerator g, int i) throws IOException {
              g.writeNumber(Decimals.formatDouble(a[i]));
            }
          };
        }
        case DT_INT32 -> {
          int[] a = new int[n];
          ((TInt32) t).copyTo(DataBuffers.of(a, false, false));
          yield new Output(t) {
            @Override
            void value(JsonGenerator g, int i) throws IOException {
              g.writeNumber(a[i]);
            }
          };
        }
        case DT_INT64 -> {
          long[] a = new long[n];
          ((TInt64) t).copyTo(DataBuffers.of(a, false, false));
          yield new Output(t) {
            @Override
            void value(JsonGenerator g, int i) throws IOException {
              g.writeNumber(a[i]);
            }
          };
        }
        case DT_BOOL -> {
          boolean[] a = new boolean[n];
          ((TBool) t).copyTo(DataBuffers.of(a, false, false));
          yield new Output(t) {
            @Override
            void value(JsonGenerator g, int i) throws IOException {
              g.writeBoolean(a[i]);
            }
          };
        }
        case DT_STRING -> strings(name, t, n);
        default -> new Output(t) {
          @Override
          void value(JsonGenerator g, int i) {
            throw invalidArgument("Failed to write JSON value for tensor type: " + Column.typeString(t.dataType()));
          }
        };
      };
    }

    /** Text as a JSON string (bytes read as UTF-8); outputs named *_bytes as {"b64": ...}. */
    private static Output strings(String name, Tensor t, int n) {
      byte[][] a = new byte[n][];
      ((TString) t).asBytes().copyTo(DataBuffers.of(a, false, false));
      boolean binary = name.endsWith(BYTES_SUFFIX);
      return new Output(t) {
        @Override
        void value(JsonGenerator g, int i) throws IOException {
          if (binary) {
            g.writeStartObject();
            g.writeStringField("b64", Base64.getEncoder().encodeToString(a[i]));
            g.writeEndObject();
          } else {
            g.writeString(new String(a[i], StandardCharsets.UTF_8));
          }
        }
      };
    }

    abstract void value(JsonGenerator g, int i) throws IOException;

    /** The part from dimension {@code dim} on at the current offset: a bare value when no dimension is left. */
    void write(JsonGenerator g, int dim) throws IOException {
      if (dim >= dims.length) {
        value(g, offset++);
        return;
      }
      g.writeStartArray();
      for (long i = 0; i < dims[dim]; i++) {
        write(g, dim + 1);
      }
      g.writeEndArray();
    }
  }
}
