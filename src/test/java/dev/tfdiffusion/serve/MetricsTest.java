package dev.tfdiffusion.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * The metrics page must read as TensorFlow Serving's (util/prometheus_exporter.cc and its test), so TFS dashboards work
 * on it: the expected lines here are spelled out by hand, not computed by the code under test.
 */
class MetricsTest {
  /** TFS's latency bucket limits, Exponential(10, 1.8, 33), as absl prints them (C's %.6g). */
  private static final List<String> LIMITS = List.of(
      "10", "18", "32.4", "58.32", "104.976", "188.957", "340.122", "612.22", "1102", "1983.59", "3570.47", "6426.84",
      "11568.3", "20823", "37481.3", "67466.4", "121440", "218591", "393464", "708235", "1.27482e+06", "2.29468e+06",
      "4.13043e+06", "7.43477e+06", "1.33826e+07", "2.40887e+07", "4.33596e+07", "7.80473e+07", "1.40485e+08",
      "2.52873e+08", "4.55172e+08", "8.19309e+08", "1.47476e+09");

  private static final String TYPE_REQUEST_COUNT = "# TYPE :tensorflow:serving:request_count counter";
  private static final String TYPE_REQUEST_LATENCY = "# TYPE :tensorflow:serving:request_latency histogram";
  private static final String TYPE_RUNTIME_LATENCY = "# TYPE :tensorflow:serving:runtime_latency histogram";
  private static final String TYPE_SIGNATURE_COUNT = "# TYPE :tfdiffusion:serving:request_count counter";

  private final Metrics metrics = new Metrics();

  @Test
  void countsAfterASequenceOfRequests() {
    metrics.recordRequest("digits", "predict", "OK", 1500);
    metrics.recordRequest("digits", "predict", "OK", 900);
    metrics.recordRequest("digits", "predict", "INVALID_ARGUMENT", 300);
    metrics.recordRequest("digits", "", "OK", 50);
    metrics.recordRequest("", "", "NOT_FOUND", 40);
    metrics.recordSignatureRequest("digits", "serving_default", "OK");
    metrics.recordSignatureRequest("digits", "serving_default", "OK");
    metrics.recordSignatureRequest("digits", "sample", "RESOURCE_EXHAUSTED");
    metrics.recordRuntimeLatency("digits", 1200);

    assertEquals(3, metrics.requestCount("digits", "OK"));
    assertEquals(1, metrics.requestCount("digits", "INVALID_ARGUMENT"));
    assertEquals(1, metrics.requestCount("", "NOT_FOUND"));
    assertEquals(0, metrics.requestCount("digits", "NOT_FOUND"));
    assertEquals(2, metrics.requestLatencyCount("digits", "predict"), "latency of OK requests only");
    assertEquals(1, metrics.requestLatencyCount("digits", ""));
    assertEquals(0, metrics.requestLatencyCount("", ""), "a NOT_FOUND request has no latency");
    assertEquals(2, metrics.signatureRequestCount("digits", "serving_default", "OK"));
    assertEquals(1, metrics.signatureRequestCount("digits", "sample", "RESOURCE_EXHAUSTED"));
    assertEquals(0, metrics.signatureRequestCount("digits", "sample", "OK"));
    assertEquals(1, metrics.runtimeLatencyCount("digits"));
  }

  @Test
  void emptyPageHasEveryTypeLineInTfsOrder() {
    String expected = String.join("\n", TYPE_REQUEST_COUNT, TYPE_REQUEST_LATENCY, TYPE_RUNTIME_LATENCY,
        TYPE_SIGNATURE_COUNT) + "\n";
    assertEquals(expected, metrics.prometheusText());
  }

  @Test
  void counterLinesSortedByLabelValues() {
    metrics.recordRequest("digits", "predict", "OK", 10);
    metrics.recordRequest("digits", "predict", "OK", 10);
    metrics.recordRequest("digits", "predict", "DEADLINE_EXCEEDED", 10);
    metrics.recordRequest("Digits", "predict", "OK", 10);
    metrics.recordRequest("", "", "NOT_FOUND", 10);
    metrics.recordSignatureRequest("digits", "serving_default", "OK");
    metrics.recordSignatureRequest("digits", "sample", "INVALID_ARGUMENT");

    List<String> lines = lines(metrics.prometheusText());
    assertEquals(List.of(
        TYPE_REQUEST_COUNT,
        ":tensorflow:serving:request_count{model_name=\"\",status=\"NOT_FOUND\"} 1",
        ":tensorflow:serving:request_count{model_name=\"Digits\",status=\"OK\"} 1",
        ":tensorflow:serving:request_count{model_name=\"digits\",status=\"DEADLINE_EXCEEDED\"} 1",
        ":tensorflow:serving:request_count{model_name=\"digits\",status=\"OK\"} 2"), lines.subList(0, 5));
    assertEquals(List.of(
        TYPE_SIGNATURE_COUNT,
        ":tfdiffusion:serving:request_count{model_name=\"digits\",signature_name=\"sample\","
            + "status=\"INVALID_ARGUMENT\"} 1",
        ":tfdiffusion:serving:request_count{model_name=\"digits\",signature_name=\"serving_default\","
            + "status=\"OK\"} 1"), lines.subList(lines.size() - 3, lines.size()));
  }

  @Test
  void histogramLinesAsTfsPrintsThem() {
    for (long micros : new long[] {7, 10, 100, 250, 2_000_000}) {
      metrics.recordRequest("digits", "predict", "OK", micros);
    }
    String p = ":tensorflow:serving:request_latency_bucket{model_name=\"digits\",API=\"predict\",entrypoint=\"REST\",";
    List<String> expected = List.of(
        TYPE_REQUEST_LATENCY,
        p + "le=\"10\"} 1",
        p + "le=\"18\"} 2",
        p + "le=\"32.4\"} 2",
        p + "le=\"58.32\"} 2",
        p + "le=\"104.976\"} 3",
        p + "le=\"188.957\"} 3",
        p + "le=\"340.122\"} 4",
        p + "le=\"612.22\"} 4",
        p + "le=\"1102\"} 4",
        p + "le=\"1983.59\"} 4",
        p + "le=\"3570.47\"} 4",
        p + "le=\"6426.84\"} 4",
        p + "le=\"11568.3\"} 4",
        p + "le=\"20823\"} 4",
        p + "le=\"37481.3\"} 4",
        p + "le=\"67466.4\"} 4",
        p + "le=\"121440\"} 4",
        p + "le=\"218591\"} 4",
        p + "le=\"393464\"} 4",
        p + "le=\"708235\"} 4",
        p + "le=\"1.27482e+06\"} 4",
        p + "le=\"2.29468e+06\"} 5",
        p + "le=\"4.13043e+06\"} 5",
        p + "le=\"7.43477e+06\"} 5",
        p + "le=\"1.33826e+07\"} 5",
        p + "le=\"2.40887e+07\"} 5",
        p + "le=\"4.33596e+07\"} 5",
        p + "le=\"7.80473e+07\"} 5",
        p + "le=\"1.40485e+08\"} 5",
        p + "le=\"2.52873e+08\"} 5",
        p + "le=\"4.55172e+08\"} 5",
        p + "le=\"8.19309e+08\"} 5",
        p + "le=\"1.47476e+09\"} 5",
        p + "le=\"+Inf\"} 5",
        ":tensorflow:serving:request_latency_sum{model_name=\"digits\",API=\"predict\",entrypoint=\"REST\"} "
            + "2.00037e+06",
        ":tensorflow:serving:request_latency_count{model_name=\"digits\",API=\"predict\",entrypoint=\"REST\"} 5");
    List<String> lines = lines(metrics.prometheusText());
    int start = lines.indexOf(TYPE_REQUEST_LATENCY);
    assertEquals(expected, lines.subList(start, start + expected.size()));
    assertEquals(TYPE_RUNTIME_LATENCY, lines.get(start + expected.size()));
  }

  @Test
  void sampleOnABucketLimitCountsInTheNextBucket() {
    // TensorFlow's Histogram::Add takes std::upper_bound, so a bucket holds [previous limit, limit).
    metrics.recordRuntimeLatency("m", 9);
    metrics.recordRuntimeLatency("m", 10);
    metrics.recordRuntimeLatency("m", 18);
    metrics.recordRuntimeLatency("m", 0);
    metrics.recordRuntimeLatency("m", Long.MAX_VALUE / 4);
    List<String> lines = lines(metrics.prometheusText());
    String p = ":tensorflow:serving:runtime_latency_bucket{model_name=\"m\",API=\"Predict\",runtime=\"TF1\",";
    assertTrue(lines.contains(p + "le=\"10\"} 2"), "0 and 9");
    assertTrue(lines.contains(p + "le=\"18\"} 3"), "and 10");
    assertTrue(lines.contains(p + "le=\"32.4\"} 4"), "and 18");
    assertTrue(lines.contains(p + "le=\"1.47476e+09\"} 4"));
    assertTrue(lines.contains(p + "le=\"+Inf\"} 5"), "beyond the last limit");
    assertTrue(lines.contains(":tensorflow:serving:runtime_latency_count{model_name=\"m\",API=\"Predict\","
        + "runtime=\"TF1\"} 5"));
  }

  @Test
  void smallExamplePage() {
    metrics.recordRequest("digits", "predict", "OK", 1500);
    metrics.recordRequest("digits", "predict", "INVALID_ARGUMENT", 300);
    metrics.recordRequest("", "", "NOT_FOUND", 40);
    metrics.recordRuntimeLatency("digits", 1200);
    metrics.recordSignatureRequest("digits", "serving_default", "OK");
    metrics.recordSignatureRequest("digits", "serving_default", "INVALID_ARGUMENT");

    String text = metrics.prometheusText();
    List<String> lines = lines(text);
    String p = ":tensorflow:serving:request_latency_bucket{model_name=\"digits\",API=\"predict\",entrypoint=\"REST\",";
    assertEquals(List.of(
        "# TYPE :tensorflow:serving:request_count counter",
        ":tensorflow:serving:request_count{model_name=\"\",status=\"NOT_FOUND\"} 1",
        ":tensorflow:serving:request_count{model_name=\"digits\",status=\"INVALID_ARGUMENT\"} 1",
        ":tensorflow:serving:request_count{model_name=\"digits\",status=\"OK\"} 1",
        "# TYPE :tensorflow:serving:request_latency histogram",
        p + "le=\"10\"} 0",
        p + "le=\"18\"} 0",
        p + "le=\"32.4\"} 0",
        p + "le=\"58.32\"} 0",
        p + "le=\"104.976\"} 0",
        p + "le=\"188.957\"} 0",
        p + "le=\"340.122\"} 0",
        p + "le=\"612.22\"} 0",
        p + "le=\"1102\"} 0",
        p + "le=\"1983.59\"} 1"), lines.subList(0, 15));

    List<String> expected = new ArrayList<>(lines.subList(0, 5));
    expected.addAll(histogram(":tensorflow:serving:request_latency",
        "model_name=\"digits\",API=\"predict\",entrypoint=\"REST\"", "1500", 9));
    expected.add(TYPE_RUNTIME_LATENCY);
    expected.addAll(histogram(":tensorflow:serving:runtime_latency",
        "model_name=\"digits\",API=\"Predict\",runtime=\"TF1\"", "1200", 9));
    expected.add(TYPE_SIGNATURE_COUNT);
    expected.add(":tfdiffusion:serving:request_count{model_name=\"digits\",signature_name=\"serving_default\","
        + "status=\"INVALID_ARGUMENT\"} 1");
    expected.add(":tfdiffusion:serving:request_count{model_name=\"digits\",signature_name=\"serving_default\","
        + "status=\"OK\"} 1");
    assertEquals(String.join("\n", expected) + "\n", text);
  }

  @Test
  void numbersAsAbslPrintsThem() {
    assertEquals("10", PrometheusText.number(10));
    assertEquals("222", PrometheusText.number(222));
    assertEquals("188.957", PrometheusText.number(10 * 1.8 * 1.8 * 1.8 * 1.8 * 1.8));
    assertEquals("123456", PrometheusText.number(123456));
    assertEquals("1.23457e+06", PrometheusText.number(1234567));
    assertEquals("1.23456e+06", PrometheusText.number(1234565), "an exact tie rounds to even");
    assertEquals("1e+06", PrometheusText.number(999999.5));
    assertEquals("100000", PrometheusText.number(100000.5));
    assertEquals("0.0001", PrometheusText.number(0.0001));
    assertEquals("1e-05", PrometheusText.number(0.00001));
    assertEquals("1.5e-07", PrometheusText.number(1.5e-7));
    assertEquals("1e+100", PrometheusText.number(1e100));
    assertEquals("1.79769e+308", PrometheusText.number(Double.MAX_VALUE));
    assertEquals("-2.5", PrometheusText.number(-2.5));
    assertEquals("0", PrometheusText.number(0));
  }

  @Test
  void labelValuesEscaped() {
    metrics.recordRequest("\"abc\\\"", "", "OK", 1); // TFS's own exporter test case: "abc\"
    metrics.recordRequest("a\nb", "", "OK", 1);
    List<String> lines = lines(metrics.prometheusText());
    assertTrue(lines.contains(":tensorflow:serving:request_count{model_name=\"\\\"abc\\\\\\\"\",status=\"OK\"} 1"),
        lines.toString());
    assertTrue(lines.contains(":tensorflow:serving:request_count{model_name=\"a\\nb\",status=\"OK\"} 1"),
        "a line feed stays inside its line: " + lines);
    for (String line : lines) {
      assertTrue(line.startsWith("# TYPE :") || line.startsWith(":"), line);
    }
  }

  @Test
  void namesSanitisedAsTfs() {
    assertEquals(":tensorflow:serving:request_count", PrometheusText.metricName("/tensorflow/serving/request_count"));
    assertEquals("_0:path:total_count", PrometheusText.metricName("0/path-total_count"));
    assertEquals(":a:b", PrometheusText.metricName("/a\u00e9b"), "one ':' per character, as RE2 matches UTF-8");
    assertEquals("my_name_1", PrometheusText.labelName("my-name+1"));
    assertEquals("_1x", PrometheusText.labelName("1x"));
    assertEquals("API", PrometheusText.labelName("API"));
  }

  @Test
  void seriesInCodePointOrderAsStdMap() {
    String ligature = "\uFB01"; // U+FB01
    String emoji = "\uD83D\uDE00"; // U+1F600: first by UTF-16 units, last by code points and by UTF-8 bytes
    for (String model : List.of(emoji, "b", ligature, "a", "B", "")) {
      metrics.recordRequest(model, "", "OK", 1);
    }
    List<String> counts = lines(metrics.prometheusText()).subList(1, 7);
    List<String> models =
        counts.stream().map(line -> line.substring(line.indexOf('"') + 1, line.indexOf("\","))).toList();
    assertEquals(List.of("", "B", "a", "b", ligature, emoji), models);
  }

  @Test
  void nullLabelValuesRecordedAsEmpty() {
    metrics.recordRequest(null, null, "OK", 5);
    metrics.recordSignatureRequest(null, null, "NOT_FOUND");
    assertEquals(1, metrics.requestCount("", "OK"));
    assertEquals(1, metrics.requestLatencyCount("", ""));
    assertEquals(1, metrics.signatureRequestCount("", "", "NOT_FOUND"));
  }

  @Test
  void concurrentRecordsAreExact() throws Exception {
    int threads = 8;
    int perThread = 20_000;
    ExecutorService pool = Executors.newFixedThreadPool(threads + 1);
    CountDownLatch start = new CountDownLatch(1);
    AtomicBoolean done = new AtomicBoolean();
    try {
      Future<Integer> scraper = pool.submit(() -> {
        int scrapes = 0;
        while (!done.get()) {
          assertTrue(metrics.prometheusText().endsWith("\n"));
          scrapes++;
        }
        return scrapes;
      });
      List<Future<?>> workers = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        workers.add(pool.submit(() -> {
          start.await();
          for (int i = 0; i < perThread; i++) {
            String model = i % 2 == 0 ? "a" : "b";
            metrics.recordRequest(model, "predict", "OK", i % 50);
            metrics.recordSignatureRequest(model, "serving_default", "OK");
          }
          return null;
        }));
      }
      start.countDown();
      for (Future<?> worker : workers) {
        worker.get(60, TimeUnit.SECONDS);
      }
      done.set(true);
      scraper.get(60, TimeUnit.SECONDS);
    } finally {
      pool.shutdownNow();
    }
    long half = (long) threads * perThread / 2;
    assertEquals(half, metrics.requestCount("a", "OK"));
    assertEquals(half, metrics.requestCount("b", "OK"));
    assertEquals(half, metrics.signatureRequestCount("b", "serving_default", "OK"));
    assertEquals(half, metrics.requestLatencyCount("a", "predict"));
    List<String> lines = lines(metrics.prometheusText());
    String labels = "{model_name=\"a\",API=\"predict\",entrypoint=\"REST\"";
    // model "a" gets the even samples 0, 2 ... 48, each 80000 / 25 = 3200 times: sum 3200 * 600 = 1920000
    assertTrue(lines.contains(":tensorflow:serving:request_latency_bucket" + labels + ",le=\"+Inf\"} 80000"));
    assertTrue(lines.contains(":tensorflow:serving:request_latency_count" + labels + "} 80000"));
    assertTrue(lines.contains(":tensorflow:serving:request_latency_sum" + labels + "} 1.92e+06"));
    assertTrue(lines.contains(":tensorflow:serving:request_latency_bucket" + labels + ",le=\"10\"} 16000"),
        "0, 2, 4, 6, 8");
  }

  /** The lines of a histogram series holding one sample, in bucket {@code sampleBucket}, printed as {@code sum}. */
  private static List<String> histogram(String metric, String labels, String sum, int sampleBucket) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < LIMITS.size(); i++) {
      out.add(metric + "_bucket{" + labels + ",le=\"" + LIMITS.get(i) + "\"} " + (i >= sampleBucket ? 1 : 0));
    }
    out.add(metric + "_bucket{" + labels + ",le=\"+Inf\"} 1");
    out.add(metric + "_sum{" + labels + "} " + sum);
    out.add(metric + "_count{" + labels + "} 1");
    return out;
  }

  private static List<String> lines(String text) {
    assertTrue(text.endsWith("\n"), "the page ends with a line feed");
    return Arrays.asList(text.substring(0, text.length() - 1).split("\n", -1));
  }
}
