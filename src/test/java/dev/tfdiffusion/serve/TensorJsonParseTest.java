package dev.tfdiffusion.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** TFS's checks before the signature's inputs are looked at (json_tensor.cc ParseJson, FillSignature, step 4). */
class TensorJsonParseTest {
  static PredictRequest parse(String body) {
    return TensorJson.parse(body.getBytes(StandardCharsets.UTF_8));
  }

  /** The 400 message {@code body} gets. */
  static String error(String body) {
    ServeException e = assertThrows(ServeException.class, () -> parse(body));
    assertEquals(Status.INVALID_ARGUMENT, e.status());
    return e.getMessage();
  }

  @Test
  void emptyBody() {
    assertEquals("JSON Parse error: The document is empty", error(""));
    assertEquals("JSON Parse error: The document is empty. at offset: 3", error(" \n "));
  }

  @Test
  void syntaxErrorsWithRapidJsonTextAndOffset() {
    assertEquals("JSON Parse error: Invalid value. at offset: 20", error("{\"instances\": [1, 2,]}"));
    assertEquals("JSON Parse error: Invalid value. at offset: 6", error("{\"a\": }"));
    assertEquals("JSON Parse error: Missing a colon after a name of object member. at offset: 13",
        error("{\"instances\" [1]}"));
    assertEquals("JSON Parse error: Missing a comma or ']' after an array element. at offset: 17",
        error("{\"instances\": [1 2]}"));
    assertEquals("JSON Parse error: Missing a comma or '}' after an object member. at offset: 8",
        error("{\"a\": 1 \"b\": 2}"));
    assertEquals("JSON Parse error: Missing a name for object member. at offset: 1", error("{1: 2}"));
    assertEquals("JSON Parse error: Missing a closing quotation mark in string. at offset: 10", error("{\"a\": \"x y"));
    assertEquals("JSON Parse error: Missing a comma or ']' after an array element. at offset: 2", error("[1"));
    assertEquals("JSON Parse error: Number too big to be stored in double. at offset: 11",
        error("{\"inputs\": 1e400}"));
  }

  @Test
  void endOfInputAsRapidJsonReportsItAfterEachToken() {
    assertEquals("JSON Parse error: Invalid value. at offset: 1", error("["));
    assertEquals("JSON Parse error: Invalid value. at offset: 3", error("[1,"));
    assertEquals("JSON Parse error: Missing a name for object member. at offset: 1", error("{"));
    assertEquals("JSON Parse error: Missing a name for object member. at offset: 9", error("{\"a\": 1, "));
    assertEquals("JSON Parse error: Missing a colon after a name of object member. at offset: 4", error("{\"a\""));
    assertEquals("JSON Parse error: Invalid value. at offset: 5", error("{\"a\":"));
    assertEquals("JSON Parse error: Missing a comma or '}' after an object member. at offset: 7", error("{\"a\": 1"));
    assertEquals("JSON Parse error: Missing a comma or '}' after an object member. at offset: 9",
        error("{\"a\": \"b\""));
    assertEquals("JSON Parse error: Missing a closing quotation mark in string. at offset: 3", error("{\"a"));
  }

  @Test
  void badTokensAsRapidJsonReportsThem() {
    assertEquals("JSON Parse error: Invalid value. at offset: 9", error("{\"a\": tru}"));
    assertEquals("JSON Parse error: Invalid value. at offset: 4", error("[nul"));
    assertEquals("JSON Parse error: Invalid value. at offset: 6", error("{\"a\": x}"));
    assertEquals("JSON Parse error: Invalid value. at offset: 6", error("{\"a\": +1}"));
    assertEquals("JSON Parse error: Invalid value. at offset: 7", error("{\"a\": -}"));
    assertEquals("JSON Parse error: Invalid value. at offset: 6", error("{\"a\": .5}"));
    assertEquals("JSON Parse error: Invalid value. at offset: 0", error("}"));
    assertEquals("JSON Parse error: Miss fraction part in number. at offset: 8", error("{\"a\": 1.}"));
    assertEquals("JSON Parse error: Miss exponent in number. at offset: 8", error("{\"a\": 1e}"));
    assertEquals("JSON Parse error: Missing a comma or ']' after an array element. at offset: 8",
        error("{\"a\": [1}"));
    assertEquals("JSON Parse error: Invalid escape character in string. at offset: 7", error("{\"a\": \"\\q\"}"));
    assertEquals("JSON Parse error: Incorrect hex digit after \\u escape in string. at offset: 7",
        error("{\"a\": \"\\u00g0\"}"));
    assertEquals("JSON Parse error: Invalid encoding in string. at offset: 8", error("{\"a\": \"x\ty\"}"));
  }

  @Test
  void nanAndInfinityAreNumbers() {
    PredictRequest r = parse("{\"inputs\": [NaN, Infinity, -Infinity, 1]}");
    assertTrue(Double.isNaN(r.payload().get(0).doubleValue()));
    assertEquals(Double.POSITIVE_INFINITY, r.payload().get(1).doubleValue());
    assertEquals(Double.NEGATIVE_INFINITY, r.payload().get(2).doubleValue());
  }

  @Test
  void bytesAfterTheDocumentAreNotRead() {
    PredictRequest r = parse("{\"inputs\": [1]} trailing {[ garbage");
    assertEquals(1, r.payload().get(0).intValue());
  }

  @Test
  void aRepeatedKeyKeepsItsFirstValueAsRapidJsonFindsIt() {
    assertEquals("a", parse("{\"signature_name\": \"a\", \"signature_name\": \"b\", \"inputs\": 1}").signatureName());
  }

  @Test
  void topLevelMustBeAnObject() {
    assertEquals("JSON Value: [1, 2] Is not object", error("[1,2]"));
    assertEquals("JSON Value: \"x\" Is not object", error("\"x\""));
    assertEquals("JSON Value: 3.0 Is not object", error("3.0"));
  }

  @Test
  void signatureName() {
    assertEquals("serving_default", parse("{\"instances\": [1]}").signatureName());
    assertEquals("serving_default", parse("{\"signature_name\": \"\", \"instances\": [1]}").signatureName());
    assertEquals("sample", parse("{\"signature_name\": \"sample\", \"inputs\": 1}").signatureName());
    assertEquals("JSON Value: {\n    \"signature_name\": 5,\n    \"instances\": [[1, 2], [3, 4]]\n} not formatted "
        + "correctly. 'signature_name' key must be a string value.",
        error("{\"signature_name\": 5, \"instances\": [[1,2],[3,4]]}"));
    assertEquals("JSON Value: {\n    \"signature_name\": null,\n    \"inputs\": 1\n} not formatted correctly. "
        + "'signature_name' key must be a string value.", error("{\"signature_name\": null, \"inputs\": 1}"));
  }

  @Test
  void exactlyOneOfInstancesOrInputs() {
    assertEquals("JSON Value: {\n    \"instances\": [1],\n    \"inputs\": [1]\n} Not formatted correctly expecting "
        + "only one of 'inputs' or 'instances' keys to exist ", error("{\"instances\": [1], \"inputs\": [1]}"));
    assertEquals("Missing 'inputs' or 'instances' key", error("{\"signature_name\": \"x\"}"));
    assertEquals("Missing 'inputs' or 'instances' key", error("{}"));
  }

  @Test
  void instancesMustBeANonEmptyList() {
    assertEquals("JSON Value: {\n    \"instances\": 1\n} Expecting 'instances' to be an list/array",
        error("{\"instances\": 1}"));
    assertEquals("JSON Value: {\n    \"instances\": {}\n} Expecting 'instances' to be an list/array",
        error("{\"instances\": {}}"));
    assertEquals("JSON Value: {\n    \"instances\": []\n} No values in 'instances' array",
        error("{\"instances\": []}"));
  }

  @Test
  void longDocumentsAreCutInMessages() {
    String message = error("{\"instances\": [1], \"inputs\": [" + "1, ".repeat(500) + "1]}");
    String doc = message.substring("JSON Value: ".length(), message.indexOf(" Not formatted correctly"));
    assertTrue(doc.length() >= 256 && doc.length() < 260, doc);
    assertFalse(doc.endsWith("]\n}"), doc);
  }

  @Test
  void rowOrColumnar() {
    PredictRequest row = parse("{\"instances\": [[1, 2]]}");
    assertTrue(row.row());
    assertEquals(2, row.payload().get(0).size());
    PredictRequest columnar = parse("{\"inputs\": {\"x\": [1]}}");
    assertFalse(columnar.row());
    assertTrue(columnar.payload().isObject());
    assertEquals(7, parse("{\"inputs\": 7}").payload().intValue());
  }

  @Test
  void signatureIsResolvedWhereTfsResolvesIt() {
    List<String> asked = new ArrayList<>();
    ServeException notFound = new ServeException(Status.NOT_FOUND, "Servable not found for request: Latest(m)");
    // after the JSON and signature_name checks, before instances/inputs: TFS answers 404 to {} for an unknown model
    ServeException e = assertThrows(ServeException.class, () -> TensorJson.parse("{}".getBytes(), s -> {
      asked.add(s);
      throw notFound;
    }));
    assertEquals(notFound, e);
    assertEquals(List.of("serving_default"), asked);
    ServeException bad = assertThrows(ServeException.class,
        () -> TensorJson.parse("{\"signature_name\": 1}".getBytes(), asked::add));
    assertTrue(bad.getMessage().endsWith("'signature_name' key must be a string value."));
    assertEquals(List.of("serving_default"), asked);
    TensorJson.parse("{\"signature_name\": \"sample\", \"inputs\": 1}".getBytes(), asked::add);
    assertEquals(List.of("serving_default", "sample"), asked);
  }
}
