package dev.tfdiffusion.export;

import dev.tfdiffusion.config.TrainConfig;
import dev.tfdiffusion.diffusion.BetaSchedule;
import dev.tfdiffusion.diffusion.GaussianDiffusion;
import dev.tfdiffusion.diffusion.Guidance;
import dev.tfdiffusion.diffusion.SamplerLoop;
import dev.tfdiffusion.model.Layers;
import dev.tfdiffusion.model.UNet;
import dev.tfdiffusion.model.VariableStore;
import dev.tfdiffusion.model.VariableStore.Param;
import dev.tfdiffusion.sample.Sampler;
import dev.tfdiffusion.sample.Signatures;
import dev.tfdiffusion.checkpoint.CheckpointOps;
import dev.tfdiffusion.train.TrainGraph;
import dev.tfdiffusion.util.SessionOptions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.AssertThat;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TBool;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TType;

/**
 * The trained model for serving: the U-Net's weights as (old-style, exporter-saved) variables restored from a
 * training checkpoint, and the signatures a SavedModel carries (see {@link Signatures}).
 */
public final class InferenceGraph implements AutoCloseable {
  /** The samplers built on DDPM's ancestral step, each with a sample and a trajectory signature. */
  private static final List<Sampler> ANCESTRAL = List.of(Sampler.DDPM, Sampler.TUTORIAL);

  private final Graph graph = new Graph();
  private final Session session;
  private final List<Signature> signatures = new ArrayList<>();
  private final CheckpointOps checkpoint;

  /** A grayscale model's graph with the last step's weights (tests). */
  public InferenceGraph(TrainConfig config, int height, int width) {
    this(config, height, width, 1, SessionOptions.create(false), TrainGraph.MODEL_PREFIX);
  }

  /**
   * @param channels of the images the model was trained on
   * @param weights which checkpoint tensors hold the weights: {@link TrainGraph#MODEL_PREFIX} (the last step's) or
   *     {@link TrainGraph#EMA_PREFIX} (their moving average)
   */
  public InferenceGraph(TrainConfig config, int height, int width, int channels, ConfigProto sessionConfig,
                        String weights) {
    Ops tf = Ops.create(graph);
    UNet net = UNet.of(config, height, width, channels);
    Shape images = Shape.of(-1, height, width, channels);
    GaussianDiffusion trained = GaussianDiffusion.of(config, BetaSchedule.CLIPPED_COSINE);
    GaussianDiffusion linear = GaussianDiffusion.of(config, BetaSchedule.LINEAR);

    // serving_default: eps = model(x, t[, labels])
    Ops s = tf.withSubScope(Signatures.DENOISE);
    Placeholder<TFloat32> x = s.withName("x").placeholder(TFloat32.class, Placeholder.shape(images));
    Placeholder<TInt32> t = s.withName("t").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1)));
    Signature.Builder denoise = Signature.builder(Signatures.DENOISE).methodName("tensorflow/serving/predict")
        .input("x", x).input("t", t);
    Operand<TInt32> labels = net.conditional() ? labels(s, denoise, net) : null;
    VariableStore<TFloat32> store = VariableStore.restoredOnly(tf.withSubScope("model"), TFloat32.class);
    Operand<TFloat32> eps = s.withName("eps").identity(
        net.apply(new Layers<>(tf.withSubScope("model"), TFloat32.class, store), x, t, labels));
    signatures.add(denoise.output("eps", eps).build());
    List<Param<TFloat32>> params = store.params();
    SamplerLoop loop = new SamplerLoop(graph, net::apply, params, images);
    int steps = config.diffusionSteps();

    // sample: DDPM over the trained schedule; sample_tutorial: DDPM over the linear one
    for (Sampler sampler : ANCESTRAL) {
      String key = sampler.signature();
      GaussianDiffusion diffusion = switch (sampler.schedule()) {
        case TRAINED -> trained;
        case LINEAR -> linear;
      };
      Ops k = tf.withSubScope(key);
      Placeholder<TFloat32> noise = k.withName("noise").placeholder(TFloat32.class, Placeholder.shape(images));
      Placeholder<TInt64> seed = k.withName("seed").placeholder(TInt64.class, Placeholder.shape(Shape.scalar()));
      Signature.Builder b = Signature.builder(key).input("noise", noise).input("seed", seed);
      Guidance guidance = guidance(k, b, net);
      Operand<TFloat32> out = loop.build(k, "sampler", diffusion.ddpm(), SamplerLoop.allTimesteps(k, steps), noise,
          seed, null, guidance).images();
      signatures.add(b.output("images", k.withName("images").identity(out)).build());
    }

    // sample_ddim: DDIM over `steps` evenly spaced timesteps T-1 .. 0, with noise scale eta
    Ops d = tf.withSubScope(Signatures.SAMPLE_DDIM);
    Placeholder<TFloat32> ddimNoise = d.withName("noise").placeholder(TFloat32.class, Placeholder.shape(images));
    Placeholder<TInt64> ddimSeed = d.withName("seed").placeholder(TInt64.class, Placeholder.shape(Shape.scalar()));
    Placeholder<TInt32> ddimSteps = d.withName("steps").placeholder(TInt32.class, Placeholder.shape(Shape.scalar()));
    Placeholder<TFloat32> eta = d.withName("eta").placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
    Signature.Builder ddimSignature = Signature.builder(Signatures.SAMPLE_DDIM).input("noise", ddimNoise)
        .input("seed", ddimSeed).input("steps", ddimSteps).input("eta", eta);
    Guidance ddimGuidance = guidance(d, ddimSignature, net);
    Operand<TFloat32> ddim = loop.build(d, "sampler", trained.ddim(eta), SamplerLoop.evenlySpaced(d, ddimSteps, steps),
        ddimNoise, ddimSeed, null, ddimGuidance).images();
    signatures.add(ddimSignature.output("images", d.withName("images").identity(ddim)).build());

    // trajectory: the same sampler, also returning the states entering K evenly spaced timesteps T-1 .. 0
    for (Sampler sampler : ANCESTRAL) {
      String key = sampler.trajectorySignature();
      GaussianDiffusion diffusion = switch (sampler.schedule()) {
        case TRAINED -> trained;
        case LINEAR -> linear;
      };
      Ops k = tf.withSubScope(key);
      Placeholder<TFloat32> noise = k.withName("noise").placeholder(TFloat32.class, Placeholder.shape(images));
      Placeholder<TInt64> seed = k.withName("seed").placeholder(TInt64.class, Placeholder.shape(Shape.scalar()));
      Placeholder<TInt32> frames = k.withName("frames").placeholder(TInt32.class, Placeholder.shape(Shape.scalar()));
      Signature.Builder b = Signature.builder(key).input("noise", noise).input("seed", seed).input("frames", frames);
      Guidance guidance = guidance(k, b, net);
      Operand<TInt32> times = SamplerLoop.evenlySpaced(k, frames, steps);
      SamplerLoop.Outputs out = loop.build(k, "sampler", diffusion.ddpm(), SamplerLoop.allTimesteps(k, steps), noise,
          seed, times, guidance);
      signatures.add(b.output("images", k.withName("images").identity(out.images()))
          .output("states", k.withName("states").identity(out.states()))
          .output("timesteps", k.withName("timesteps").identity(times)).build());
    }

    // forward_noise: x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) noise, noise seeded by (seed, 0)
    Ops fwd = tf.withSubScope(Signatures.FORWARD_NOISE);
    Placeholder<TFloat32> x0 = fwd.withName("x0").placeholder(TFloat32.class, Placeholder.shape(images));
    Placeholder<TInt32> tf0 = fwd.withName("t").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1)));
    Placeholder<TInt64> fseed = fwd.withName("seed").placeholder(TInt64.class, Placeholder.shape(Shape.scalar()));
    Operand<TFloat32> z = fwd.random.statelessRandomNormal(fwd.shape(x0),
        fwd.stack(List.of(fseed, fwd.constant(0L))));
    Operand<TFloat32> xt = trained.qSample(fwd, x0, tf0, z);
    signatures.add(Signature.builder(Signatures.FORWARD_NOISE).input("x0", x0).input("t", tf0).input("seed", fseed)
        .output("x_t", fwd.withName("x_t").identity(xt)).build());

    // restore the weights from a training checkpoint ("<weights><name>" entries)
    Map<String, Variable<? extends TType>> byName = new LinkedHashMap<>();
    params.forEach(p -> byName.put(weights + p.name(), p.variable()));
    checkpoint = new CheckpointOps(tf.withSubScope("restore_checkpoint"), byName, false);

    session = new Session(graph, sessionConfig);
  }

  /**
   * A conditional model's {@code labels} input [N] of signature {@code b}, checked to lie in 0 .. K (K: no class) when
   * it runs, so that a label the model never learnt fails the request instead of silently meaning no class.
   */
  private static Operand<TInt32> labels(Ops k, Signature.Builder b, UNet net) {
    Placeholder<TInt32> labels = k.withName(Signatures.LABELS).placeholder(TInt32.class,
        Placeholder.shape(Shape.of(-1)));
    b.input(Signatures.LABELS, labels);
    Operand<TBool> inRange = k.math.logicalAnd(
        k.reduceAll(k.math.greaterEqual(labels, k.constant(0)), k.constant(0)),
        k.reduceAll(k.math.lessEqual(labels, k.constant(net.noClass())), k.constant(0)));
    AssertThat check = k.assertThat(inRange, List.of(k.constant("labels must lie in 0.." + (net.classes() - 1)
        + " (or " + net.noClass() + " for no class)")));
    return k.withControlDependencies(List.of(check)).withName("checked_labels").identity(labels);
  }

  /** A conditional model's {@code labels} and {@code guidance} inputs of signature {@code b}; null otherwise. */
  private static Guidance guidance(Ops k, Signature.Builder b, UNet net) {
    if (!net.conditional()) {
      return null;
    }
    Operand<TInt32> labels = labels(k, b, net);
    Placeholder<TFloat32> w = k.withName(Signatures.GUIDANCE).placeholder(TFloat32.class,
        Placeholder.shape(Shape.scalar()));
    b.input(Signatures.GUIDANCE, w);
    return new Guidance(labels, w, net.noClass());
  }

  /** Loads the weights of a training checkpoint ({@code <dir>/ckpt}). */
  public void restore(String prefix) {
    checkpoint.restore(session, prefix);
  }

  public List<Signature> signatures() {
    return signatures;
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
