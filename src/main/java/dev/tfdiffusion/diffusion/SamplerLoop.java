package dev.tfdiffusion.diffusion;

import dev.tfdiffusion.model.Layers;
import dev.tfdiffusion.model.Init;
import dev.tfdiffusion.model.NamedWeights;
import dev.tfdiffusion.model.WeightSource;
import dev.tfdiffusion.model.VariableStore.Param;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.ConcreteFunction;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.OperationBuilder;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Operands;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.StatelessWhile;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TType;

/**
 * A sampler as ONE in-graph While loop (the counterpart of the tutorial's {@code lax.scan}) around a
 * {@link ReverseStep}:
 *
 * <pre>
 *   for t in times (descending):   x = step(x, t, t_prev, model(x, t), z_t),   z_t ~ N(0, 1) seeded by (seed, t)
 * </pre>
 *
 * A While body is a separate function that cannot read the graph's variables, so every weight (and every input of the
 * step) is a loop variable passed through unchanged; so is every tensor the network derives from its weights alone,
 * computed once before the loop. Optionally the loop also records the state entering chosen timesteps (a trajectory).
 */
public final class SamplerLoop {
  // the loop variables every loop has, in order
  private static final int COUNTER = 0;
  private static final int X = 1;
  private static final int SEED = 2;
  private static final int TIMES = 3;
  private static final int HEAD = 4;

  /**
   * Where the variables after the head sit: a trajectory's two first when the loop records one, then guidance's
   * labels and weight when the loop guides, then the step's inputs, the weights and the tensors derived from them.
   */
  private record Slots(boolean recording, int states, int recordAt, boolean guided, int labels, int guidance,
                       int stepInputs, int weights, int derived) {
    static Slots of(boolean recording, boolean guided, int stepInputs, int weights) {
      int next = recording ? HEAD + 2 : HEAD;
      int guide = next;
      next += guided ? 2 : 0;
      return new Slots(recording, HEAD, HEAD + 1, guided, guide, guide + 1, next, next + stepInputs,
          next + stepInputs + weights);
    }
  }

  /**
   * The noise prediction eps_hat = model(x, t, c) for a batch x, its timesteps t ([N]) and class labels c ([N], null
   * for an unconditional model); the U-Net's apply.
   */
  @FunctionalInterface
  public interface Denoiser {
    Operand<TFloat32> apply(Layers<TFloat32> l, Operand<TFloat32> x, Operand<TInt32> t, Operand<TInt32> labels);
  }

  private final Graph graph;
  private final Denoiser net;
  private final List<Param<TFloat32>> params;
  private final Shape imageShape;
  /** The tensors the network derives from its weights alone, by weight name, built once outside every loop. */
  private Map<String, Operand<TFloat32>> derived;
  private int built;

  /** @param params the weights {@code net} reads (by name, through its {@link Layers}) */
  public SamplerLoop(Graph graph, Denoiser net, List<Param<TFloat32>> params, Shape imageShape) {
    this.graph = graph;
    this.net = net;
    this.params = params;
    this.imageShape = imageShape;
  }

  /** The outputs of one sampler loop; {@code states} is null unless the loop records a trajectory. */
  public record Outputs(Operand<TFloat32> images, Operand<TFloat32> states) {}

  /**
   * @param times the timesteps to visit, descending ([S] int32)
   * @param recordAt when non-null, the loop also returns the state entering each of these timesteps, as
   *     {@code [K, N, H, W, C]}
   */
  public Outputs build(Ops tf, String name, ReverseStep step, Operand<TInt32> times, Operand<TFloat32> noise,
                       Operand<TInt64> seed, Operand<TInt32> recordAt) {
    return build(tf, name, step, times, noise, seed, recordAt, null);
  }

  /** As above, each prediction guided towards the labels of {@code guidance} (null: an unconditional model). */
  public Outputs build(Ops tf, String name, ReverseStep step, Operand<TInt32> times, Operand<TFloat32> noise,
                       Operand<TInt64> seed, Operand<TInt32> recordAt, Guidance guidance) {
    Map<String, Operand<TFloat32>> derived = derived(tf);
    Slots slots = Slots.of(recordAt != null, guidance != null, step.inputs().size(), params.size());
    String prefix = name + "_" + (built++);
    ConcreteFunction cond = ConcreteFunction.create(f -> {
      List<Placeholder<?>> args = arguments(f, slots, step, derived);
      return withInputs(Signature.builder(prefix + "_cond"), args)
          .output("go", f.math.less(cast(args.get(COUNTER)), f.size(cast(args.get(TIMES))))).build();
    });
    ConcreteFunction body = ConcreteFunction.create(f -> {
      List<Placeholder<?>> args = arguments(f, slots, step, derived);
      Operand<TInt32> i = cast(args.get(COUNTER));
      Operand<TFloat32> x = cast(args.get(X));
      Operand<TInt64> s = cast(args.get(SEED));
      Operand<TInt32> ts = cast(args.get(TIMES));
      Operand<TInt32> axis = f.constant(0);
      Operand<TInt32> t = f.gather(ts, i, axis);
      Operand<TInt32> next = f.math.add(i, f.constant(1));
      Operand<TInt32> last = f.math.sub(f.size(ts), f.constant(1));
      Operand<TInt32> tPrev = f.select(f.math.less(next, f.size(ts)),
          f.gather(ts, f.math.minimum(next, last), axis), f.constant(-1));

      Operand<TInt32> shape = f.shape(x);
      NamedWeights<TFloat32> weights = weights(args, slots, derived.keySet());
      Operand<TFloat32> eps = slots.guided()
          ? guidedEpsHat(f, x, t, cast(args.get(slots.labels())), cast(args.get(slots.guidance())),
              guidance.noClass(), weights)
          : epsHat(f, x, t, shape, null, weights);
      Operand<TFloat32> z = f.random.statelessRandomNormal(shape, f.stack(List.of(s, f.dtypes.cast(t, TInt64.class))));
      List<Operand<?>> stepInputs = new ArrayList<>(args.subList(slots.stepInputs(), slots.weights()));
      Operand<TFloat32> xPrev = f.ensureShape(step.apply(f, stepInputs, x, t, tPrev, eps, z), imageShape);

      Signature.Builder out = withInputs(Signature.builder(prefix + "_body"), args);
      out.output(key(COUNTER), next);
      out.output(key(X), xPrev);
      out.output(key(SEED), f.identity(s));
      out.output(key(TIMES), f.identity(ts));
      if (slots.recording()) {
        out.output(key(slots.states()), record(f, cast(args.get(slots.states())), cast(args.get(slots.recordAt())),
            t, x));
        out.output(key(slots.recordAt()), f.identity(args.get(slots.recordAt())));
      }
      int unchanged = slots.guided() ? slots.labels() : slots.stepInputs();
      for (int k = unchanged; k < args.size(); k++) {
        out.output(key(k), f.identity(args.get(k))); // guidance, the step's inputs and the weights, unchanged
      }
      return out.build();
    });

    Ops l = tf.withSubScope(name);
    List<Operand<?>> init = new ArrayList<>(List.of(l.constant(0), noise, seed, times));
    if (slots.recording()) {
      Operand<TInt32> k = l.reshape(l.size(recordAt), l.constant(new long[] {1}));
      Operand<TInt32> stateShape = l.concat(List.of(k, l.shape(noise)), l.constant(0));
      init.add(l.fill(stateShape, l.constant(0f)));
      init.add(recordAt);
    }
    if (slots.guided()) {
      init.add(guidance.labels());
      init.add(guidance.weight());
    }
    init.addAll(step.inputs());
    params.forEach(p -> init.add(p.read()));
    init.addAll(derived.values());
    graph.attachFunction(cond);
    graph.attachFunction(body);
    GraphOperation loop = loweredWhile(l, init, cond, body);
    return new Outputs(cast(loop.output(X)), slots.recording() ? cast(loop.output(slots.states())) : null);
  }

  /**
   * A {@code StatelessWhile} that TensorFlow lowers to its Switch/Merge control flow before running it, as TF's own
   * graph-mode loops are ({@code _lower_using_switch_merge}; {@code Ops.whileOp} does not set it): the body then runs
   * in the session's executor with the main graph's optimisations (oneDNN fusions) instead of as a function call per
   * iteration, which at 64 images was over half as slow again (README, Performance).
   */
  private static GraphOperation loweredWhile(Ops l, List<Operand<?>> init, ConcreteFunction cond,
                                             ConcreteFunction body) {
    OperationBuilder b = l.scope().opBuilder(StatelessWhile.OP_NAME, "loop");
    b.addInputList(Operands.asOutputs(init));
    b.setAttr("cond", cond);
    b.setAttr("body", body);
    b.setAttr("parallel_iterations", 10L); // TensorFlow's default
    b.setAttr("_lower_using_switch_merge", true);
    return (GraphOperation) b.build();
  }

  /** The recorded states with x stored in the slot of t, when t is one of the timesteps to record at. */
  private static Operand<TFloat32> record(Ops f, Operand<TFloat32> states, Operand<TInt32> recordAt,
                                          Operand<TInt32> t, Operand<TFloat32> x) {
    Operand<TBool> match = f.math.equal(recordAt, t);
    Operand<TBool> hit = f.any(match, f.constant(0));
    Operand<TInt64> slot = f.math.argMax(f.dtypes.cast(match, TInt32.class), f.constant(0));
    Operand<TFloat32> recorded = f.tensorScatterNdUpdate(states, f.reshape(slot, f.constant(new long[] {1, 1})),
        f.expandDims(x, f.constant(0)));
    return f.select(hit, recorded, states);
  }

  /** T-1, T-2, .. 0: every timestep, as DDPM visits them. */
  public static Operand<TInt32> allTimesteps(Ops tf, int steps) {
    return tf.range(tf.constant(steps - 1), tf.constant(-1), tf.constant(-1));
  }

  /** round((T - 1) * (1 - k / (K - 1))) for k = 0 .. K-1: T-1 down to 0 (just T-1 when K = 1). */
  public static Operand<TInt32> evenlySpaced(Ops tf, Operand<TInt32> frames, int steps) {
    Operand<TFloat32> k = tf.dtypes.cast(tf.range(tf.constant(0), frames, tf.constant(1)), TFloat32.class);
    Operand<TFloat32> last = tf.math.maximum(tf.dtypes.cast(tf.math.sub(frames, tf.constant(1)), TFloat32.class),
        tf.constant(1f));
    Operand<TFloat32> t = tf.math.mul(tf.constant((float) (steps - 1)), tf.math.sub(tf.constant(1f),
        tf.math.div(k, last)));
    return tf.dtypes.cast(tf.math.round(t), TInt32.class);
  }

  /** The weights and the tensors derived from them among a body's arguments, by name. */
  private NamedWeights<TFloat32> weights(List<Placeholder<?>> args, Slots slots, Iterable<String> derivedNames) {
    Map<String, Operand<TFloat32>> weights = new LinkedHashMap<>();
    for (int k = 0; k < params.size(); k++) {
      weights.put(params.get(k).name(), cast(args.get(slots.weights() + k)));
    }
    Map<String, Operand<TFloat32>> derived = new LinkedHashMap<>();
    int k = slots.derived();
    for (String name : derivedNames) {
      derived.put(name, cast(args.get(k++)));
    }
    return new NamedWeights<>(weights, derived);
  }

  /** eps_hat = model(x, t, labels) inside a loop body, for a scalar t. */
  private Operand<TFloat32> epsHat(Ops f, Operand<TFloat32> x, Operand<TInt32> t, Operand<TInt32> shape,
                                   Operand<TInt32> labels, NamedWeights<TFloat32> weights) {
    Operand<TInt32> tBatch = f.fill(f.slice(shape, f.constant(new int[] {0}), f.constant(new int[] {1})), t);
    return net.apply(new Layers<>(f.withSubScope("model"), TFloat32.class, weights), x, tBatch, labels);
  }

  /** {@link Guidance}'s eps from one call of the network on the batch doubled. */
  private Operand<TFloat32> guidedEpsHat(Ops f, Operand<TFloat32> x, Operand<TInt32> t, Operand<TInt32> labels,
                                         Operand<TFloat32> w, int noClass, NamedWeights<TFloat32> weights) {
    Guidance.Doubled both = Guidance.doubled(f, x, labels, noClass);
    return Guidance.combine(f, epsHat(f, both.x(), t, f.shape(both.x()), both.labels(), weights), w);
  }

  /**
   * What the network derives from its weights alone, built once in the outer graph and shared by every loop, so that
   * no iteration recomputes it (the small-map convolutions' tap matrices are built from most of the weights: at
   * every iteration that meant reading all of them). Built under the first loop's scope {@code tf}: a fresh scope
   * per derivation on the large training graph made TF Java's graph building markedly slower.
   */
  private Map<String, Operand<TFloat32>> derived(Ops tf) {
    if (derived == null) {
      derived = new LinkedHashMap<>();
      Ops outer = tf.withSubScope("derived_weights");
      Map<String, Param<TFloat32>> byName = new LinkedHashMap<>();
      params.forEach(p -> byName.put(p.name(), p));
      derivations().forEach((name, derive) -> derived.put(name,
          derive.apply(outer, byName.get(name).read())));
    }
    return derived;
  }

  /** The network's {@link WeightSource#derived} tensors, by weight name: found by building it in a scratch graph. */
  private Map<String, WeightSource.Derivation<TFloat32>> derivations() {
    Map<String, WeightSource.Derivation<TFloat32>> found = new LinkedHashMap<>();
    try (Graph scratch = new Graph()) {
      Ops s = Ops.create(scratch);
      Map<String, Operand<TFloat32>> weights = new LinkedHashMap<>();
      params.forEach(p -> weights.put(p.name(), s.placeholder(TFloat32.class, Placeholder.shape(p.shape()))));
      NamedWeights<TFloat32> named = new NamedWeights<>(weights);
      WeightSource<TFloat32> recording = new WeightSource<>() {
        @Override
        public Operand<TFloat32> weight(String name, Shape shape, Init init) {
          return named.weight(name, shape, init);
        }

        @Override
        public Operand<TFloat32> derived(Ops tf, String name, Operand<TFloat32> weight,
                                         Derivation<TFloat32> derive) {
          found.put(name, derive);
          return derive.apply(tf, weight);
        }
      };
      net.apply(new Layers<>(s, TFloat32.class, recording),
          s.placeholder(TFloat32.class, Placeholder.shape(imageShape)),
          s.placeholder(TInt32.class, Placeholder.shape(Shape.of(-1))),
          s.placeholder(TInt32.class, Placeholder.shape(Shape.of(-1))));
    }
    return found;
  }

  /** Loop variable k is named "vNNN" so that the function's (sorted) argument order is the loop order. */
  private static String key(int k) {
    return String.format("v%03d", k);
  }

  /** A body's (or condition's) arguments, one per loop variable, laid out as {@code slots} says. */
  private List<Placeholder<?>> arguments(Ops f, Slots slots, ReverseStep step,
                                        Map<String, Operand<TFloat32>> derived) {
    List<Placeholder<?>> args = new ArrayList<>();
    args.add(f.placeholder(TInt32.class, Placeholder.shape(Shape.scalar()))); // COUNTER
    args.add(f.placeholder(TFloat32.class, Placeholder.shape(imageShape))); // X
    args.add(f.placeholder(TInt64.class, Placeholder.shape(Shape.scalar()))); // SEED
    args.add(f.placeholder(TInt32.class, Placeholder.shape(Shape.of(-1)))); // TIMES
    if (slots.recording()) {
      args.add(f.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, -1, imageShape.get(1),
          imageShape.get(2), imageShape.get(3)))));
      args.add(f.placeholder(TInt32.class, Placeholder.shape(Shape.of(-1))));
    }
    if (slots.guided()) {
      args.add(f.placeholder(TInt32.class, Placeholder.shape(Shape.of(-1)))); // labels
      args.add(f.placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()))); // w
    }
    for (Operand<?> input : step.inputs()) {
      args.add(f.placeholder(input.type(), Placeholder.shape(input.shape())));
    }
    for (Param<TFloat32> p : params) {
      args.add(f.placeholder(TFloat32.class, Placeholder.shape(p.shape())));
    }
    for (Operand<TFloat32> d : derived.values()) {
      args.add(f.placeholder(TFloat32.class, Placeholder.shape(d.shape())));
    }
    return args;
  }

  private static Signature.Builder withInputs(Signature.Builder b, List<Placeholder<?>> args) {
    for (int k = 0; k < args.size(); k++) {
      b.input(key(k), args.get(k));
    }
    return b;
  }

  @SuppressWarnings("unchecked")
  static <T extends TType> Operand<T> cast(Operand<?> o) {
    return (Operand<T>) o;
  }
}
