package dev.tfdiffusion.serve;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;

/**
 * Reads a request body as TFS's {@code ParseJson} does (rapidjson with {@code kParseNanAndInfFlag |
 * kParseStopWhenDoneFlag}): NaN and ±Infinity are numbers, bytes after the document are not read, and a failure is
 * "JSON Parse error: <rapidjson's text> at offset: N" ({@link ParseErrors}).
 *
 * <p>The tree is built token by token rather than with {@code ObjectMapper.readTree}, to keep rapidjson's choices:
 * integers stay integers up to 2^64-1 (larger ones become doubles), a repeated key keeps its first value (rapidjson's
 * {@code FindMember} finds the first), and an exponent overflowing a double is an error, not an infinity.
 */
final class JsonInput {
  private static final JsonFactory FACTORY = JsonFactory.builder()
      .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();
  private static final JsonNodeFactory NODES = JsonNodeFactory.withExactBigDecimals(false);
  private static final BigInteger UINT64_MAX = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

  private JsonInput() {}

  /** The body's first JSON value (of any type), or a ServeException (400) worded as TFS words it. */
  static JsonNode read(byte[] body) {
    if (body.length == 0) {
      throw ServeException.invalidArgument("JSON Parse error: The document is empty");
    }
    try (JsonParser p = FACTORY.createParser(body)) {
      JsonToken first = p.nextToken();
      if (first == null) {
        throw parseError("The document is empty.", body.length); // only whitespace
      }
      return value(p, first);
    } catch (JsonProcessingException e) {
      throw parseError(e, body); // syntax, and Jackson's limits (nesting depth, number length)
    } catch (IOException e) {
      throw new UncheckedIOException(e); // reading a byte array does not fail otherwise
    }
  }

  private static JsonNode value(JsonParser p, JsonToken token) throws IOException {
    return switch (token) {
      case START_OBJECT -> object(p);
      case START_ARRAY -> array(p);
      case VALUE_STRING -> NODES.textNode(p.getText());
      case VALUE_NUMBER_INT -> integer(p);
      case VALUE_NUMBER_FLOAT -> decimal(p);
      case VALUE_TRUE -> NODES.booleanNode(true);
      case VALUE_FALSE -> NODES.booleanNode(false);
      case VALUE_NULL -> NODES.nullNode();
      default -> throw new IllegalStateException("unexpected token " + token);
    };
  }

  private static ObjectNode object(JsonParser p) throws IOException {
    ObjectNode o = NODES.objectNode();
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonNode v = value(p, p.nextToken());
      o.putIfAbsent(name, v);
    }
    return o;
  }

  private static ArrayNode array(JsonParser p) throws IOException {
    ArrayNode a = NODES.arrayNode();
    for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken()) {
      a.add(value(p, t));
    }
    return a;
  }

  /** rapidjson keeps int, int64 and uint64 apart (IsInt, IsInt64); beyond uint64 it reads a double. */
  private static JsonNode integer(JsonParser p) throws IOException {
    return switch (p.getNumberType()) {
      case INT -> NODES.numberNode(p.getIntValue());
      case LONG -> NODES.numberNode(p.getLongValue());
      default -> {
        BigInteger b = p.getBigIntegerValue();
        if (b.signum() >= 0 && b.compareTo(UINT64_MAX) <= 0) {
          yield NODES.numberNode(b);
        }
        yield finite(p, b.doubleValue());
      }
    };
  }

  private static JsonNode decimal(JsonParser p) throws IOException {
    double d = p.getDoubleValue();
    if (Double.isInfinite(d) && !isInfinityToken(p.getText())) {
      return finite(p, d); // 1e400: an overflow, not the Infinity token
    }
    return NODES.numberNode(d);
  }

  /** "Infinity", "-Infinity", and the "INF" spellings Jackson's ALLOW_NON_NUMERIC_NUMBERS also accepts. */
  private static boolean isInfinityToken(String text) {
    return text.contains("Inf") || text.contains("INF");
  }

  private static JsonNode finite(JsonParser p, double d) {
    if (Double.isInfinite(d)) {
      throw parseError("Number too big to be stored in double.", byteOffset(p.currentTokenLocation()));
    }
    return NODES.numberNode(d);
  }

  private static ServeException parseError(String rapidJsonText, long offset) {
    return ServeException.invalidArgument("JSON Parse error: " + rapidJsonText + " at offset: " + offset);
  }

  private static ServeException parseError(JsonProcessingException e, byte[] body) {
    return ServeException.invalidArgument("JSON Parse error: "
        + ParseErrors.rapidJson(String.valueOf(e.getOriginalMessage()), byteOffset(e.getLocation()), body));
  }

  /** Where in the body Jackson was, -1 when it does not say. */
  private static long byteOffset(JsonLocation at) {
    return at == null ? -1 : at.getByteOffset() >= 0 ? at.getByteOffset() : at.getCharOffset();
  }
}
