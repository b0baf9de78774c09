package dev.tfdiffusion.diffusion;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * The reverse steps computed in the graph (float32) against float64 host arithmetic written here from the papers'
 * equations: one DDPM and one DDIM step at t = 0, a middle t and T - 1, and whole sampler loops whose denoiser is a
 * known linear function of x and t, so the loop can be replayed on the host step by step (in the spirit of
 * diffusers' scheduler tests: a step at t = 0, mid, T-1, and a full loop with a dummy model).
 */
class ReverseStepGoldenTest {
  private static final Shape SHAPE = Shape.of(2, 8, 8, 1);
  private static final int SIZE = (int) SHAPE.size();
  /** One float32 step: a few roundings of the inputs' size. */
  private static final double STEP_TOLERANCE = 1e-6;
  /** A whole loop: the steps' roundings accumulate. */
  private static final double LOOP_TOLERANCE = 1e-5;

  /** The test's own tables, from the betas alone: alpha_t = 1 - beta_t, abar_t = prod_{s <= t} alpha_s. */
  private record Host(double[] beta, double[] abar) {
    static Host of(BetaSchedule schedule, int steps) {
      double[] beta = schedule.betas(steps, 1e-4, 0.02);
      double[] abar = new double[beta.length];
      double product = 1;
      for (int t = 0; t < beta.length; t++) {
        product *= 1 - beta[t];
        abar[t] = product;
      }
      return new Host(beta, abar);
    }

    /** Ho et al. 2020, Algorithm 2 line 4, sigma_t = sqrt(beta_t), no noise at t = 0. */
    double ddpm(double x, int t, double eps, double z) {
      double mean = (x - beta[t] / Math.sqrt(1 - abar[t]) * eps) / Math.sqrt(1 - beta[t]);
      return t > 0 ? mean + Math.sqrt(beta[t]) * z : mean;
    }

    /**
     * Song et al. 2021, eq. 12 with sigma of eq. 16 times eta; abar_s = 1 for s = -1 (after the last step). The graph
     * reads abar from a float32 table, so abar is rounded to float32 here too: near t = 0, 1 - abar_t cancels, and
     * that one rounding alone moves the step by up to ~3e-6 (relative) from a float64-table step.
     */
    double ddim(double x, int t, int s, double eps, double z, double eta) {
      double at = (float) abar[t];
      double as = s >= 0 ? (float) abar[s] : 1;
      double x0 = (x - Math.sqrt(1 - at) * eps) / Math.sqrt(at);
      double sigma = eta * Math.sqrt((1 - as) / (1 - at)) * Math.sqrt(1 - at / as);
      return Math.sqrt(as) * x0 + Math.sqrt(1 - as - sigma * sigma) * eps + sigma * z;
    }
  }

  @Test
  void oneDdpmStepAtTheEndsAndTheMiddle() {
    for (BetaSchedule schedule : BetaSchedule.values()) {
      GaussianDiffusion diffusion = new GaussianDiffusion(schedule, 1000, 1e-4, 0.02);
      Host host = Host.of(schedule, 1000);
      for (int t : new int[] {0, 500, 999}) {
        float[] x = gaussian(1);
        float[] eps = gaussian(2);
        float[] z = gaussian(3);
        float[] graph = run(tf -> diffusion.ddpmStep(tf, images(tf, x), tf.constant(t), images(tf, eps),
            images(tf, z)));
        double[] expected = new double[SIZE];
        for (int i = 0; i < SIZE; i++) {
          expected[i] = host.ddpm(x[i], t, eps[i], z[i]);
        }
        assertClose(expected, graph, STEP_TOLERANCE, schedule + " DDPM step at t = " + t);
      }
    }
  }

  @Test
  void forwardNoisingAndLossWeightsFollowTheirEquations() {
    GaussianDiffusion diffusion = new GaussianDiffusion(BetaSchedule.CLIPPED_COSINE, 1000, 1e-4, 0.02);
    Host host = Host.of(BetaSchedule.CLIPPED_COSINE, 1000);
    int[] t = {0, 999};
    float[] x0 = gaussian(9);
    float[] noise = gaussian(10);
    float[] xt = run(tf -> diffusion.qSample(tf, images(tf, x0), tf.constant(t), images(tf, noise)));
    float[] w = run(tf -> diffusion.lossWeight(tf, tf.constant(t), TFloat32.class));
    double[] expected = new double[SIZE];
    double[] weights = new double[t.length];
    for (int i = 0; i < SIZE; i++) {
      double abar = host.abar()[t[i / (SIZE / t.length)]];
      expected[i] = Math.sqrt(abar) * x0[i] + Math.sqrt(1 - abar) * noise[i]; // Ho et al. 2020, eq. 4
    }
    for (int b = 0; b < t.length; b++) {
      double snr = Math.sqrt(host.abar()[t[b]]) / Math.sqrt(1 - host.abar()[t[b]]);
      weights[b] = snr / (1 + snr);
      assertEquals(weights[b], diffusion.lossWeight(t[b]), 1e-15, "float64 loss weight at t = " + t[b]);
    }
    assertClose(expected, xt, STEP_TOLERANCE, "q(x_t | x_0) at t = 0 and T-1");
    assertClose(weights, w, STEP_TOLERANCE, "loss weights at t = 0 and T-1");
  }

  @Test
  void oneDdimStepAtTheEndsAndTheMiddle() {
    GaussianDiffusion diffusion = new GaussianDiffusion(BetaSchedule.CLIPPED_COSINE, 1000, 1e-4, 0.02);
    Host host = Host.of(BetaSchedule.CLIPPED_COSINE, 1000);
    int[][] steps = {{0, -1}, {500, 450}, {999, 949}};
    for (int[] ts : steps) {
      for (float eta : new float[] {0f, 0.5f, 1f}) {
        float[] x = gaussian(4);
        float[] eps = gaussian(5);
        float[] z = gaussian(6);
        float[] graph = run(tf -> diffusion.ddimStep(tf, images(tf, x), tf.constant(ts[0]), tf.constant(ts[1]),
            images(tf, eps), images(tf, z), tf.constant(eta)));
        double[] expected = new double[SIZE];
        for (int i = 0; i < SIZE; i++) {
          expected[i] = host.ddim(x[i], ts[0], ts[1], eps[i], z[i], eta);
        }
        assertClose(expected, graph, STEP_TOLERANCE, "DDIM step " + ts[0] + " -> " + ts[1] + ", eta " + eta);
      }
    }
  }

  /** The dummy model: eps_hat = A x + B t, linear in x, and depending on t so that a wrong t shows. */
  private static final float A = 0.5f;
  private static final float B = 1e-3f;

  private static Operand<TFloat32> dummyModel(Ops tf, Operand<TFloat32> x, Operand<TInt32> t) {
    Operand<TFloat32> offset = tf.reshape(tf.math.mul(tf.dtypes.cast(t, TFloat32.class), tf.constant(B)),
        tf.constant(new long[] {-1, 1, 1, 1}));
    return tf.math.add(tf.math.mul(tf.constant(A), x), offset);
  }

  @Test
  void wholeDdpmLoopsWithADummyModelFollowTheHostReplay() {
    int steps = 100;
    long seed = 42;
    for (BetaSchedule schedule : BetaSchedule.values()) {
      GaussianDiffusion diffusion = new GaussianDiffusion(schedule, steps, 1e-4, 0.02);
      Host host = Host.of(schedule, steps);
      float[] noise = gaussian(7);
      int[] record = {99, 66, 33, 0};
      float[][] out = runLoop(tf -> new LoopCall(diffusion.ddpm(), SamplerLoop.allTimesteps(tf, steps),
          tf.constant(record)), noise, seed);

      List<Integer> times = new ArrayList<>();
      for (int t = steps - 1; t >= 0; t--) {
        times.add(t);
      }
      float[][] z = noiseDraws(seed, times);
      double[] x = toDouble(noise);
      double[] recorded = new double[record.length * SIZE];
      for (int k = 0; k < times.size(); k++) {
        int t = times.get(k);
        for (int r = 0; r < record.length; r++) {
          if (record[r] == t) {
            System.arraycopy(x, 0, recorded, r * SIZE, SIZE);
          }
        }
        for (int i = 0; i < SIZE; i++) {
          x[i] = host.ddpm(x[i], t, A * x[i] + B * t, z[k][i]);
        }
      }
      assertClose(x, out[0], LOOP_TOLERANCE, schedule + " DDPM loop, final images");
      assertClose(recorded, out[1], LOOP_TOLERANCE, schedule + " DDPM loop, recorded states");
    }
  }

  @Test
  void wholeDdimLoopsWithADummyModelFollowTheHostReplay() {
    int steps = 100;
    long seed = 43;
    GaussianDiffusion diffusion = new GaussianDiffusion(BetaSchedule.CLIPPED_COSINE, steps, 1e-4, 0.02);
    Host host = Host.of(BetaSchedule.CLIPPED_COSINE, steps);
    for (float eta : new float[] {0f, 1f}) {
      float[] noise = gaussian(8);
      float[][] out = runLoop(tf -> new LoopCall(diffusion.ddim(tf.constant(eta)),
          SamplerLoop.evenlySpaced(tf, tf.constant(10), steps), null), noise, seed);

      List<Integer> times = new ArrayList<>();
      for (int k = 0; k < 10; k++) {
        times.add((int) Math.round((steps - 1) * (1 - k / 9.0))); // 99, 88, .. 0
      }
      float[][] z = noiseDraws(seed, times);
      double[] x = toDouble(noise);
      for (int k = 0; k < times.size(); k++) {
        int t = times.get(k);
        int s = k + 1 < times.size() ? times.get(k + 1) : -1;
        for (int i = 0; i < SIZE; i++) {
          x[i] = host.ddim(x[i], t, s, A * x[i] + B * t, z[k][i], eta);
        }
      }
      assertClose(x, out[0], LOOP_TOLERANCE, "DDIM loop over 10 steps, eta " + eta);
    }
  }

  /** What a test loop runs: a step over timesteps, recording at some (or null). */
  private record LoopCall(ReverseStep step, Operand<TInt32> times, Operand<TInt32> recordAt) {}

  /** Runs a sampler loop with the dummy model from {@code noise}; returns the images and the recorded states. */
  private static float[][] runLoop(java.util.function.Function<Ops, LoopCall> call, float[] noise, long seed) {
    try (Graph g = new Graph(); Session session = new Session(g)) {
      Ops tf = Ops.create(g);
      LoopCall c = call.apply(tf);
      SamplerLoop loop = new SamplerLoop(g, (l, x, t, labels) -> dummyModel(l.tf(), x, t), List.of(),
          Shape.of(-1, 8, 8, 1));
      SamplerLoop.Outputs out = loop.build(tf, "sampler", c.step(), c.times(), images(tf, noise), tf.constant(seed),
          c.recordAt());
      return new float[][] {fetch(session, out.images()), out.states() == null ? null : fetch(session, out.states())};
    }
  }

  /** z_t as the loop draws it: a stateless normal of x's shape seeded by (seed, t). */
  private static float[][] noiseDraws(long seed, List<Integer> times) {
    try (Graph g = new Graph(); Session session = new Session(g)) {
      Ops tf = Ops.create(g);
      List<Operand<TFloat32>> draws = new ArrayList<>();
      for (int t : times) {
        draws.add(tf.random.statelessRandomNormal(tf.constant(new int[] {2, 8, 8, 1}),
            tf.constant(new long[] {seed, t})));
      }
      float[][] out = new float[times.size()][];
      for (int k = 0; k < out.length; k++) {
        out[k] = fetch(session, draws.get(k));
      }
      return out;
    }
  }

  private static float[] run(java.util.function.Function<Ops, Operand<TFloat32>> build) {
    try (Graph g = new Graph(); Session session = new Session(g)) {
      return fetch(session, build.apply(Ops.create(g)));
    }
  }

  private static float[] fetch(Session session, Operand<TFloat32> op) {
    try (Result r = session.runner().fetch(op).run()) {
      TFloat32 t = (TFloat32) r.get(0);
      float[] out = new float[(int) t.size()];
      t.copyTo(DataBuffers.of(out, false, false));
      return out;
    }
  }

  private static Operand<TFloat32> images(Ops tf, float[] values) {
    return tf.constant(SHAPE, DataBuffers.of(values, true, false));
  }

  private static float[] gaussian(long seed) {
    Random rng = new Random(seed);
    float[] out = new float[SIZE];
    for (int i = 0; i < SIZE; i++) {
      out[i] = (float) rng.nextGaussian();
    }
    return out;
  }

  private static double[] toDouble(float[] values) {
    double[] out = new double[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = values[i];
    }
    return out;
  }

  /** |graph - host| <= tolerance * max(1, |host|) everywhere. */
  private static void assertClose(double[] expected, float[] actual, double tolerance, String what) {
    assertEquals(expected.length, actual.length, what);
    double worst = 0;
    for (int i = 0; i < expected.length; i++) {
      double error = Math.abs(actual[i] - expected[i]) / Math.max(1, Math.abs(expected[i]));
      assertTrue(Double.isFinite(expected[i]), what + ": host value " + i);
      worst = Math.max(worst, error);
    }
    System.out.printf("%s: max relative error %.2e%n", what, worst);
    assertTrue(worst <= tolerance, what + ": max relative error " + worst + " > " + tolerance);
  }
}
