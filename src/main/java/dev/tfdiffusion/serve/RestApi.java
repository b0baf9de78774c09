package dev.tfdiffusion.serve;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.tensorflow.Tensor;
import org.tensorflow.exceptions.TFInvalidArgumentException;
import org.tensorflow.exceptions.TensorFlowException;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;
import org.tensorflow.proto.TensorShapeProto;

/**
 * TensorFlow Serving's REST API for one model ({@code /v1/models/NAME...}): model status, metadata and predict, with
 * its URL grammar, status codes and error texts (from its sources: {@code http_rest_api_handler.cc},
 * {@code get_model_status_impl.cc}, {@code json_tensor.cc}). Independent of the HTTP server, so that every answer is
 * a plain function of the request.
 */
final class RestApi {
  /** What every {@code /v1} path must match to be handled at all; anything else under it is malformed. */
  private static final Pattern PREDICT = Pattern.compile(
      "(?i)/v1/models/([^/:]+)(?:(?:/versions/(\\d+))|(?:/labels/([^/:]+)))?:(classify|regress|predict)");
  private static final Pattern STATUS = Pattern.compile(
      "(?i)/v1/models(?:/([^/:]+))?(?:(?:/versions/(\\d+))|(?:/labels/([^/:]+)))?(?:/(metadata))?");
  private static final ObjectMapper JSON = new ObjectMapper();

  /** An answer: its status (the HTTP code is {@code status.http()}), content type and body. */
  record Response(Status status, String contentType, byte[] body) {
    static Response json(String json) {
      return new Response(Status.OK, "application/json", json.getBytes(StandardCharsets.UTF_8));
    }

    static Response error(ServeException e) {
      return new Response(e.status(), "application/json", e.errorJson().getBytes(StandardCharsets.UTF_8));
    }
  }

  private final String name;
  private final ModelVersions models;
  private final Metrics metrics;
  private final Admission admission;
  private final int maxBatch;

  RestApi(String name, ModelVersions models, Metrics metrics, Admission admission, int maxBatch) {
    this.name = name;
    this.models = models;
    this.metrics = metrics;
    this.admission = admission;
    this.maxBatch = maxBatch;
  }

  Metrics metrics() {
    return metrics;
  }

  Admission admission() {
    return admission;
  }

  /** The most images one request may ask for (--max-batch). */
  int maxBatch() {
    return maxBatch;
  }

  String name() {
    return name;
  }

  /** Answers a request to a path under {@code /v1/} ({@code path} without the query string). */
  Response handle(String method, String path, String query, byte[] body) {
    long start = System.nanoTime();
    String api = "";
    String model = "";
    String signature = "";
    Response response;
    try {
      // TensorFlow Serving matches its patterns against the path with the query string: a query becomes part of a
      // model name or makes the URL malformed
      String target = query == null ? path : path + "?" + query;
      Matcher predict = PREDICT.matcher(target);
      Matcher status = STATUS.matcher(target);
      if (method.equals("POST") && predict.matches()) {
        model = decode(predict.group(1));
        api = predict.group(4);
        if (!api.equals("predict")) {
          if (!api.equals("classify") && !api.equals("regress")) {
            throw malformed(method, path);
          }
          throw new ServeException(Status.UNIMPLEMENTED, "This server answers :predict only; " + api
              + " needs tf.Example signatures, which tf-diffusion models do not have.");
        }
        // as in TensorFlow Serving: the body is parsed up to its signature name, then model, version and signature
        // are looked up, then the inputs are read
        String m = model;
        ServedModel[] served = new ServedModel[1];
        PredictRequest request = TensorJson.parse(body, key -> {
          served[0] = resolve(m, predict.group(2), predict.group(3), true);
          if (!served[0].signatures().containsKey(key)) {
            throw new ServeException(Status.INVALID_ARGUMENT, "Serving signature name: \"" + key
                + "\" not found in signature def");
          }
        });
        signature = request.signatureName();
        response = predict(served[0], request);
      } else if (method.equals("GET") && status.matches()) {
        if (status.group(1) == null) {
          throw new ServeException(Status.INVALID_ARGUMENT, "Missing model name in request.");
        }
        model = decode(status.group(1));
        boolean metadata = status.group(4) != null;
        response = metadata ? metadata(resolve(model, status.group(2), status.group(3), true))
            : status(model, status.group(2), status.group(3));
      } else {
        throw malformed(method, path);
      }
    } catch (ServeException e) {
      response = Response.error(e);
    }
    metrics.recordRequest(model, api, response.status().name(), (System.nanoTime() - start) / 1000);
    if (!signature.isEmpty()) {
      metrics.recordSignatureRequest(model, signature, response.status().name());
    }
    return response;
  }

  private static ServeException malformed(String method, String path) {
    return new ServeException(Status.INVALID_ARGUMENT, "Malformed request: " + method + " " + path);
  }

  private static String decode(String s) {
    return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
  }

  /**
   * The version a request names (none: the highest); TensorFlow Serving's texts for an unknown model or version
   * ({@code forServing}: "Servable not found ..." as predict and metadata say it).
   */
  ServedModel resolve(String model, String version, String label, boolean forServing) {
    if (version != null && label != null) {
      throw new ServeException(Status.INVALID_ARGUMENT, "Both model version (" + version
          + ") and model version label (" + label + ") cannot be supplied.");
    }
    if (label != null) {
      throw new ServeException(Status.INVALID_ARGUMENT, "Unrecognized servable version label: " + decode(label));
    }
    long v = version == null ? -1 : parseVersion(version);
    if (!model.equals(name)) {
      throw new ServeException(Status.NOT_FOUND, forServing
          ? "Servable not found for request: " + (version == null ? "Latest(" + model + ")"
              : "Specific(" + model + ", " + v + ")")
          : "Could not find any versions of model " + model);
    }
    if (version == null) {
      return models.latest();
    }
    return models.version(v).orElseThrow(() -> new ServeException(Status.NOT_FOUND, forServing
        ? "Servable not found for request: Specific(" + model + ", " + v + ")"
        : "Could not find version " + v + " of model " + model));
  }

  private static long parseVersion(String version) {
    try {
      return Long.parseLong(version);
    } catch (NumberFormatException e) {
      throw new ServeException(Status.INVALID_ARGUMENT, "Failed to convert version: " + version + " to numeric.");
    }
  }

  // ---- GET /v1/models/NAME[/versions/V] ---------------------------------------------------------------------------

  private Response status(String model, String version, String label) {
    Collection<ServedModel> listed = version == null && label == null && model.equals(name) ? models.all()
        : List.of(resolve(model, version, label, false));
    ObjectNode root = JSON.createObjectNode();
    ArrayNode statuses = root.putArray("model_version_status");
    for (ServedModel served : listed) {
      ObjectNode s = statuses.addObject();
      s.put("version", Long.toString(served.version()));
      s.put("state", "AVAILABLE");
      ObjectNode st = s.putObject("status");
      st.put("error_code", "OK");
      st.put("error_message", "");
    }
    return Response.json(pretty(root));
  }

  // ---- GET .../metadata ----------------------------------------------------------------------------------------------

  /** The signature map as TensorFlow Serving prints it: the unpacked {@code Any}, hence signature_def twice. */
  private Response metadata(ServedModel served) {
    ObjectNode root = JSON.createObjectNode();
    ObjectNode spec = root.putObject("model_spec");
    spec.put("name", name);
    spec.put("signature_name", "");
    spec.put("version", Long.toString(served.version()));
    ObjectNode defs = root.putObject("metadata").putObject("signature_def").putObject("signature_def");
    served.signatures().forEach((key, def) -> defs.set(key, signatureJson(def)));
    return Response.json(pretty(root));
  }

  private static ObjectNode signatureJson(SignatureDef def) {
    ObjectNode out = JSON.createObjectNode();
    ObjectNode inputs = out.putObject("inputs");
    new TreeMap<>(def.getInputsMap()).forEach((k, info) -> inputs.set(k, tensorInfoJson(info)));
    ObjectNode outputs = out.putObject("outputs");
    new TreeMap<>(def.getOutputsMap()).forEach((k, info) -> outputs.set(k, tensorInfoJson(info)));
    out.put("method_name", def.getMethodName());
    out.putObject("defaults");
    return out;
  }

  private static ObjectNode tensorInfoJson(TensorInfo info) {
    ObjectNode out = JSON.createObjectNode();
    out.put("dtype", info.getDtype().name());
    ObjectNode shape = out.putObject("tensor_shape");
    ArrayNode dims = shape.putArray("dim");
    TensorShapeProto proto = info.getTensorShape();
    for (TensorShapeProto.Dim d : proto.getDimList()) {
      ObjectNode dim = dims.addObject();
      dim.put("size", Long.toString(d.getSize()));
      dim.put("name", d.getName());
    }
    shape.put("unknown_rank", proto.getUnknownRank());
    out.put("name", info.getName());
    return out;
  }

  // ---- POST ...:predict -----------------------------------------------------------------------------------------------

  private Response predict(ServedModel served, PredictRequest request) {
    SignatureDef def = served.signatures().get(request.signatureName());
    SortedMap<String, TensorSpec> inputs = TensorSpec.of(def.getInputsMap());
    Map<String, Tensor> feeds = TensorJson.tensors(request, inputs, request.signatureName());
    try {
      long batch = TensorJson.batchSize(feeds);
      if (batch > maxBatch) {
        throw new ServeException(Status.PAYLOAD_TOO_LARGE, "The request's batch of " + batch
            + " is larger than this server's --max-batch of " + maxBatch + ".");
      }
      try (Admission.Permit permit = admission.enter()) {
        long start = System.nanoTime();
        try (ServedModel.Outputs out = run(served, request.signatureName(), feeds)) {
          metrics.recordRuntimeLatency(name, (System.nanoTime() - start) / 1000);
          return Response.json(TensorJson.response(request.row(), out.tensors()));
        }
      }
    } finally {
      TensorJson.closeAll(feeds.values());
    }
  }

  /** One run, with TensorFlow's failures as TensorFlow Serving reports them. */
  static ServedModel.Outputs run(ServedModel served, String signature, Map<String, Tensor> feeds) {
    try {
      return served.run(signature, feeds);
    } catch (TFInvalidArgumentException e) {
      throw new ServeException(Status.INVALID_ARGUMENT, firstLine(e));
    } catch (TensorFlowException e) {
      throw fromTensorFlow(e);
    }
  }

  /** TensorFlow's status for a failed run; TF Java has no exception class for a deadline or a cancellation. */
  static ServeException fromTensorFlow(TensorFlowException e) {
    String message = firstLine(e);
    String lower = message.toLowerCase();
    if (lower.contains("timed out") || lower.contains("deadline")) {
      return new ServeException(Status.DEADLINE_EXCEEDED, message);
    }
    if (lower.contains("cancelled")) {
      return new ServeException(Status.CANCELLED, message);
    }
    return new ServeException(Status.INTERNAL, message);
  }

  private static String firstLine(Exception e) {
    return e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse("").strip();
  }

  private static String pretty(ObjectNode root) {
    try {
      return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
