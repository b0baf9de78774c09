package dev.tfdiffusion.export;

import dev.tfdiffusion.diffusion.NoiseSchedule;
import dev.tfdiffusion.diffusion.ReverseProcess;
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
import org.tensorflow.op.core.While;
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
final class SamplerLoop {
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

  SamplerLoop(Graph graph, UNet net, List<Param<TFloat32>> params, Shape imageShape) {
    this.graph = graph;
    this.net = net;
    this.params = params;
    this.imageShape = imageShape;
  }

  /** The outputs of one sampler loop. */
  record Outputs(Operand<TFloat32> images, Operand<TFloat32> states) {}

  /**
   * @param timesteps when non-null, the loop also returns the state entering each of these timesteps, as
   *     {@code [K, N, H, W, 1]}
   */
  Outputs build(Ops tf, String name, NoiseSchedule schedule, int steps, Operand<TFloat32> noise,
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
      Map<String, Operand<TFloat32>> weights = new LinkedHashMap<>();
      for (int k = 0; k < params.size(); k++) {
        weights.put(params.get(k).name(), cast(args.get(fixed + k)));
      }
      Operand<TInt32> shape = f.shape(x);
      Operand<TInt32> tBatch = f.fill(f.slice(shape, f.constant(new int[] {0}), f.constant(new int[] {1})), i);
      Operand<TFloat32> epsHat = net.apply(new Layers<>(f.withSubScope("model"), TFloat32.class,
          new NamedWeights<>(weights)), x, tBatch);
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
      for (int k = fixed; k < args.size(); k++) {
        out.output(key(k), f.identity(args.get(k)));
      }
      return out.build();
    });
    graph.attachFunction(cond);
    graph.attachFunction(body);

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
    params.forEach(p -> init.add(p.read()));
    While loop = l.withName("loop").whileOp(init, cond, body);
    List<Operand<TType>> outs = new ArrayList<>();
    loop.forEach(outs::add);
    return new Outputs(cast(outs.get(X)), trajectory ? cast(outs.get(STATES)) : null);
  }

  /** Loop variable k is named "vNNN" so that the function's (sorted) argument order is the loop order. */
  private static String key(int k) {
    return String.format("v%03d", k);
  }

  private List<Placeholder<?>> arguments(Ops f, boolean trajectory) {
    List<Placeholder<?>> args = new ArrayList<>();
    args.add(f.placeholder(TInt32.class, Placeholder.shape(Shape.scalar())));
    args.add(f.placeholder(TFloat32.class, Placeholder.shape(imageShape)));
    args.add(f.placeholder(TInt64.class, Placeholder.shape(Shape.scalar())));
    if (trajectory) {
      args.add(f.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, -1, imageShape.get(1),
          imageShape.get(2), imageShape.get(3)))));
      args.add(f.placeholder(TInt32.class, Placeholder.shape(Shape.of(-1))));
    }
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
