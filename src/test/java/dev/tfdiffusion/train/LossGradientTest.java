package dev.tfdiffusion.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfdiffusion.diffusion.BetaSchedule;
import dev.tfdiffusion.diffusion.GaussianDiffusion;
import dev.tfdiffusion.model.Layers;
import dev.tfdiffusion.model.UNet;
import dev.tfdiffusion.model.VariableStore;
import dev.tfdiffusion.model.VariableStore.Param;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.NdArrays;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;

/**
 * The analytic gradients of BOTH loss terms (the penalty needs second-order gradients) against float64 central
 * finite differences, for weights in different blocks of a small U-Net.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LossGradientTest {
  private static final double STEP = 1e-5;
  private static final double TOLERANCE = 1e-6;
  static final List<String> CHECKED = List.of(
      "time_mlp_1/kernel",
      "time_proj3/kernel",
      "down_conv1/conv1/kernel",
      "down_conv2/norm2/scale",
      "attention1/query/kernel",
      "bridge_attention/value/kernel",
      "bridge_down/shortcut/kernel",
      "up_conv2/conv2/kernel",
      "final_norm/bias",
      "final_conv/kernel");

  private Graph graph;
  private Session session;
  private DiffusionLoss.Terms<TFloat64> terms;
  private Map<String, Param<TFloat64>> params;
  private Map<String, Operand<TFloat64>> mainGrads;
  private Map<String, Operand<TFloat64>> penaltyGrads;

  /** Image side: 8 is the digits'; odd sizes exercise SAME-padded pooling and gathered upsampling. */
  int size() {
    return 8;
  }

  int channels() {
    return 1;
  }

  /** Classes of a conditional model; 0 checks an unconditional one. */
  int classes() {
    return 0;
  }

  /** The weights checked: {@link #CHECKED}, and a conditional model's class embedding. */
  private List<String> checked() {
    List<String> names = new ArrayList<>(CHECKED);
    if (classes() > 0) {
      names.add(UNet.CLASS_EMBEDDING + "/embedding");
    }
    return names;
  }

  @BeforeAll
  void build() {
    int size = size();
    graph = new Graph();
    Ops tf = Ops.create(graph);
    VariableStore<TFloat64> store = new VariableStore<>(tf, TFloat64.class, 3);
    Layers<TFloat64> l = new Layers<>(tf, TFloat64.class, store);
    UNet net = new UNet(4, 8, size, size, channels(), classes());
    Random rng = new Random(11);
    int batch = 3;
    double[] x0 = new double[batch * size * size * channels()];
    double[] noise = new double[batch * size * size * channels()];
    for (int i = 0; i < x0.length; i++) {
      x0[i] = rng.nextDouble();
      noise[i] = rng.nextGaussian();
    }
    Shape images = Shape.of(batch, size, size, channels());
    Operand<TFloat64> x = tf.constant(images, DataBuffers.of(x0, true, false));
    Operand<TFloat64> eps = tf.constant(images, DataBuffers.of(noise, true, false));
    Operand<TInt32> t = tf.constant(new int[] {3, 420, 999});
    GaussianDiffusion diffusion = new GaussianDiffusion(BetaSchedule.CLIPPED_COSINE, 1000, 1e-4, 0.02);
    // labels of three classes, the last one "no class" as a dropped label is in training
    Operand<TInt32> labels = classes() > 0 ? tf.constant(new int[] {1, 0, net.noClass()}) : null;
    terms = DiffusionLoss.build(l, net, diffusion, x, t, eps, labels, 0.02);

    params = store.params().stream().collect(Collectors.toMap(Param::name, Function.identity()));
    List<Operand<TFloat64>> reads = new ArrayList<>();
    for (String name : checked()) {
      assertNotNull(params.get(name), "model has no weight " + name);
      reads.add(params.get(name).read());
    }
    List<Operand<TFloat64>> gm = DiffusionLoss.gradients(l, terms.main(), reads);
    List<Operand<TFloat64>> gp = DiffusionLoss.gradients(l, terms.penalty(), reads);
    mainGrads = new java.util.HashMap<>();
    penaltyGrads = new java.util.HashMap<>();
    for (int i = 0; i < checked().size(); i++) {
      mainGrads.put(checked().get(i), gm.get(i));
      penaltyGrads.put(checked().get(i), gp.get(i));
    }
    session = new Session(graph);
    session.initialize();
  }

  @AfterAll
  void close() {
    session.close();
    graph.close();
  }

  private double[] values(Result r, int i) {
    TFloat64 t = (TFloat64) r.get(i);
    double[] out = new double[(int) t.size()];
    t.copyTo(DataBuffers.of(out, false, false));
    return out;
  }

  /**
   * main and penalty with every checked weight fed: the unperturbed values except {@code name}, which gets
   * {@code value}. Feeding the same set every time keeps one compiled signature (each new feed set costs seconds).
   */
  private double[] evaluate(Map<String, double[]> base, String name, double[] value) {
    Session.Runner runner = session.runner();
    List<TFloat64> fed = new ArrayList<>();
    try {
      for (String n : checked()) {
        TFloat64 t = TFloat64.tensorOf(params.get(n).shape(),
            DataBuffers.of(n.equals(name) ? value : base.get(n), true, false));
        fed.add(t);
        runner.feed(params.get(n).read(), t);
      }
      try (Result r = runner.fetch(terms.main()).fetch(terms.penalty()).run()) {
        return new double[] {((TFloat64) r.get(0)).getDouble(), ((TFloat64) r.get(1)).getDouble()};
      }
    } finally {
      fed.forEach(TFloat64::close);
    }
  }

  private void check(int term, Map<String, Operand<TFloat64>> grads) {
    Map<String, double[]> base = new java.util.HashMap<>();
    Map<String, double[]> analyticAll = new java.util.HashMap<>();
    Session.Runner runner = session.runner();
    for (String name : checked()) {
      runner.fetch(params.get(name).read()).fetch(grads.get(name));
    }
    try (Result r = runner.run()) {
      for (int i = 0; i < checked().size(); i++) {
        base.put(checked().get(i), values(r, 2 * i));
        analyticAll.put(checked().get(i), values(r, 2 * i + 1));
      }
    }
    int checkedElements = 0;
    for (String name : checked()) {
      double[] analytic = analyticAll.get(name);
      // the two largest-magnitude entries: a tiny entry's relative error only measures rounding
      for (int k : largest(analytic, 2)) {
        double[] plus = base.get(name).clone();
        double[] minus = base.get(name).clone();
        plus[k] += STEP;
        minus[k] -= STEP;
        double numeric = (evaluate(base, name, plus)[term] - evaluate(base, name, minus)[term]) / (2 * STEP);
        double relative = Math.abs(numeric - analytic[k]) / Math.max(Math.abs(numeric), Math.abs(analytic[k]));
        assertTrue(Math.abs(analytic[k]) > 0, name + "[" + k + "] has a zero gradient");
        assertTrue(relative <= TOLERANCE, String.format("%s term, %s[%d]: analytic %.12e vs numeric %.12e (rel %.2e)",
            term == 0 ? "main" : "penalty", name, k, analytic[k], numeric, relative));
        checkedElements++;
      }
    }
    assertEquals(2 * checked().size(), checkedElements);
  }

  private static int[] largest(double[] v, int n) {
    return java.util.stream.IntStream.range(0, v.length).boxed()
        .sorted((a, b) -> Double.compare(Math.abs(v[b]), Math.abs(v[a])))
        .limit(n).mapToInt(Integer::intValue).toArray();
  }

  @Test
  void mainTermGradientMatchesFiniteDifferences() {
    check(0, mainGrads);
  }

  @Test
  void penaltyTermGradientMatchesFiniteDifferences() {
    check(1, penaltyGrads);
  }
}
