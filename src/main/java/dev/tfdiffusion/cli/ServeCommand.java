package dev.tfdiffusion.cli;

import dev.tfdiffusion.UserError;
import dev.tfdiffusion.serve.ModelServer;
import dev.tfdiffusion.util.SessionOptions;
import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code serve}: a SavedModel behind TensorFlow Serving's REST API, with a page that draws samples. */
@Command(name = "serve", mixinStandardHelpOptions = true,
    description = {"Serves a SavedModel (or a folder of numbered versions, as TensorFlow Serving lays them out) over "
        + "TensorFlow Serving's REST API (/v1/models/NAME, .../metadata, ...:predict), with a page at / that draws "
        + "samples, PNG and GIF endpoints, /v2/health/live and /ready, and Prometheus metrics at "
        + "/monitoring/prometheus/metrics. Prints 'serving NAME (version V, signatures ...) at http://HOST:PORT/' "
        + "when ready; SIGTERM or Ctrl-C stop it after the requests in flight (exit code 0)."})
public final class ServeCommand implements Callable<Integer> {
  @Option(names = "--model", required = true, paramLabel = "DIR",
      description = "A SavedModel folder (served as version 1) or a base folder whose numeric sub-folders are versions "
          + "(the highest answers requests without a version).")
  Path model;

  @Option(names = "--name", paramLabel = "NAME", description = "The model's name in URLs (default: ${DEFAULT-VALUE}).")
  String name = "digits";

  @Option(names = "--host", paramLabel = "HOST", description = "Address to listen on (default: ${DEFAULT-VALUE}; "
      + "0.0.0.0 for every interface).")
  String host = "127.0.0.1";

  @Option(names = "--port", paramLabel = "PORT", description = "Port (default: ${DEFAULT-VALUE}, TensorFlow "
      + "Serving's REST port; 0 for a free one).")
  int port = 8501;

  @Option(names = "--max-body-mb", paramLabel = "MB", description = "Largest request body; larger ones get 413 "
      + "(default: ${DEFAULT-VALUE}).")
  int maxBodyMb = 16;

  @Option(names = "--max-batch", paramLabel = "N", description = "Most images (a request's first dimension) one "
      + "request may ask for; more get 413 (default: ${DEFAULT-VALUE}).")
  int maxBatch = 1024;

  @Option(names = "--max-concurrent", paramLabel = "N", description = "Model runs at once; as many more may wait, "
      + "beyond that requests get 429 (default: the number of cores, ${DEFAULT-VALUE}).")
  int maxConcurrent = Runtime.getRuntime().availableProcessors();

  @Option(names = "--timeout-ms", paramLabel = "MS", description = "A run taking longer is cancelled and answered "
      + "504 (default: ${DEFAULT-VALUE}, TensorFlow Serving's).")
  long timeoutMs = 30_000;

  @Option(names = "--drain-s", paramLabel = "S", description = "On SIGTERM, how long to wait for the requests in "
      + "flight before stopping (default: ${DEFAULT-VALUE}).")
  int drainSeconds = 30;

  @Mixin
  CommonOptions.ComputeSwitches compute;

  @Mixin
  CommonOptions.Verbose verbose;

  @Override
  public Integer call() throws IOException {
    positive("--max-body-mb", maxBodyMb);
    positive("--max-batch", maxBatch);
    positive("--max-concurrent", maxConcurrent);
    positive("--timeout-ms", timeoutMs);
    if (drainSeconds < 0) {
      throw UserError.usage("--drain-s must be 0 or more, got " + drainSeconds + ".");
    }
    if (port < 0 || port > 65535) {
      throw UserError.usage("--port must be from 0 to 65535, got " + port + ".");
    }
    if (!name.matches("[^/:?#%\\s]+")) {
      throw UserError.usage("--name must not contain '/', ':', '?', '#', '%' or spaces, got '" + name + "'.");
    }
    try {
      InetAddress.getByName(host);
    } catch (UnknownHostException e) {
      throw UserError.usage("--host '" + host + "' is not a known host name or address.");
    }
    ModelServer.Options options = new ModelServer.Options(name, host, port, maxBodyMb * 1024L * 1024L, maxBatch,
        maxConcurrent, maxConcurrent, timeoutMs);
    ModelServer server;
    try {
      server = ModelServer.start(model, options, SessionOptions.create(compute.resolve(), 0));
    } catch (BindException e) {
      throw new UserError("Cannot listen on " + host + ":" + port + ": " + e.getMessage() + ".");
    }
    CountDownLatch stopped = new CountDownLatch(1);
    // SIGTERM / Ctrl-C: not ready, the requests in flight answered (up to --drain-s), then exit 0 rather than 143/130
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      server.drainAndStop(Duration.ofSeconds(drainSeconds));
      stopped.countDown();
      Runtime.getRuntime().halt(0);
    }, "serve-drain"));
    System.out.println(server.describe());
    System.out.flush();
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return 0;
  }

  private static void positive(String option, long value) {
    if (value <= 0) {
      throw UserError.usage(option + " must be a positive whole number, got " + value + ".");
    }
  }
}
