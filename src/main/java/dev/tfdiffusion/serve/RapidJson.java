package dev.tfdiffusion.serve;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.PrettyPrinter;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * JSON text as TFS's rapidjson writes it, so our bodies and error messages match its bytes: PrettyWriter's layout,
 * its shortest-digits number format, and {@code JsonValueToDebugString} (the request excerpt TFS puts in messages).
 */
final class RapidJson {
  /** {@code kMaxJsonDebugStringBytes}: TFS stops writing a value into a message once this much is written. */
  static final int MAX_DEBUG_BYTES = 256;

  private static final JsonFactory FACTORY = new JsonFactory();

  private RapidJson() {}

  /**
   * A generator laid out as rapidjson's PrettyWriter (4-space indent); {@code singleLineArrays} is its
   * {@code kFormatSingleLineArray} option, which {@link Layout#singleLineArrays(boolean)} switches mid-document as TFS
   * does for the items of "predictions".
   */
  static JsonGenerator generator(Writer out, boolean singleLineArrays) throws IOException {
    JsonGenerator g = FACTORY.createGenerator(out);
    g.setPrettyPrinter(new Layout(singleLineArrays));
    return g;
  }

  /** The layout of a generator made by {@link #generator}. */
  static Layout layout(JsonGenerator g) {
    return (Layout) g.getPrettyPrinter();
  }

  /** rapidjson's {@code PrettyWriter} layout as a Jackson pretty printer: separators written when rapidjson does. */
  static final class Layout implements PrettyPrinter {
    private static final String INDENT = "    ";
    private boolean singleLineArrays;
    private int depth;

    Layout(boolean singleLineArrays) {
      this.singleLineArrays = singleLineArrays;
    }

    /** {@code SetFormatOptions}: applies from the next separator written on. */
    void singleLineArrays(boolean on) {
      singleLineArrays = on;
    }

    private void newLine(JsonGenerator g) throws IOException {
      g.writeRaw('\n');
      for (int i = 0; i < depth; i++) {
        g.writeRaw(INDENT);
      }
    }

    @Override
    public void writeRootValueSeparator(JsonGenerator g) {
      // one root value per document
    }

    @Override
    public void writeStartObject(JsonGenerator g) throws IOException {
      g.writeRaw('{');
      depth++;
    }

    @Override
    public void beforeObjectEntries(JsonGenerator g) throws IOException {
      newLine(g);
    }

    @Override
    public void writeObjectFieldValueSeparator(JsonGenerator g) throws IOException {
      g.writeRaw(": ");
    }

    @Override
    public void writeObjectEntrySeparator(JsonGenerator g) throws IOException {
      g.writeRaw(',');
      newLine(g);
    }

    @Override
    public void writeEndObject(JsonGenerator g, int entries) throws IOException {
      depth--;
      if (entries > 0) {
        newLine(g);
      }
      g.writeRaw('}');
    }

    @Override
    public void writeStartArray(JsonGenerator g) throws IOException {
      g.writeRaw('[');
      depth++;
    }

    @Override
    public void beforeArrayValues(JsonGenerator g) throws IOException {
      if (!singleLineArrays) {
        newLine(g);
      }
    }

    @Override
    public void writeArrayValueSeparator(JsonGenerator g) throws IOException {
      g.writeRaw(',');
      if (singleLineArrays) {
        g.writeRaw(' ');
      } else {
        newLine(g);
      }
    }

    @Override
    public void writeEndArray(JsonGenerator g, int values) throws IOException {
      depth--;
      if (values > 0 && !singleLineArrays) {
        newLine(g);
      }
      g.writeRaw(']');
    }
  }

  /**
   * {@code JsonValueToDebugString}: {@code v} with single-line arrays, cut once {@value #MAX_DEBUG_BYTES} bytes are
   * written (the cut text is not valid JSON, as in TFS). Like rapidjson's writer it stops at NaN or an infinity, which
   * it cannot write, so such a value alone gives "".
   */
  static String debugString(JsonNode v) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (JsonGenerator g = FACTORY.createGenerator(out, JsonEncoding.UTF8)) {
      g.disable(JsonGenerator.Feature.AUTO_CLOSE_JSON_CONTENT);
      g.setPrettyPrinter(new Layout(true));
      new LimitedWriter(g, out).accept(v);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // in memory: cannot happen
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  /** rapidjson's {@code Value::Accept} into {@code JsonWriterWithLimit}: every event first checks the byte count. */
  private record LimitedWriter(JsonGenerator g, ByteArrayOutputStream out) {
    private boolean inLimit() throws IOException {
      g.flush();
      return out.size() < MAX_DEBUG_BYTES;
    }

    boolean accept(JsonNode v) throws IOException {
      if (!inLimit()) {
        return false;
      }
      switch (v.getNodeType()) {
        case OBJECT -> {
          g.writeStartObject();
          for (Map.Entry<String, JsonNode> e : v.properties()) {
            if (!inLimit()) {
              return false;
            }
            g.writeFieldName(e.getKey());
            if (!accept(e.getValue())) {
              return false;
            }
          }
          if (!inLimit()) {
            return false;
          }
          g.writeEndObject();
        }
        case ARRAY -> {
          g.writeStartArray();
          for (JsonNode item : v) {
            if (!accept(item)) {
              return false;
            }
          }
          if (!inLimit()) {
            return false;
          }
          g.writeEndArray();
        }
        case STRING -> g.writeString(v.textValue());
        case BOOLEAN -> g.writeBoolean(v.booleanValue());
        case NULL -> g.writeNull();
        case NUMBER -> {
          return number(v);
        }
        default -> throw new IllegalArgumentException("not a JSON document node: " + v.getNodeType());
      }
      return true;
    }

    private boolean number(JsonNode v) throws IOException {
      if (v.isIntegralNumber()) {
        g.writeNumber(v.bigIntegerValue());
        return true;
      }
      double d = v.doubleValue();
      if (!Double.isFinite(d)) {
        g.writeRawValue(""); // rapidjson writes the separator, then fails on the value
        return false;
      }
      g.writeNumber(dtoa(d));
      return true;
    }
  }

  /** {@code JsonTypeString}: the JSON type named as in TFS's type errors. */
  static String typeName(JsonNode v) {
    return switch (v.getNodeType()) {
      case NULL -> "Null";
      case BOOLEAN -> v.booleanValue() ? "True" : "False";
      case OBJECT -> "Object";
      case ARRAY -> "Array";
      case STRING -> "String";
      case NUMBER -> "Number";
      default -> throw new IllegalArgumentException("not a JSON document node: " + v.getNodeType());
    };
  }

  /**
   * A double as rapidjson's writer prints it ({@code internal::dtoa}: shortest digits, then {@code Prettify}): 1.0,
   * 0.001, 1e-7, 1.5e30, -0.0. rapidjson finds the digits with Grisu2, which in rare cases is one digit longer than
   * the shortest that we use.
   */
  static String dtoa(double d) {
    if (d == 0) {
      return Double.doubleToRawLongBits(d) < 0 ? "-0.0" : "0.0";
    }
    BigDecimal shortest = shortest(Math.abs(d));
    String digits = shortest.unscaledValue().toString();
    String sign = d < 0 ? "-" : "";
    int length = digits.length();
    int k = -shortest.scale();
    int kk = length + k; // 10^(kk-1) <= |d| < 10^kk
    if (k >= 0 && kk <= 21) {
      return sign + digits + "0".repeat(k) + ".0";
    }
    if (kk > 0 && kk <= 21) {
      return sign + digits.substring(0, kk) + "." + digits.substring(kk);
    }
    if (kk > -6 && kk <= 0) {
      return sign + "0." + "0".repeat(-kk) + digits;
    }
    String mantissa = length == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
    return sign + mantissa + "e" + (kk - 1);
  }

  /** The fewest significant digits that read back as {@code d} (positive, finite), trailing zeros stripped. */
  private static BigDecimal shortest(double d) {
    BigDecimal exact = new BigDecimal(d);
    for (int digits = 1; ; digits++) {
      BigDecimal r = exact.round(new MathContext(digits, RoundingMode.HALF_EVEN));
      if (r.doubleValue() == d) {
        return r.stripTrailingZeros();
      }
    }
  }
}
