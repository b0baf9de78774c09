package dev.tfdiffusion.evaluate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two evaluations at once on an empty cache: both get the judge, it is trained once, and one valid cache is left. */
class JudgeCacheTest {
  @TempDir
  Path cache;

  @Test
  void concurrentLoadsTrainOnceAndLeaveOneValidCache() throws Exception {
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(log, true);
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      List<Future<Double>> both = pool.invokeAll(List.of(() -> accuracy(out), () -> accuracy(out)));
      double a = both.get(0).get();
      double b = both.get(1).get();
      assertEquals(a, b, 0.0, "both read the same classifier");
      assertTrue(a > 0.9, "held-out accuracy " + a);
    } finally {
      pool.shutdown();
    }
    String printed = log.toString();
    assertEquals(1, printed.split("Training the digit classifier", -1).length - 1, printed);
    try (var entries = Files.list(cache)) {
      assertEquals(List.of("." + Judge.VERSION + ".lock", Judge.VERSION),
          entries.map(p -> p.getFileName().toString()).sorted().toList(), "no temporary folder left");
    }
    assertTrue(Files.isRegularFile(cache.resolve(Judge.VERSION).resolve("judge.json")));
  }

  private double accuracy(PrintStream out) throws Exception {
    try (Judge judge = Judge.load(cache, out)) {
      return judge.heldOutAccuracy();
    }
  }
}
