package dev.tfdiffusion.serve;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Objects;

/**
 * A :predict body after TFS's first checks ({@link TensorJson#parse}); its values are read against the signature by
 * {@link TensorJson#tensors}.
 *
 * @param signatureName the "signature_name" asked for, "serving_default" when missing or empty
 * @param row true for "instances" (row format, answered with "predictions"), false for "inputs" (columnar,
 *     answered with "outputs")
 * @param payload the value of "instances" (a non-empty array) or of "inputs" (any JSON value)
 */
public record PredictRequest(String signatureName, boolean row, JsonNode payload) {
  public PredictRequest {
    Objects.requireNonNull(signatureName, "signatureName");
    Objects.requireNonNull(payload, "payload");
    if (row && (!payload.isArray() || payload.isEmpty())) {
      throw new IllegalArgumentException("row format needs a non-empty 'instances' array");
    }
  }
}
