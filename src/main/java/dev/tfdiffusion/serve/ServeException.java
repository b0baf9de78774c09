package dev.tfdiffusion.serve;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.Objects;

/**
 * A request that fails with a {@link Status}: the server answers {@link Status#http()} with {@link #errorJson()}, as
 * TFS answers a failed {@code absl::Status}.
 */
public class ServeException extends RuntimeException {
  private final Status status;

  public ServeException(Status status, String message) {
    this(status, message, null);
  }

  public ServeException(Status status, String message, Throwable cause) {
    super(Objects.requireNonNull(message, "message"), cause);
    if (status == Status.OK) {
      throw new IllegalArgumentException("an error cannot have status OK");
    }
    this.status = Objects.requireNonNull(status, "status");
  }

  /** Shorthand for the status of nearly every request error. */
  static ServeException invalidArgument(String message) {
    return new ServeException(Status.INVALID_ARGUMENT, message);
  }

  public Status status() {
    return status;
  }

  /**
   * The response body, byte for byte what TFS's {@code MakeJsonFromStatus} writes: the message alone (no code prefix)
   * under "error", laid out by rapidjson's PrettyWriter ({@code {\n    "error": "..."\n}}).
   */
  public String errorJson() {
    StringWriter out = new StringWriter();
    try (JsonGenerator g = RapidJson.generator(out, false)) {
      g.writeStartObject();
      g.writeStringField("error", getMessage());
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a StringWriter does not fail
    }
    return out.toString();
  }
}
