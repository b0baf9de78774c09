package dev.tfdiffusion.serve;

import dev.tfdiffusion.sample.SavedModelSampler;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;

/**
 * The HTTP side of {@code serve}, on the JDK's own server: TensorFlow Serving's REST API under {@code /v1/}, the
 * project's image endpoints and page, KServe's health checks and Prometheus metrics. It limits bodies (413) and
 * counts requests in flight so that a shutdown can wait for them.
 */
public final class ModelServer implements AutoCloseable {
  /** Prometheus' path as TensorFlow Serving's monitoring config names it by default. */
  static final String METRICS_PATH = "/monitoring/prometheus/metrics";
  /** How much of a refused body is read and dropped before the connection is simply closed. */
  private static final long DRAINED_BYTES = 256L << 20;

  /** Everything {@code serve} takes besides the model. */
  public record Options(String name, String host, int port, long maxBodyBytes, int maxBatch, int maxConcurrent,
                        int queue, long timeoutMs) {}

  private final Options options;
  private final ModelVersions models;
  private final Metrics metrics = new Metrics();
  private final RestApi api;
  private final ImageEndpoints images;
  private final Page page;
  private final HttpServer http;
  private final ExecutorService threads;
  private final AtomicInteger inFlight = new AtomicInteger();
  private volatile boolean ready;

  private ModelServer(Options options, ModelVersions models) throws IOException {
    this.options = options;
    this.models = models;
    Admission admission = new Admission(options.maxConcurrent(), options.queue());
    this.api = new RestApi(options.name(), models, metrics, admission, options.maxBatch());
    this.images = new ImageEndpoints(api);
    this.page = new Page(options.name(), models.latest().sampler().map(SavedModelSampler::classes).orElse(0));
    this.http = HttpServer.create(new InetSocketAddress(options.host(), options.port()), 64);
    // enough threads that a full admission (running + queued) still leaves some to answer 429 and cheap GETs at once
    int size = options.maxConcurrent() + options.queue() + 8;
    this.threads = new ThreadPoolExecutor(size, size, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>());
    http.setExecutor(threads);
    http.createContext("/", this::exchange);
  }

  /** Loads the model folder and starts answering; the caller prints {@link #describe()}. */
  public static ModelServer start(java.nio.file.Path dir, Options options,
                                  org.tensorflow.proto.ConfigProto session) throws IOException {
    ModelVersions models = ModelVersions.load(dir, session, options.timeoutMs());
    try {
      ModelServer server = new ModelServer(options, models);
      server.http.start();
      server.ready = true;
      return server;
    } catch (IOException | RuntimeException e) {
      models.close();
      throw e;
    }
  }

  /** The port actually bound (the one asked for, or a free one for 0). */
  public int port() {
    return http.getAddress().getPort();
  }

  /** {@code serving NAME (version V, signatures a, b) at http://HOST:PORT/}: the line that says it is ready. */
  public String describe() {
    ServedModel latest = models.latest();
    return "serving " + options.name() + " (version " + latest.version() + ", signatures "
        + String.join(", ", latest.signatures().keySet()) + ") at http://" + options.host() + ":" + port() + "/";
  }

  private void exchange(HttpExchange exchange) {
    inFlight.incrementAndGet();
    try (exchange) {
      RestApi.Response response;
      try {
        response = answer(exchange);
      } catch (RuntimeException e) {
        // a bug or a failure the handlers did not foresee: the client gets a 500 with the reason, the log one line
        System.err.println("serve: " + exchange.getRequestMethod() + " " + exchange.getRequestURI() + " failed: " + e);
        response = RestApi.Response.error(new ServeException(Status.INTERNAL, String.valueOf(e.getMessage())));
      }
      byte[] body = response.body();
      exchange.getResponseHeaders().set("Content-Type", response.contentType());
      exchange.sendResponseHeaders(response.status().http(), body.length == 0 ? -1 : body.length);
      if (body.length > 0) {
        try (OutputStream out = exchange.getResponseBody()) {
          out.write(body);
        }
      }
    } catch (IOException e) {
      // the client went away; nothing to answer
    } finally {
      inFlight.decrementAndGet();
    }
  }

  private RestApi.Response answer(HttpExchange exchange) throws IOException {
    String method = exchange.getRequestMethod();
    String path = exchange.getRequestURI().getRawPath();
    String query = exchange.getRequestURI().getRawQuery();
    switch (path) {
      case "/v2/health/live":
        return empty(Status.OK);
      case "/v2/health/ready":
        // KServe: 200 means ready, a 4xx not (while draining)
        return empty(ready ? Status.OK : Status.INVALID_ARGUMENT);
      case METRICS_PATH:
        return new RestApi.Response(Status.OK, "text/plain; version=0.0.4",
            metrics.prometheusText().getBytes(StandardCharsets.UTF_8));
      default:
        break;
    }
    if (!ready) {
      return RestApi.Response.error(new ServeException(Status.UNAVAILABLE,
          "The server is shutting down and takes no new requests."));
    }
    if (method.equals("GET") && (path.equals("/") || path.equals("/index.html"))) {
      return new RestApi.Response(Status.OK, "text/html; charset=utf-8", page.html());
    }
    Matcher image = ImageEndpoints.PATH.matcher(path);
    if (method.equals("GET") && image.matches()) {
      return images.handle(image, query);
    }
    if (path.toLowerCase(Locale.ROOT).startsWith("/v1/")) {
      byte[] body;
      try {
        body = readBody(exchange);
      } catch (ServeException e) {
        return RestApi.Response.error(e);
      }
      return api.handle(method, path, query, body);
    }
    return RestApi.Response.error(new ServeException(Status.NOT_FOUND, "Nothing is served at " + path + "."));
  }

  /**
   * The request body, refused with 413 beyond {@code --max-body-mb}. The rest of a refused body is read and dropped
   * (up to {@link #DRAINED_BYTES}) so that the client, still sending, receives the answer instead of a reset.
   */
  private byte[] readBody(HttpExchange exchange) throws IOException {
    long limit = options.maxBodyBytes();
    try (InputStream in = exchange.getRequestBody()) {
      byte[] body = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, limit + 1));
      if (body.length > limit) {
        // read, not skip: the JDK's body stream passes skip() to the socket, past the end of the body
        byte[] sink = new byte[64 * 1024];
        long dropped = 0;
        for (int n = in.read(sink); n >= 0 && dropped < DRAINED_BYTES; n = in.read(sink)) {
          dropped += n;
        }
        throw tooLarge();
      }
      return body;
    }
  }

  private ServeException tooLarge() {
    return new ServeException(Status.PAYLOAD_TOO_LARGE, "The request body is larger than this server's limit of "
        + options.maxBodyBytes() / (1024 * 1024) + " MB (--max-body-mb).");
  }

  private static RestApi.Response empty(Status status) {
    return new RestApi.Response(status, "text/plain", new byte[0]);
  }

  /**
   * Not ready any more and not accepting connections; waits until the requests in flight have been answered or
   * {@code drain} has passed.
   *
   * @return whether every request in flight was answered
   */
  public boolean drainAndStop(Duration drain) {
    ready = false;
    // stop(delay) closes the listening socket at once and lets the exchanges in flight finish, but on this JDK it
    // then waits the whole delay even when nothing is left; so it runs aside and the end is decided here
    Thread stopper = new Thread(() -> http.stop((int) Math.max(1, drain.toSeconds())), "serve-stop");
    stopper.setDaemon(true);
    stopper.start();
    long deadline = System.nanoTime() + drain.toNanos();
    while (inFlight.get() > 0 && System.nanoTime() < deadline) {
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    boolean drained = inFlight.get() == 0;
    threads.shutdownNow();
    return drained;
  }

  @Override
  public void close() {
    drainAndStop(Duration.ZERO);
    models.close();
  }
}
