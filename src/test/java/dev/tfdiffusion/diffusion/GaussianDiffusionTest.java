package dev.tfdiffusion.diffusion;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tfdiffusion.Golden;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The host-side tables of both schedules against the tutorial's float64 tables (shared/reference/schedules.csv). */
class GaussianDiffusionTest {
  private static final List<Map<String, String>> GOLDEN = Golden.table("schedules.csv");

  private static void assertClose(double expected, double actual, String what) {
    assertEquals(expected, actual, 1e-14 * Math.max(1.0, Math.abs(expected)), what);
  }

  @Test
  void clippedCosineScheduleMatchesTheTutorial() {
    GaussianDiffusion s = new GaussianDiffusion(BetaSchedule.CLIPPED_COSINE, 1000, 1e-4, 0.02);
    assertEquals(1001, s.length());
    assertEquals(1001, GOLDEN.size());
    for (Map<String, String> row : GOLDEN) {
      int t = Integer.parseInt(row.get("t"));
      assertClose(Double.parseDouble(row.get("cosine_beta")), s.beta(t), "beta[" + t + "]");
      assertClose(Double.parseDouble(row.get("cosine_alpha_cumulative")), s.alphaCumulative(t), "abar[" + t + "]");
      assertClose(Double.parseDouble(row.get("cosine_sqrt_alpha_cumulative")), s.sqrtAlphaCumulative(t),
          "sqrt abar[" + t + "]");
      assertClose(Double.parseDouble(row.get("cosine_sqrt_one_minus_alpha_cumulative")),
          s.sqrtOneMinusAlphaCumulative(t), "sqrt(1 - abar)[" + t + "]");
    }
    // the quirk reproduced: the first beta is repeated, and the clip bounds are hit at both ends
    assertEquals(s.beta(0), s.beta(1));
    assertEquals(1e-4, s.beta(0));
    assertEquals(0.02, s.beta(1000));
  }

  @Test
  void linearSamplerScheduleMatchesTheTutorial() {
    GaussianDiffusion s = new GaussianDiffusion(BetaSchedule.LINEAR, 1000, 1e-4, 0.02);
    assertEquals(1000, s.length());
    for (Map<String, String> row : GOLDEN) {
      int t = Integer.parseInt(row.get("t"));
      if (t == 1000) {
        assertEquals("", row.get("linear_beta"));
        continue;
      }
      assertClose(Double.parseDouble(row.get("linear_beta")), s.beta(t), "linear beta[" + t + "]");
      assertClose(Double.parseDouble(row.get("linear_alpha_cumulative")), s.alphaCumulative(t),
          "linear abar[" + t + "]");
    }
  }
}
