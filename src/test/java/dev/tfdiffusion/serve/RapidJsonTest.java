package dev.tfdiffusion.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.DoubleNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import org.junit.jupiter.api.Test;

/** The text TFS puts in its messages: rapidjson's number format, PrettyWriter layout, the 256-byte cut. */
class RapidJsonTest {
  private static JsonNode json(String text) {
    return JsonInput.read(text.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void doublesAsRapidJsonWritesThem() {
    assertEquals("1.0", RapidJson.dtoa(1.0));
    assertEquals("0.1", RapidJson.dtoa(0.1));
    assertEquals("100.0", RapidJson.dtoa(100.0));
    assertEquals("123.456", RapidJson.dtoa(123.456));
    assertEquals("-2.5", RapidJson.dtoa(-2.5));
    assertEquals("0.0", RapidJson.dtoa(0.0));
    assertEquals("-0.0", RapidJson.dtoa(-0.0));
    assertEquals("0.001", RapidJson.dtoa(0.001));
    assertEquals("0.000001", RapidJson.dtoa(1e-6));
    assertEquals("1e-7", RapidJson.dtoa(1e-7));
    assertEquals("1.5e-7", RapidJson.dtoa(1.5e-7));
    assertEquals("100000000000000000000.0", RapidJson.dtoa(1e20));
    assertEquals("1e21", RapidJson.dtoa(1e21));
    assertEquals("1.2345e30", RapidJson.dtoa(1.2345e30));
    assertEquals("0.30000000000000004", RapidJson.dtoa(0.1 + 0.2));
  }

  @Test
  void debugStringIsSingleLineArraysInPrettyObjects() {
    assertEquals("{\n    \"instances\": [1, 2.0, \"a\", true, null, {\n            \"b\": []\n        }]\n}",
        RapidJson.debugString(json("{\"instances\":[1,2.0,\"a\",true,null,{\"b\":[]}]}")));
    assertEquals("{}", RapidJson.debugString(json("{}")));
    assertEquals("[]", RapidJson.debugString(json("[]")));
    assertEquals("\"x\\ty\"", RapidJson.debugString(json("\"x\\ty\"")));
    assertEquals("18446744073709551615", RapidJson.debugString(json("18446744073709551615")));
    assertEquals("18446744073709552000.0", RapidJson.debugString(json("18446744073709551616")));
  }

  @Test
  void debugStringStopsOnceTwoHundredFiftySixBytesAreWritten() {
    ArrayNode ones = JsonNodeFactory.instance.arrayNode();
    Collections.nCopies(200, 1).forEach(ones::add);
    // "[1" then ", 1" while fewer than 256 bytes are written: 86 ones, 257 bytes, no closing bracket
    String expected = "[" + String.join(", ", Collections.nCopies(86, "1"));
    assertEquals(257, expected.length());
    assertEquals(expected, RapidJson.debugString(ones));
  }

  @Test
  void debugStringStopsAtNonFiniteNumbers() {
    assertEquals("", RapidJson.debugString(DoubleNode.valueOf(Double.NaN)));
    assertEquals("[1, ", RapidJson.debugString(json("[1, NaN, 2]")));
    assertEquals("{\n    \"a\": ", RapidJson.debugString(json("{\"a\": -Infinity, \"b\": 1}")));
  }

  @Test
  void typeNamesAreRapidJsonTypes() {
    assertEquals("Null", RapidJson.typeName(json("null")));
    assertEquals("True", RapidJson.typeName(json("true")));
    assertEquals("False", RapidJson.typeName(json("false")));
    assertEquals("Number", RapidJson.typeName(json("1")));
    assertEquals("String", RapidJson.typeName(json("\"1\"")));
    assertEquals("Array", RapidJson.typeName(json("[1]")));
    assertEquals("Object", RapidJson.typeName(json("{}")));
  }
}
