package dev.tfdiffusion.serve;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * {@code clients} concurrent clients sending one kind of request back to back for a fixed time, as a load test of
 * {@code serve}: throughput, latency percentiles of the answered requests, and every status seen (429s are the
 * server's deliberate answer when full, not errors).
 */
public final class LoadTest {
  private LoadTest() {}

  /** One kind of request: a GET when {@code body} is null, else a POST of it. */
  public record Kind(String name, String path, String body) {}

  /** What one phase measured. */
  public record Result(String name, int clients, double seconds, int requests, int ok, Map<Integer, Integer> statuses,
                       double okPerSecond, double p50Ms, double p99Ms) {}

  /** The three kinds of the README's table, for {@code images} images per request and DDIM with 50 steps. */
  public static List<Kind> standardKinds(String model, int images) {
    String x = zeros(images);
    StringBuilder t = new StringBuilder("[");
    for (int i = 0; i < images; i++) {
      t.append(i == 0 ? "" : ",").append(500);
    }
    t.append("]");
    return List.of(
        new Kind("predict_serving_default", "/v1/models/" + model + ":predict",
            "{\"inputs\": {\"x\": " + x + ", \"t\": " + t + "}}"),
        new Kind("predict_sample_ddim_50", "/v1/models/" + model + ":predict",
            "{\"signature_name\": \"sample_ddim\", \"inputs\": {\"noise\": " + x
                + ", \"seed\": 1, \"steps\": 50, \"eta\": 0.0}}"),
        new Kind("samples_png_ddim_50", "/v1/models/" + model + "/samples.png?count=" + images
            + "&seed=1&sampler=ddim&steps=50", null));
  }

  /** n images of 8x8x1 zeros as nested JSON lists. */
  private static String zeros(int n) {
    String row = "[" + String.join(",", Collections.nCopies(8, "[0.0]")) + "]";
    String image = "[" + String.join(",", Collections.nCopies(8, row)) + "]";
    return "[" + String.join(",", Collections.nCopies(n, image)) + "]";
  }

  /** Runs {@code kind} against {@code base} (e.g. http://127.0.0.1:8501) with {@code clients} for {@code time}. */
  public static Result run(String base, Kind kind, int clients, Duration time) throws InterruptedException {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(base + kind.path()))
        .timeout(Duration.ofMinutes(2));
    HttpRequest request = kind.body() == null ? builder.GET().build()
        : builder.POST(HttpRequest.BodyPublishers.ofString(kind.body())).build();
    long end = System.nanoTime() + time.toNanos();
    long start = System.nanoTime();
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    List<Future<List<long[]>>> futures = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      futures.add(pool.submit(() -> {
        List<long[]> seen = new ArrayList<>(); // {status, nanoseconds}
        while (System.nanoTime() < end) {
          long t = System.nanoTime();
          int status;
          try {
            status = http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
          } catch (IOException e) {
            status = -1; // no answer at all
          }
          seen.add(new long[] {status, System.nanoTime() - t});
        }
        return seen;
      }));
    }
    List<Long> okTimes = new ArrayList<>();
    Map<Integer, Integer> statuses = new TreeMap<>();
    int requests = 0;
    try {
      for (Future<List<long[]>> f : futures) {
        for (long[] s : f.get()) {
          requests++;
          statuses.merge((int) s[0], 1, Integer::sum);
          if (s[0] == 200) {
            okTimes.add(s[1]);
          }
        }
      }
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException(e.getCause());
    } finally {
      pool.shutdownNow();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    Collections.sort(okTimes);
    return new Result(kind.name(), clients, round(seconds), requests, okTimes.size(), statuses,
        round(okTimes.size() / seconds), percentileMs(okTimes, 0.5), percentileMs(okTimes, 0.99));
  }

  /** The nearest-rank percentile, in milliseconds; NaN without data. */
  static double percentileMs(List<Long> sortedNanos, double q) {
    if (sortedNanos.isEmpty()) {
      return Double.NaN;
    }
    int rank = (int) Math.ceil(q * sortedNanos.size());
    return round(sortedNanos.get(Math.max(0, rank - 1)) / 1e6);
  }

  private static double round(double v) {
    return Math.round(v * 10) / 10.0;
  }
}
