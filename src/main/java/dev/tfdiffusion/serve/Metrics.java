package dev.tfdiffusion.serve;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * The serve command's metrics, and their page in Prometheus text format as TensorFlow Serving's exporter
 * ({@code util/prometheus_exporter.cc}) writes it, so dashboards and alerts built for TFS work unchanged.
 *
 * <p>Three series are TFS's own, with TFS's names, labels and buckets ({@code servables/tensorflow/util.cc}):
 * <ul>
 *   <li>{@code :tensorflow:serving:request_count{model_name,status}} counter;
 *   <li>{@code :tensorflow:serving:request_latency{model_name,API,entrypoint}} histogram in microseconds;
 *   <li>{@code :tensorflow:serving:runtime_latency{model_name,API,runtime}} histogram in microseconds.
 * </ul>
 * One is ours, under its own prefix so nobody takes it for a TFS series:
 * {@code :tfdiffusion:serving:request_count{model_name,signature_name,status}} counter, because TFS counts requests by
 * model and status only and we also want them by signature. TFS's page also carries many TensorFlow-internal
 * metrics (graph loading, op counts...); this page has only these four.
 *
 * <p>Page order is TFS's: metrics by TensorFlow name ({@code /tensorflow/...} before {@code /tfdiffusion/...}), then
 * each metric's series by label values, first label first, each compared by code point (= UTF-8 byte order, as
 * {@code std::map} orders them). A metric with no series yet still prints its {@code # TYPE} line, as TFS does for
 * its registered metrics.
 *
 * <p>Thread-safe: counters are {@link LongAdder}s, each histogram series locks itself while adding a sample, as
 * TensorFlow's ThreadSafeHistogram does, so a scrape sees buckets, count and sum of the same samples. A {@code null}
 * model, API, signature or status is recorded as {@code ""} (TFS's model name when the URL named none).
 */
public final class Metrics {
  /** The status TFS records request latency for; any other status name only counts the request. */
  public static final String OK = "OK";

  static final String REQUEST_COUNT = "/tensorflow/serving/request_count";
  static final String REQUEST_LATENCY = "/tensorflow/serving/request_latency";
  static final String RUNTIME_LATENCY = "/tensorflow/serving/runtime_latency";
  static final String SIGNATURE_REQUEST_COUNT = "/tfdiffusion/serving/request_count";

  /** TFS's entrypoint label for requests through the REST server (gRPC ones say "GRPC"). */
  static final String REST = "REST";
  /** TFS's runtime_latency API label for a Predict run, whichever way the request came in. */
  static final String PREDICT_API = "Predict";
  /** TFS's runtime label for a TensorFlow session run (TFRT would be "TFRT"). */
  static final String TF1_RUNTIME = "TF1";

  private final Counter requestCount = new Counter(REQUEST_COUNT, "model_name", "status");
  private final Sampler requestLatency = new Sampler(REQUEST_LATENCY, "model_name", "API", "entrypoint");
  private final Sampler runtimeLatency = new Sampler(RUNTIME_LATENCY, "model_name", "API", "runtime");
  private final Counter signatureRequestCount =
      new Counter(SIGNATURE_REQUEST_COUNT, "model_name", "signature_name", "status");
  private final List<Family> families = byName(requestCount, requestLatency, runtimeLatency, signatureRequestCount);

  /**
   * One finished REST request, recorded as TFS's http_server.cc does at the end of every request: request_count for
   * {@code (modelName, status)} always, and request_latency for {@code (modelName, api, "REST")} only when
   * {@code status} is {@value #OK}: TFS times successful requests only, failed ones are just counted, and a latency
   * page read next to TFS's must mean the same.
   *
   * @param modelName the model the URL named, {@code ""} if none
   * @param api the URL's method as TFS labels it: {@code "predict"}, {@code "classify"}, {@code "regress"}, or
   *     {@code ""} for the GET model status and metadata requests
   * @param status the TensorFlow canonical code name: {@code OK}, {@code INVALID_ARGUMENT}, {@code NOT_FOUND}...
   * @param latencyMicros wall time from receiving the request to writing the response
   */
  public void recordRequest(String modelName, String api, String status, long latencyMicros) {
    if (OK.equals(status)) {
      requestLatency.add(latencyMicros, modelName, api, REST);
    }
    requestCount.increment(modelName, status);
  }

  /**
   * One finished request for a signature, in our own per-signature counter only (TFS has no such series; call
   * {@link #recordRequest} too for TFS's). For requests that name a signature, or fall back to the default one.
   */
  public void recordSignatureRequest(String modelName, String signatureName, String status) {
    signatureRequestCount.increment(modelName, signatureName, status);
  }

  /**
   * The session run of one Predict request alone, without JSON parsing and writing, in TFS's runtime_latency with
   * {@code API="Predict"} and {@code runtime="TF1"}. Call it only when the run succeeded: TFS's predict_util.cc
   * returns on a failed run before recording.
   */
  public void recordRuntimeLatency(String modelName, long latencyMicros) {
    runtimeLatency.add(latencyMicros, modelName, PREDICT_API, TF1_RUNTIME);
  }

  /** How many requests {@link #recordRequest} counted for this model and status. */
  public long requestCount(String modelName, String status) {
    return requestCount.get(modelName, status);
  }

  /** How many requests {@link #recordSignatureRequest} counted for this model, signature and status. */
  public long signatureRequestCount(String modelName, String signatureName, String status) {
    return signatureRequestCount.get(modelName, signatureName, status);
  }

  /** How many request latencies were recorded for this model and API (OK requests only). */
  public long requestLatencyCount(String modelName, String api) {
    return requestLatency.count(modelName, api, REST);
  }

  /** How many runtime latencies were recorded for this model. */
  public long runtimeLatencyCount(String modelName) {
    return runtimeLatency.count(modelName, PREDICT_API, TF1_RUNTIME);
  }

  /**
   * The page TFS serves at {@code /monitoring/prometheus/metrics} (as {@code text/plain}): per metric a
   * {@code # TYPE name counter|histogram} line (no {@code # HELP}), then one line per series; histograms as cumulative
   * {@code _bucket} lines with {@code le} last {@code "+Inf"}, then {@code _sum} and {@code _count}. Lines end with
   * {@code \n}, the last one too.
   */
  public String prometheusText() {
    List<String> lines = new ArrayList<>();
    for (Family family : families) {
      family.appendTo(lines);
    }
    return String.join("\n", lines) + "\n";
  }

  private static List<Family> byName(Family... families) {
    List<Family> sorted = new ArrayList<>(Arrays.asList(families));
    sorted.sort((a, b) -> PrometheusText.CODE_POINT_ORDER.compare(a.name(), b.name()));
    return List.copyOf(sorted);
  }

  /** Label values as a map key; null becomes "", so a caller's missing name cannot make a metric call throw. */
  private static List<String> labelValues(String... values) {
    String[] copy = values.clone();
    for (int i = 0; i < copy.length; i++) {
      copy[i] = copy[i] == null ? "" : copy[i];
    }
    return List.of(copy);
  }

  /** A series snapshot sorted as TFS prints them. */
  private static <V> List<Map.Entry<List<String>, V>> sorted(Map<List<String>, V> cells) {
    List<Map.Entry<List<String>, V>> entries = new ArrayList<>(cells.entrySet());
    entries.sort(Map.Entry.comparingByKey(PrometheusText.LABEL_VALUES_ORDER));
    return entries;
  }

  /** One metric: its TensorFlow name, and how it prints itself onto the page. */
  private interface Family {
    String name();

    void appendTo(List<String> lines);
  }

  /** TensorFlow's {@code monitoring::Counter}: a count per label values. */
  private static final class Counter implements Family {
    private final String name;
    private final List<String> labelNames;
    private final Map<List<String>, LongAdder> cells = new ConcurrentHashMap<>();

    Counter(String name, String... labelNames) {
      this.name = name;
      this.labelNames = List.of(labelNames);
    }

    void increment(String... values) {
      cells.computeIfAbsent(labelValues(values), key -> new LongAdder()).increment();
    }

    long get(String... values) {
      LongAdder cell = cells.get(labelValues(values));
      return cell == null ? 0 : cell.sum();
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public void appendTo(List<String> lines) {
      String metric = PrometheusText.metricName(name);
      lines.add("# TYPE " + metric + " counter");
      for (Map.Entry<List<String>, LongAdder> cell : sorted(cells)) {
        lines.add(metric + "{" + PrometheusText.labels(labelNames, cell.getKey()) + "} " + cell.getValue().sum());
      }
    }
  }

  /** TensorFlow's {@code monitoring::Sampler}: a histogram per label values, all with TFS's latency buckets. */
  private static final class Sampler implements Family {
    private final String name;
    private final List<String> labelNames;
    private final Map<List<String>, Histogram> cells = new ConcurrentHashMap<>();

    Sampler(String name, String... labelNames) {
      this.name = name;
      this.labelNames = List.of(labelNames);
    }

    void add(long sample, String... values) {
      cells.computeIfAbsent(labelValues(values), key -> new Histogram()).add(sample);
    }

    long count(String... values) {
      Histogram cell = cells.get(labelValues(values));
      return cell == null ? 0 : cell.snapshot().count();
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public void appendTo(List<String> lines) {
      String metric = PrometheusText.metricName(name);
      lines.add("# TYPE " + metric + " histogram");
      for (Map.Entry<List<String>, Histogram> cell : sorted(cells)) {
        cell.getValue().snapshot().appendTo(lines, metric, PrometheusText.labels(labelNames, cell.getKey()));
      }
    }
  }

  /**
   * One series of a TFS latency histogram: TensorFlow's {@code Buckets::Exponential(10, 1.8, 33)}, upper limits
   * 10, 18, 32.4 ... 1.47476e+09 µs (about 25 minutes) computed by repeated multiplication as TensorFlow does, plus a
   * last bucket up to {@code DBL_MAX} that the page prints as {@code +Inf}.
   */
  private static final class Histogram {
    private static final double[] LIMITS = exponentialLimits(10, 1.8, 33);

    private final long[] buckets = new long[LIMITS.length];
    /** TensorFlow sums in a double; for whole microseconds a long gives the same value below 2^53 µs (285 years). */
    private long sum;

    synchronized void add(long sample) {
      buckets[bucketOf(sample)]++;
      sum += sample;
    }

    synchronized Snapshot snapshot() {
      return new Snapshot(buckets.clone(), sum);
    }

    /**
     * The first bucket whose limit is above the sample ({@code std::upper_bound}, as TensorFlow's Histogram::Add): a
     * sample equal to a limit counts in the next bucket, so 10 µs is not within {@code le="10"} but within
     * {@code le="18"}.
     */
    private static int bucketOf(long sample) {
      double value = sample;
      int bucket = 0;
      while (bucket < LIMITS.length - 1 && LIMITS[bucket] <= value) {
        bucket++;
      }
      return bucket;
    }

    private static double[] exponentialLimits(double scale, double growthFactor, int count) {
      double[] limits = new double[count + 1];
      double bound = scale;
      for (int i = 0; i < count; i++) {
        limits[i] = bound;
        bound *= growthFactor;
      }
      limits[count] = Double.MAX_VALUE;
      return limits;
    }
  }

  /** A histogram series at one moment: per-bucket (not cumulative) counts, and the sum of the samples. */
  private record Snapshot(long[] buckets, long sum) {
    long count() {
      return Arrays.stream(buckets).sum();
    }

    /** The exporter's SerializeHistogram: cumulative {@code _bucket} lines, then {@code _sum} and {@code _count}. */
    void appendTo(List<String> lines, String metric, String labels) {
      String bucketPrefix = metric + "_bucket{" + labels + (labels.isEmpty() ? "" : ",");
      long cumulative = 0;
      for (int i = 0; i < buckets.length; i++) {
        cumulative += buckets[i];
        String limit = i < buckets.length - 1 ? PrometheusText.number(Histogram.LIMITS[i]) : "+Inf";
        lines.add(bucketPrefix + "le=\"" + limit + "\"} " + cumulative);
      }
      lines.add(metric + "_sum{" + labels + "} " + PrometheusText.number(sum));
      lines.add(metric + "_count{" + labels + "} " + cumulative);
    }
  }
}
