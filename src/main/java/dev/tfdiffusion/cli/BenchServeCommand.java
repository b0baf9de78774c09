package dev.tfdiffusion.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tfdiffusion.UserError;
import dev.tfdiffusion.bench.Benchmark;
import dev.tfdiffusion.serve.LoadTest;
import dev.tfdiffusion.serve.ModelServer;
import dev.tfdiffusion.util.SessionOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code bench serve}: a load test of {@code serve}, in this process, as one JSON object. */
@Command(name = "serve", mixinStandardHelpOptions = true,
    description = {"Serves --model on a free local port in this process and loads it: --clients concurrent clients "
        + "for --seconds each on :predict with serving_default, on :predict with sample_ddim (50 steps) and on "
        + "samples.png, --images images per request. Prints one JSON object: per kind of request the requests, "
        + "answered requests per second, p50/p99 latency of the answered ones, every HTTP status seen (429: the "
        + "server was full, by design), and the process's resident memory before and after each (with --rounds "
        + "R the three kinds run R times in turn)."})
public final class BenchServeCommand implements Callable<Integer> {
  @Option(names = "--model", required = true, paramLabel = "DIR", description = "A SavedModel folder, or a folder "
      + "of numbered versions.")
  Path model;

  @Option(names = "--clients", paramLabel = "C", description = "Concurrent clients (default: ${DEFAULT-VALUE}).")
  int clients = 4;

  @Option(names = "--seconds", paramLabel = "T", description = "Seconds per kind of request (default: "
      + "${DEFAULT-VALUE}).")
  int seconds = 20;

  @Option(names = "--images", paramLabel = "N", description = "Images per request (default: ${DEFAULT-VALUE}).")
  int images = 16;

  @Option(names = "--rounds", paramLabel = "R", description = "Times the three kinds are run in turn (default: "
      + "${DEFAULT-VALUE}): resident memory after each shows whether it stays flat.")
  int rounds = 2;

  @Option(names = "--max-concurrent", paramLabel = "N", description = "The server's runs at once (default: the "
      + "number of cores, ${DEFAULT-VALUE}); as many more may wait.")
  int maxConcurrent = Runtime.getRuntime().availableProcessors();

  @Mixin
  CommonOptions.ComputeSwitches compute;

  @Mixin
  CommonOptions.Verbose verbose;

  @Override
  public Integer call() throws Exception {
    for (String option : List.of("--clients", "--seconds", "--images", "--rounds", "--max-concurrent")) {
      int value = switch (option) {
        case "--clients" -> clients;
        case "--seconds" -> seconds;
        case "--images" -> images;
        case "--rounds" -> rounds;
        default -> maxConcurrent;
      };
      if (value <= 0 || value > 1024) {
        throw UserError.usage(option + " must be between 1 and 1024, got " + value + ".");
      }
    }
    ModelServer.Options options = new ModelServer.Options("digits", "127.0.0.1", 0, 64L << 20, 1024, maxConcurrent,
        maxConcurrent, 30_000);
    Map<String, Object> out = new LinkedHashMap<>();
    try (ModelServer server = ModelServer.start(model, options, SessionOptions.create(compute.resolve(), 0))) {
      String base = "http://127.0.0.1:" + server.port();
      List<LoadTest.Kind> kinds = LoadTest.standardKinds("digits", images);
      for (LoadTest.Kind kind : kinds) {
        LoadTest.run(base, kind, 1, Duration.ofSeconds(1)); // warm-up: the first run of each graph optimises it
      }
      out.put("clients", clients);
      out.put("seconds_per_kind", seconds);
      out.put("images_per_request", images);
      out.put("max_concurrent", maxConcurrent);
      out.put("rss_before_mb", Benchmark.currentRssMb());
      List<Map<String, Object>> results = new ArrayList<>();
      for (int round = 1; round <= rounds; round++) {
        for (LoadTest.Kind kind : kinds) {
          Map<String, Object> row = new LinkedHashMap<>();
          row.put("round", round);
          row.put("result", LoadTest.run(base, kind, clients, Duration.ofSeconds(seconds)));
          row.put("rss_after_mb", Benchmark.currentRssMb());
          results.add(row);
        }
      }
      out.put("results", results);
    }
    System.out.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(out));
    return 0;
  }
}
