package dev.tfdiffusion.serve;

/**
 * TensorFlow's canonical error codes with the HTTP status TensorFlow Serving answers for each
 * ({@code ToHTTPStatusCode} in model_servers/http_server.cc), so a client sees the same status from us as from TFS.
 */
public enum Status {
  OK(200),
  CANCELLED(499),
  UNKNOWN(500),
  INVALID_ARGUMENT(400),
  DEADLINE_EXCEEDED(504),
  NOT_FOUND(404),
  ALREADY_EXISTS(409),
  PERMISSION_DENIED(403),
  RESOURCE_EXHAUSTED(429),
  FAILED_PRECONDITION(400),
  ABORTED(409),
  OUT_OF_RANGE(400),
  UNIMPLEMENTED(501),
  INTERNAL(500),
  UNAVAILABLE(503),
  DATA_LOSS(500),
  UNAUTHENTICATED(401),
  /**
   * Not a TensorFlow code: this project's answer to a body or batch over the server's limits. TFS sets no body limit
   * (libevent runs without one), so it never sends 413; we do rather than read or run without bound.
   */
  PAYLOAD_TOO_LARGE(413);

  private final int http;

  Status(int http) {
    this.http = http;
  }

  /** The HTTP status code of a response carrying this status. */
  public int http() {
    return http;
  }
}
