package dev.tfdiffusion.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfdiffusion.config.Presets;
import dev.tfdiffusion.config.TrainConfig;
import dev.tfdiffusion.data.Images;
import dev.tfdiffusion.data.TrainingData;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/**
 * README: each step's timesteps are t ~ Categorical(w), w = linspace(1, 0.1 (1 - progress), T), progress = step /
 * steps. The graph's own draws, fetched at many steps of three phases of a run (start, middle, end) by feeding the
 * step counter, are compared with that distribution, computed exactly for every fed step: the mean of t within 5
 * standard errors, and a chi-square over 10 bins of 100 timesteps. The draws are stateless functions of (seed, step),
 * so the test is deterministic.
 */
class TimestepDistributionTest {
  private static final int RUN_STEPS = 1000;
  /** Steps fed per phase; each gives one batch of draws. */
  private static final int STEPS_PER_PHASE = 150;
  private static final int BINS = 10;
  /** The 0.999 quantile of chi-square with 9 degrees of freedom. */
  private static final double CHI_SQUARE_9_999 = 27.877;

  /** p_i of Categorical(w) at {@code step}, exactly as README states it. */
  static double[] probabilities(int diffusionSteps, long step, long steps) {
    double progress = (double) step / steps;
    double end = 0.1 * (1 - progress);
    double[] p = new double[diffusionSteps];
    double sum = 0;
    for (int i = 0; i < diffusionSteps; i++) {
      p[i] = 1 + (end - 1) * i / (diffusionSteps - 1); // linspace(1, end, T)
      sum += p[i];
    }
    for (int i = 0; i < diffusionSteps; i++) {
      p[i] /= sum;
    }
    return p;
  }

  @Test
  void drawsFollowTheProgressiveCategorical() {
    TrainConfig config = Presets.quick().with(Map.of("features", 4, "steps", RUN_STEPS, "warmup-steps", 1));
    int n = config.diffusionSteps();
    assertEquals(1000, n);
    Images train = TrainingData.load(config).train();
    try (TrainGraph graph = new TrainGraph(config, train.count(), train.height(), train.width())) {
      Operand<TInt32> timesteps = graph.timesteps();
      Operand<TInt64> stepCounter = graph.graph().operation("global_step").output(0);
      double[] means = new double[3];
      int phase = 0;
      for (int first : new int[] {0, RUN_STEPS / 2 - STEPS_PER_PHASE / 2, RUN_STEPS - STEPS_PER_PHASE}) {
        long draws = 0;
        double sum = 0;
        double expectedSum = 0;
        double variance = 0; // of the sum of all draws: independent draws, each step its own distribution
        long[] observed = new long[BINS];
        double[] expected = new double[BINS];
        for (int step = first; step < first + STEPS_PER_PHASE; step++) {
          int[] t = draw(graph.session(), stepCounter, timesteps, step);
          double[] p = probabilities(n, step, RUN_STEPS);
          double mean = 0;
          double square = 0;
          for (int i = 0; i < n; i++) {
            mean += i * p[i];
            square += (double) i * i * p[i];
            expected[i * BINS / n] += t.length * p[i];
          }
          expectedSum += t.length * mean;
          variance += t.length * (square - mean * mean);
          for (int v : t) {
            assertTrue(v >= 0 && v < n, "timestep " + v + " out of range at step " + step);
            sum += v;
            observed[v * BINS / n]++;
          }
          draws += t.length;
        }
        double standardError = Math.sqrt(variance) / draws;
        double mean = sum / draws;
        double expectedMean = expectedSum / draws;
        double chiSquare = 0;
        for (int b = 0; b < BINS; b++) {
          chiSquare += (observed[b] - expected[b]) * (observed[b] - expected[b]) / expected[b];
        }
        String where = String.format("steps %d..%d of %d (%d draws)", first, first + STEPS_PER_PHASE - 1, RUN_STEPS,
            draws);
        System.out.printf("%s: mean t %.3f, expected %.3f, standard error %.3f (%.2f SE); chi-square %.2f (9 df)%n",
            where, mean, expectedMean, standardError, (mean - expectedMean) / standardError, chiSquare);
        assertTrue(Math.abs(mean - expectedMean) <= 5 * standardError, String.format(
            "%s: mean t %.3f, expected %.3f +- 5 x %.3f", where, mean, expectedMean, standardError));
        assertTrue(chiSquare <= CHI_SQUARE_9_999, String.format("%s: chi-square %.2f > %.2f over %d bins",
            where, chiSquare, CHI_SQUARE_9_999, BINS));
        means[phase++] = mean;
      }
      // the distribution moves towards small t as training progresses (expected means about 361, 349 and 335)
      assertTrue(means[0] > means[1] && means[1] > means[2], java.util.Arrays.toString(means));
    }
  }

  /** The graph's timesteps at {@code step}, without running a training step. */
  private static int[] draw(Session session, Operand<TInt64> stepCounter, Operand<TInt32> timesteps, long step) {
    try (TInt64 s = TInt64.scalarOf(step);
         Result r = session.runner().feed(stepCounter, s).fetch(timesteps).run()) {
      TInt32 t = (TInt32) r.get(0);
      int[] out = new int[(int) t.size()];
      for (int i = 0; i < out.length; i++) {
        out[i] = t.getInt(i);
      }
      return out;
    }
  }
}
