package dev.tfdiffusion.serve;

import static dev.tfdiffusion.serve.ServeException.invalidArgument;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;
import org.tensorflow.Tensor;

/**
 * TensorFlow Serving's REST :predict bodies to tensors and tensors back to bodies, as TFS's util/json_tensor.cc does
 * it: the same order of checks, the same messages (400 unless said otherwise), the same number text. Clients written
 * against TFS therefore work, and fail, the same way against us.
 *
 * <p>A predict call: {@link #parse} the body, {@link #tensors} for the signature's inputs (check
 * {@link #batchSize} against the server's limit), run, {@link #response} from the outputs. Failures are
 * {@link ServeException}s; their {@link ServeException#errorJson()} is the body to answer with.
 *
 * <p>Where we differ from TFS, and why:
 * <ul>
 *   <li>Parsing is Jackson's, not rapidjson's: parse errors carry rapidjson's text and offset for the usual mistakes
 *       (see ParseErrors), Jackson's first line otherwise; Jackson refuses invalid UTF-8 and the spellings "Inf"
 *       and "-NaN", which rapidjson reads, and limits nesting depth.
 *   <li>A repeated key keeps its first value everywhere (TFS's row format would read both copies).
 *   <li>Names are in sorted order ("keys must be equal to", the first input of a plain list, response keys); TFS
 *       follows its protobuf map's order, which is unspecified.
 *   <li>A dtype JSON cannot fill is one sentence, 400 (Column.SUPPORTED; TFS: 501 "Conversion of JSON
 *       Value ..." for columnar requests). DT_STRING and {"b64": ...} are read as TFS reads them; the int8/int16/
 *       uint8/uint32/uint64 inputs TFS also reads are not. Base64 is Java's decoder, not absl's.
 *   <li>"Failed to get input map for signature" names the signature asked for ("serving_default", TFS: "DEFAULT")
 *       and is checked by {@link #tensors}, after the "instances"/"inputs" checks of {@link #parse}.
 *   <li>DT_STRING outputs are decoded as UTF-8 (TFS copies the raw bytes, which may not be valid JSON).
 *   <li>Ours, not TFS's: the input count and shape checks of {@link #tensors}, {@link #batchSize}.
 * </ul>
 */
public final class TensorJson {
  /** The signature TFS uses when the request names none. */
  public static final String DEFAULT_SIGNATURE = "serving_default";

  private TensorJson() {}

  /**
   * TFS's first checks (json_tensor.cc {@code FillPredictRequestFromJson}): the body is a JSON object, its
   * "signature_name" a string, and it has exactly one of "instances" (a non-empty list) or "inputs".
   *
   * <p>TFS resolves the model and the signature between the "signature_name" check and the "instances"/"inputs"
   * ones, so a body lacking both sent to an unknown model is a 404 there. To keep that order, use
   * {@link #parse(byte[], Consumer)}; this method checks everything at once.
   */
  public static PredictRequest parse(byte[] body) {
    return parse(body, signature -> {});
  }

  /**
   * As {@link #parse(byte[])}, calling {@code resolveSignature} with the signature name (after the JSON and
   * "signature_name" checks, before the "instances"/"inputs" ones) where TFS resolves model and signature: a
   * ServeException it throws (404 unknown model, 400 unknown signature) ends the parse as in TFS.
   */
  public static PredictRequest parse(byte[] body, Consumer<String> resolveSignature) {
    JsonNode doc = JsonInput.read(body);
    if (!doc.isObject()) {
      throw formatError(doc, "Is not object");
    }
    String signature = signatureName(doc);
    resolveSignature.accept(signature);
    JsonNode instances = doc.get("instances");
    JsonNode inputs = doc.get("inputs");
    if (instances != null && inputs != null) {
      throw formatError(doc, "Not formatted correctly expecting only one of 'inputs' or 'instances' keys to exist ");
    }
    if (instances != null) {
      if (!instances.isArray()) {
        throw formatError(doc, "Expecting 'instances' to be an list/array");
      }
      if (instances.isEmpty()) {
        throw formatError(doc, "No values in 'instances' array");
      }
      return new PredictRequest(signature, true, instances);
    }
    if (inputs != null) {
      return new PredictRequest(signature, false, inputs);
    }
    throw invalidArgument("Missing 'inputs' or 'instances' key");
  }

  private static String signatureName(JsonNode doc) {
    JsonNode name = doc.get("signature_name");
    if (name == null) {
      return DEFAULT_SIGNATURE;
    }
    if (!name.isTextual()) {
      throw formatError(doc, "not formatted correctly. 'signature_name' key must be a string value.");
    }
    return name.textValue().isEmpty() ? DEFAULT_SIGNATURE : name.textValue();
  }

  /** TFS's {@code FormatError}: the offending JSON (cut at 256 bytes) and what is wrong with it. */
  private static ServeException formatError(JsonNode v, String what) {
    return invalidArgument("JSON Value: " + RapidJson.debugString(v) + " " + what);
  }

  /**
   * The request's values as one tensor per signature input, keyed by input key: row format batches the instances
   * along a new dim 0, columnar takes each value whole (keys the signature lacks are ignored, as in TFS).
   *
   * <p>After TFS's checks of structure and types, two of ours: the input count, with TFS's text (predict_util.cc
   * {@code VerifyRequestInputsSize}), and every shape against the signature's (TFS leaves that to the session, whose
   * feeds replace placeholders and would compute garbage or crash): same rank, known dims equal.
   *
   * @param inputs the signature's inputs ({@link TensorSpec#of(Map)} of the SignatureDef's inputs map)
   * @param signatureName the signature, for messages
   * @return the tensors, which the caller closes (see {@link #closeAll}); nothing is left open on failure
   */
  public static Map<String, Tensor> tensors(PredictRequest request, SortedMap<String, TensorSpec> inputs,
      String signatureName) {
    if (inputs.isEmpty()) {
      throw invalidArgument("Failed to get input map for signature: " + signatureName);
    }
    SortedMap<String, InputValues.Filled> filled = request.row()
        ? InputValues.row(request.payload(), inputs, signatureName)
        : InputValues.columnar(request.payload(), inputs, signatureName);
    verifyInputsSize(filled.keySet(), inputs.keySet());
    filled.forEach((key, f) -> checkShape(key, signatureName, f.shape(), inputs.get(key)));
    Map<String, Tensor> tensors = new TreeMap<>();
    try {
      filled.forEach((key, f) -> tensors.put(key, f.column().tensor(f.shape())));
    } catch (RuntimeException | Error e) {
      closeAll(tensors.values());
      throw e;
    }
    return tensors;
  }

  /** predict_util.cc {@code VerifyRequestInputsSize} (our signatures have no defaults, so every input is required). */
  static void verifyInputsSize(Set<String> sent, Set<String> signature) {
    if (sent.size() == signature.size()) {
      return;
    }
    Set<String> extra = new TreeSet<>(sent);
    extra.removeAll(signature);
    Set<String> missing = new TreeSet<>(signature);
    missing.removeAll(sent);
    throw invalidArgument("input size does not match signature: " + sent.size() + "!=" + signature.size()
        + " len({" + String.join(",", new TreeSet<>(sent)) + "}) != len({" + String.join(",", new TreeSet<>(signature))
        + "}). Sent extra: {" + String.join(",", extra) + "}. Missing but required: {" + String.join(",", missing)
        + "}.");
  }

  private static void checkShape(String key, String signatureName, long[] shape, TensorSpec spec) {
    if (!spec.accepts(shape)) {
      long[] expected = spec.shape();
      throw invalidArgument("Input \"" + key + "\" of signature \"" + signatureName + "\" has shape "
          + InputValues.shapeString(shape) + " but the signature expects " + InputValues.shapeString(expected)
          + (expected.length == 0 ? " (scalar)" : ""));
    }
  }

  /**
   * The batch size a request asks for, to hold against the server's limit: the largest dim 0 among inputs of rank
   * 1 or more (in row format every input's dim 0 is the number of instances), 0 when every input is a scalar.
   */
  public static long batchSize(Map<String, ? extends Tensor> inputs) {
    long batch = 0;
    for (Tensor t : inputs.values()) {
      if (t.shape().numDimensions() > 0) {
        batch = Math.max(batch, t.shape().get(0));
      }
    }
    return batch;
  }

  /** Closes every tensor, even when one fails to close; the first failure is rethrown after. */
  public static void closeAll(Collection<? extends Tensor> tensors) {
    List<RuntimeException> failures = new ArrayList<>();
    for (Tensor t : tensors) {
      try {
        t.close();
      } catch (RuntimeException e) {
        failures.add(e);
      }
    }
    if (!failures.isEmpty()) {
      RuntimeException first = failures.get(0);
      failures.subList(1, failures.size()).forEach(first::addSuppressed);
      throw first;
    }
  }

  /**
   * The response body for the signature's outputs (keyed by output key): row format {"predictions": [...]} with one
   * item per dim-0 index (one output unnamed, several as objects; every output needs rank >= 1 and the same dim 0,
   * else 400 as in TFS), columnar {"outputs": value} for one output and {"outputs": {"key": value, ...}} for several.
   * Numbers as {@link #formatFloat}/{@link #formatDouble} and JSON ints; DT_STRING as text, or {"b64": ...} for
   * outputs named *_bytes. Laid out as TFS's rapidjson PrettyWriter lays it out. The tensors stay open.
   */
  public static String response(boolean row, SortedMap<String, ? extends Tensor> outputs) {
    return OutputJson.write(row, outputs);
  }

  /**
   * A float as TFS writes it ({@code WriteDecimal}): printf {@code %g} (6 significant digits) when that reads back
   * as the same float, else {@code %.9g}; ".0" appended when the text has neither '.' nor 'e'; NaN, Infinity and
   * -Infinity as bare tokens. 1 -> "1.0", 9000000 -> "9e+06", 0.123456789f -> "0.123456791".
   */
  public static String formatFloat(float v) {
    return Decimals.formatFloat(v);
  }

  /** As {@link #formatFloat}, with {@code %.17g} when 6 digits do not read back as the same double. */
  public static String formatDouble(double v) {
    return Decimals.formatDouble(v);
  }
}
