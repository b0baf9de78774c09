package dev.tfdiffusion.diffusion;

import dev.tfdiffusion.model.Layers;
import dev.tfdiffusion.model.NamedWeights;
import dev.tfdiffusion.model.UNet;
import dev.tfdiffusion.model.VariableStore.Param;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.ConcreteFunction;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TType;

/**
 * The ancestral sampler as ONE in-graph While loop (the counterpart of the tutorial's {@code lax.scan}):
 *
 * <pre>
 *   for i = T-1 .. 0:   x = reverse_step(x, model(x, i), i, z_i),   z_i ~ N(0, 1) seeded by (seed, i)
 * </pre>
 *
 * A While body is a separate function that cannot read the graph's variables, so every weight is a loop variable
 * passed through unchanged. Optionally the loop also records the state entering chosen timesteps (a trajectory).
 */
public final class SamplerLoop {
  private static final int I = 0;
  private static final int X = 1;
  private static final int SEED = 2;
  private static final int STATES = 3;
  private static final int TIMES = 4;

  private final Graph graph;
  private final UNet net;
  private final List<Param<TFloat32>> params;
  private final Shape imageShape;
  private int built;

  public SamplerLoop(Graph graph, UNet net, List<Param<TFloat32>> params, Shape imageShape) {
    this.graph = graph;
    this.net = net;
    this.params = params;
    this.imageShape = imageShape;
  }

  /** The outputs of one sampler loop. */
  public record Outputs(Operand<TFloat32> images, Operand<TFloat32> states) {}

  /**
   * @param timesteps when non-null, the loop also returns the state entering each of these timesteps, as
   *     {@code [K, N, H, W, 1]}
   */
  public Outputs build(Ops tf, String name, NoiseSchedule schedule, int steps, Operand<TFloat32> noise,
                Operand<TInt64> seed, Operand<TInt32> timesteps) {
    boolean trajectory = timesteps != null;
    int fixed = trajectory ? 5 : 3;
    String prefix = name + "_" + (built++);
    ConcreteFunction cond = ConcreteFunction.create(f -> {
      List<Placeholder<?>> args = arguments(f, trajectory);
      Operand<TInt32> i = cast(args.get(I));
      return withInputs(Signature.builder(prefix + "_cond"), args)
          .output("go", f.math.greaterEqual(i, f.constant(0))).build();
    });
    ConcreteFunction body = ConcreteFunction.create(f -> {
      List<Placeholder<?>> args = arguments(f, trajectory);
      Operand<TInt32> i = cast(args.get(I));
      Operand<TFloat32> x = cast(args.get(X));
      Operand<TInt64> s = cast(args.get(SEED));
      Operand<TInt32> shape = f.shape(x);
      Operand<TFloat32> epsHat = epsHat(f, x, i, shape, weights(args, fixed));
      Operand<TFloat32> z = f.random.statelessRandomNormal(shape, f.stack(List.of(s, f.dtypes.cast(i, TInt64.class))));
      Operand<TFloat32> next = f.ensureShape(new ReverseProcess(f, schedule).step(f, x, epsHat, i, z), imageShape);

      Signature.Builder out = withInputs(Signature.builder(prefix + "_body"), args);
      out.output(key(I), f.math.sub(i, f.constant(1)));
      out.output(key(X), next);
      out.output(key(SEED), f.identity(s));
      if (trajectory) {
        Operand<TFloat32> states = cast(args.get(STATES));
        Operand<TInt32> times = cast(args.get(TIMES));
        Operand<TBool> match = f.math.equal(times, i);
        Operand<TBool> hit = f.any(match, f.constant(0));
        Operand<TInt64> slot = f.math.argMax(f.dtypes.cast(match, TInt32.class), f.constant(0));
        Operand<TFloat32> recorded = f.tensorScatterNdUpdate(states, f.reshape(slot, f.constant(new long[] {1, 1})),
            f.expandDims(x, f.constant(0)));
        out.output(key(STATES), f.select(hit, recorded, states));
        out.output(key(TIMES), f.identity(times));
      }
      return passWeights(out, f, args, fixed).build();
    });

    Ops l = tf.withSubScope(name);
    List<Operand<?>> init = new ArrayList<>();
    init.add(l.constant(steps - 1));
    init.add(noise);
    init.add(seed);
    if (trajectory) {
      Operand<TInt32> k = l.reshape(l.size(timesteps), l.constant(new long[] {1}));
      Operand<TInt32> stateShape = l.concat(List.of(k, l.shape(noise)), l.constant(0));
      init.add(l.fill(stateShape, l.constant(0f)));
      init.add(timesteps);
    }
    List<Operand<TType>> outs = loop(l, init, cond, body);
    return new Outputs(cast(outs.get(X)), trajectory ? cast(outs.get(STATES)) : null);
  }

  /**
   * DDIM (Song et al. 2021) over the timesteps {@code times} (descending), in one While loop: with
   * x0_hat = (x_t - sqrt(1 - abar_t) eps_hat) / sqrt(abar_t) and s the next timestep (abar = 1 after the last),
   *
   * <pre>
   *   sigma = eta sqrt((1 - abar_s) / (1 - abar_t)) sqrt(1 - abar_t / abar_s)
   *   x_s   = sqrt(abar_s) x0_hat + sqrt(1 - abar_s - sigma^2) eps_hat + sigma z,   z seeded by (seed, t)
   * </pre>
   *
   * eta = 0 is deterministic; eta = 1 over all T steps is the DDPM posterior.
   */
  public Operand<TFloat32> buildDdim(Ops tf, String name, NoiseSchedule schedule, Operand<TFloat32> noise,
                              Operand<TInt64> seed, Operand<TInt32> times, Operand<TFloat32> eta) {
    String prefix = name + "_" + (built++);
    int fixed = 5;
    float[] alphaBar = new float[schedule.length()];
    for (int t = 0; t < alphaBar.length; t++) {
      alphaBar[t] = (float) schedule.alphaCumulative(t);
    }
    ConcreteFunction cond = ConcreteFunction.create(f -> {
      List<Placeholder<?>> args = ddimArguments(f);
      Operand<TInt32> i = cast(args.get(I));
      return withInputs(Signature.builder(prefix + "_cond"), args)
          .output("go", f.math.less(i, f.size(cast(args.get(3))))).build();
    });
    ConcreteFunction body = ConcreteFunction.create(f -> {
      List<Placeholder<?>> args = ddimArguments(f);
      Operand<TInt32> i = cast(args.get(I));
      Operand<TFloat32> x = cast(args.get(X));
      Operand<TInt64> s = cast(args.get(SEED));
      Operand<TInt32> ts = cast(args.get(3));
      Operand<TFloat32> etaValue = cast(args.get(4));
      Operand<TInt32> axis = f.constant(0);
      Operand<TInt32> t = f.gather(ts, i, axis);
      Operand<TInt32> next = f.math.add(i, f.constant(1));
      Operand<TFloat32> table = f.constant(alphaBar);
      Operand<TFloat32> abarT = f.gather(table, t, axis);
      // abar of the next timestep, 1 after the last one
      Operand<TInt32> nextIndex = f.math.minimum(next, f.math.sub(f.size(ts), f.constant(1)));
      Operand<TFloat32> abarS = f.select(f.math.less(next, f.size(ts)),
          f.gather(table, f.gather(ts, nextIndex, axis), axis), f.constant(1f));

      Operand<TInt32> shape = f.shape(x);
      Operand<TFloat32> epsHat = epsHat(f, x, t, shape, weights(args, fixed));
      Operand<TFloat32> one = f.constant(1f);
      Operand<TFloat32> x0 = f.math.div(f.math.sub(x, f.math.mul(f.math.sqrt(f.math.sub(one, abarT)), epsHat)),
          f.math.sqrt(abarT));
      Operand<TFloat32> sigma = f.math.mul(etaValue, f.math.mul(
          f.math.sqrt(f.math.div(f.math.sub(one, abarS), f.math.sub(one, abarT))),
          f.math.sqrt(f.math.sub(one, f.math.div(abarT, abarS)))));
      Operand<TFloat32> direction = f.math.sqrt(f.math.maximum(
          f.math.sub(f.math.sub(one, abarS), f.math.square(sigma)), f.constant(0f)));
      Operand<TFloat32> z = f.random.statelessRandomNormal(shape, f.stack(List.of(s, f.dtypes.cast(t, TInt64.class))));
      Operand<TFloat32> xs = f.math.add(f.math.add(f.math.mul(f.math.sqrt(abarS), x0),
          f.math.mul(direction, epsHat)), f.math.mul(sigma, z));

      Signature.Builder out = withInputs(Signature.builder(prefix + "_body"), args);
      out.output(key(I), next);
      out.output(key(X), f.ensureShape(xs, imageShape));
      out.output(key(SEED), f.identity(s));
      out.output(key(3), f.identity(ts));
      out.output(key(4), f.identity(etaValue));
      return passWeights(out, f, args, fixed).build();
    });
    Ops l = tf.withSubScope(name);
    List<Operand<?>> init = new ArrayList<>(List.of(l.constant(0), noise, seed, times, eta));
    return cast(loop(l, init, cond, body).get(X));
  }

  /** DDIM's loop variables: i, x, seed, the timesteps [S], eta, then the weights. */
  private List<Placeholder<?>> ddimArguments(Ops f) {
    List<Placeholder<?>> args = loopHead(f);
    args.add(f.placeholder(TInt32.class, Placeholder.shape(Shape.of(-1))));
    args.add(f.placeholder(TFloat32.class, Placeholder.shape(Shape.scalar())));
    return withWeights(f, args);
  }

  /** A body's last outputs: the weights, passed through unchanged. */
  private static Signature.Builder passWeights(Signature.Builder out, Ops f, List<Placeholder<?>> args, int from) {
    for (int k = from; k < args.size(); k++) {
      out.output(key(k), f.identity(args.get(k)));
    }
    return out;
  }

  /** Attaches the functions and runs the While loop from {@code head} followed by the weights. */
  private List<Operand<TType>> loop(Ops l, List<Operand<?>> head, ConcreteFunction cond, ConcreteFunction body) {
    graph.attachFunction(cond);
    graph.attachFunction(body);
    List<Operand<?>> init = new ArrayList<>(head);
    params.forEach(p -> init.add(p.read()));
    List<Operand<TType>> outs = new ArrayList<>();
    l.withName("loop").whileOp(init, cond, body).forEach(outs::add);
    return outs;
  }

  /** The weights among a body's arguments, by name. */
  private Map<String, Operand<TFloat32>> weights(List<Placeholder<?>> args, int offset) {
    Map<String, Operand<TFloat32>> weights = new LinkedHashMap<>();
    for (int k = 0; k < params.size(); k++) {
      weights.put(params.get(k).name(), cast(args.get(offset + k)));
    }
    return weights;
  }

  /** eps_hat = model(x, t) inside a loop body, for a scalar t. */
  private Operand<TFloat32> epsHat(Ops f, Operand<TFloat32> x, Operand<TInt32> t, Operand<TInt32> shape,
                                   Map<String, Operand<TFloat32>> weights) {
    Operand<TInt32> tBatch = f.fill(f.slice(shape, f.constant(new int[] {0}), f.constant(new int[] {1})), t);
    return net.apply(new Layers<>(f.withSubScope("model"), TFloat32.class, new NamedWeights<>(weights)), x, tBatch);
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

  /** Loop variable k is named "vNNN" so that the function's (sorted) argument order is the loop order. */
  private static String key(int k) {
    return String.format("v%03d", k);
  }

  /** The ancestral loop's variables: i, x, seed, [the recorded states and their timesteps], then the weights. */
  private List<Placeholder<?>> arguments(Ops f, boolean trajectory) {
    List<Placeholder<?>> args = loopHead(f);
    if (trajectory) {
      args.add(f.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, -1, imageShape.get(1),
          imageShape.get(2), imageShape.get(3)))));
      args.add(f.placeholder(TInt32.class, Placeholder.shape(Shape.of(-1))));
    }
    return withWeights(f, args);
  }

  /** Every loop's first variables: the counter i, the images x and the noise seed. */
  private List<Placeholder<?>> loopHead(Ops f) {
    List<Placeholder<?>> args = new ArrayList<>();
    args.add(f.placeholder(TInt32.class, Placeholder.shape(Shape.scalar())));
    args.add(f.placeholder(TFloat32.class, Placeholder.shape(imageShape)));
    args.add(f.placeholder(TInt64.class, Placeholder.shape(Shape.scalar())));
    return args;
  }

  private List<Placeholder<?>> withWeights(Ops f, List<Placeholder<?>> args) {
    for (Param<TFloat32> p : params) {
      args.add(f.placeholder(TFloat32.class, Placeholder.shape(p.shape())));
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
