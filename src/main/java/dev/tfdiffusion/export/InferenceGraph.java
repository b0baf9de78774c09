package dev.tfdiffusion.export;

import dev.tfdiffusion.config.TrainConfig;
import dev.tfdiffusion.diffusion.NoiseSchedule;
import dev.tfdiffusion.diffusion.ReverseProcess;
import dev.tfdiffusion.model.Layers;
import dev.tfdiffusion.model.NamedWeights;
import dev.tfdiffusion.model.UNet;
import dev.tfdiffusion.model.VariableStore;
import dev.tfdiffusion.model.VariableStore.Param;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.ConcreteFunction;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Session;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.While;
import org.tensorflow.op.train.Restore;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.TString;
import org.tensorflow.types.family.TType;

/**
 * The trained model for inference: the U-Net's variables (restored from a training checkpoint), the denoiser
 * eps_hat = model(x, t), and the 1000-step ancestral sampler as ONE in-graph While loop (the tutorial's
 * {@code lax.scan}). A While body is a separate function that cannot read graph variables, so the weights enter the
 * loop as loop variables.
 */
public final class InferenceGraph implements AutoCloseable {
  private final Graph graph = new Graph();
  private final Session session;
  private final VariableStore<TFloat32> store;
  private final Placeholder<TFloat32> x;
  private final Placeholder<TInt32> t;
  private final Operand<TFloat32> eps;
  private final Placeholder<TFloat32> noise;
  private final Placeholder<TInt64> seed;
  private final Operand<TFloat32> images;
  private final Placeholder<TString> checkpointPrefix;
  private final Op restore;

  public InferenceGraph(TrainConfig config, int height, int width) {
    Ops tf = Ops.create(graph);
    UNet net = UNet.forImages(config.features(), config.timeEmbedding(), height, width);
    Shape imageShape = Shape.of(-1, height, width, 1);

    x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(imageShape));
    t = tf.withName("t").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1)));
    store = new VariableStore<>(tf.withSubScope("model"), TFloat32.class, config.seed());
    eps = tf.withName("eps").identity(net.apply(new Layers<>(tf.withSubScope("model"), TFloat32.class, store), x, t));
    List<Param<TFloat32>> params = store.params();

    NoiseSchedule schedule = NoiseSchedule.clippedCosine(config.diffusionSteps(), config.betaStart(),
        config.betaEnd());
    noise = tf.withName("noise").placeholder(TFloat32.class, Placeholder.shape(imageShape));
    seed = tf.withName("seed").placeholder(TInt64.class, Placeholder.shape(Shape.scalar()));
    images = tf.withName("images").identity(ancestralSampler(tf, net, params, schedule, config.diffusionSteps(),
        imageShape));

    Ops c = tf.withSubScope("restore");
    checkpointPrefix = c.withName("prefix").placeholder(TString.class, Placeholder.shape(Shape.scalar()));
    String[] names = params.stream().map(p -> "model/" + p.name()).toArray(String[]::new);
    String[] slices = new String[names.length];
    java.util.Arrays.fill(slices, "");
    List<Class<? extends TType>> types = new ArrayList<>();
    params.forEach(p -> types.add(TFloat32.class));
    Restore restored = c.train.restore(checkpointPrefix, c.array(names), c.array(slices), types);
    List<Op> assigns = new ArrayList<>();
    for (int i = 0; i < params.size(); i++) {
      assigns.add(assign(c, params.get(i), restored.tensors().get(i)));
    }
    restore = c.withControlDependencies(assigns).withName("restore_all").noOp();

    session = new Session(graph);
  }

  @SuppressWarnings("unchecked")
  private static Op assign(Ops tf, Param<TFloat32> p, Output<?> value) {
    return tf.assign(p.variable(), (Operand<TFloat32>) value);
  }

  /**
   * for i = T-1 .. 0: x = reverse_step(x, model(x, i), i, z_i), z_i ~ N(0, 1) from a stateless op seeded (seed, i).
   * Loop variables: i, x, seed, then every weight.
   */
  private Operand<TFloat32> ancestralSampler(Ops tf, UNet net, List<Param<TFloat32>> params,
                                             NoiseSchedule schedule, int steps, Shape imageShape) {
    List<String> names = params.stream().map(Param::name).toList();
    List<Shape> shapes = params.stream().map(Param::shape).toList();
    ConcreteFunction cond = ConcreteFunction.create(f -> {
      List<Placeholder<?>> args = loopArguments(f, imageShape, shapes);
      Operand<TInt32> i = cast(args.get(0));
      return withInputs(Signature.builder("sampler_cond"), args)
          .output("go", f.math.greaterEqual(i, f.constant(0))).build();
    });
    ConcreteFunction body = ConcreteFunction.create(f -> {
      List<Placeholder<?>> args = loopArguments(f, imageShape, shapes);
      Operand<TInt32> i = cast(args.get(0));
      Operand<TFloat32> xi = cast(args.get(1));
      Operand<TInt64> s = cast(args.get(2));
      Map<String, Operand<TFloat32>> weights = new LinkedHashMap<>();
      for (int k = 0; k < names.size(); k++) {
        weights.put(names.get(k), cast(args.get(3 + k)));
      }
      Operand<TInt32> batch = f.shape(xi);
      Operand<TInt32> tBatch = f.fill(f.slice(batch, f.constant(new int[] {0}), f.constant(new int[] {1})), i);
      Operand<TFloat32> epsHat = net.apply(new Layers<>(f.withSubScope("model"), TFloat32.class,
          new NamedWeights<>(weights)), xi, tBatch);
      Operand<TFloat32> z = f.random.statelessRandomNormal(batch,
          f.stack(List.of(s, f.dtypes.cast(i, TInt64.class))));
      Operand<TFloat32> next = f.ensureShape(new ReverseProcess(f, schedule).step(f, xi, epsHat, i, z), imageShape);
      Signature.Builder out = withInputs(Signature.builder("sampler_body"), args);
      out.output(key(0), f.math.sub(i, f.constant(1)));
      out.output(key(1), next);
      out.output(key(2), f.identity(s));
      for (int k = 3; k < args.size(); k++) {
        out.output(key(k), f.identity(args.get(k)));
      }
      return out.build();
    });
    List<Operand<?>> init = new ArrayList<>();
    init.add(tf.constant(steps - 1));
    init.add(noise);
    init.add(seed);
    params.forEach(p -> init.add(p.read()));
    While loop = tf.withName("sampler").whileOp(init, cond, body);
    graph.attachFunction(cond);
    graph.attachFunction(body);
    List<Operand<TType>> outs = new ArrayList<>();
    loop.forEach(outs::add);
    return cast(outs.get(1));
  }

  /** Loop variable k is named "vNNN" so that a signature's (sorted) input order is the loop order. */
  private static String key(int k) {
    return String.format("v%03d", k);
  }

  private static List<Placeholder<?>> loopArguments(Ops f, Shape imageShape, List<Shape> weightShapes) {
    List<Placeholder<?>> args = new ArrayList<>();
    args.add(f.placeholder(TInt32.class, Placeholder.shape(Shape.scalar())));
    args.add(f.placeholder(TFloat32.class, Placeholder.shape(imageShape)));
    args.add(f.placeholder(TInt64.class, Placeholder.shape(Shape.scalar())));
    for (Shape s : weightShapes) {
      args.add(f.placeholder(TFloat32.class, Placeholder.shape(s)));
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
  private static <T extends TType> Operand<T> cast(Operand<?> o) {
    return (Operand<T>) o;
  }

  public void restore(String prefix) {
    try (TString p = TString.scalarOf(prefix)) {
      session.runner().feed(checkpointPrefix, p).addTarget(restore).run().close();
    }
  }

  /** Draws samples from pure noise {@code xT} with noise seed {@code seedValue}; returns [N*H*W] values. */
  public float[] sample(float[] xT, int count, int height, int width, long seedValue) {
    try (TFloat32 n = TFloat32.tensorOf(Shape.of(count, height, width, 1),
             org.tensorflow.ndarray.buffer.DataBuffers.of(xT, true, false));
         TInt64 s = TInt64.scalarOf(seedValue);
         org.tensorflow.Result r = session.runner().feed(noise, n).feed(seed, s).fetch(images).run()) {
      TFloat32 out = (TFloat32) r.get(0);
      float[] values = new float[(int) out.size()];
      out.copyTo(org.tensorflow.ndarray.buffer.DataBuffers.of(values, false, false));
      return values;
    }
  }

  public Session session() {
    return session;
  }

  @Override
  public void close() {
    session.close();
    graph.close();
  }
}
