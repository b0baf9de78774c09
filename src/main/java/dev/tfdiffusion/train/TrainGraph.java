package dev.tfdiffusion.train;

import dev.tfdiffusion.checkpoint.CheckpointOps;
import dev.tfdiffusion.config.TrainConfig;
import dev.tfdiffusion.data.Images;
import dev.tfdiffusion.diffusion.BetaSchedule;
import dev.tfdiffusion.diffusion.GaussianDiffusion;
import dev.tfdiffusion.diffusion.SamplerLoop;
import dev.tfdiffusion.model.Layers;
import dev.tfdiffusion.model.UNet;
import dev.tfdiffusion.model.VariableStore;
import dev.tfdiffusion.model.VariableStore.Param;
import dev.tfdiffusion.util.SessionOptions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TType;

/**
 * The whole training step as ONE static graph, run once per step: batch and timestep/noise sampling from seeded
 * stateless random ops keyed by the step counter, the U-Net, the loss with its gradient penalty, second-order
 * gradients, clipping, the learning-rate schedule and AdamW, then the step counter's increment. Checkpoint save and
 * restore ops are built with it, before the first run.
 */
public final class TrainGraph implements AutoCloseable {
  /** Positions in the metrics vector each step returns. */
  public static final int LOSS = 0;
  public static final int MAIN = 1;
  public static final int PENALTY = 2;
  public static final int LEARNING_RATE = 3;
  public static final int GRAD_NORM = 4;
  public static final int STEP = 5;
  /** 1 when the loss and the gradient norm are finite, else 0. */
  public static final int FINITE = 6;
  /** The loss's moving average (the tutorial's, decay 0.99) after this step. */
  public static final int EMA_LOSS = 7;
  /** Samples in the TensorBoard grid (4 x 4) and their DDIM steps. */
  private static final int GRID = 4;
  private static final int GRID_DDIM_STEPS = 50;

  // stream ids of the per-step random draws: seed pair = (run seed, step * STREAMS + stream)
  private static final int STREAMS = 4;
  private static final int STREAM_BATCH = 0;
  private static final int STREAM_TIMESTEP = 1;
  private static final int STREAM_NOISE = 2;

  private final Graph graph = new Graph();
  private final Session session;
  private final VariableStore<TFloat32> store;
  private final Map<String, Variable<? extends TType>> saved = new LinkedHashMap<>();
  private final Placeholder<TFloat32> imagesFeed;
  private final Op loadImages;
  private final Op trainStep;
  private final Operand<TFloat64> metrics;
  private final CheckpointOps checkpoint;
  private final Variable<TInt64> globalStep;
  private final Operand<TFloat32> noisy;
  private final Operand<TInt32> timesteps;
  private final Operand<TFloat32> prediction;
  private final List<Param<TFloat32>> trained;
  private final List<Operand<TFloat32>> rawGradients;
  private final Summaries summaries;

  /** Checkpoint names of the weights' moving averages: {@code ema/<weight>}; the weights are {@code model/<weight>}. */
  public static final String EMA_PREFIX = "ema/";
  public static final String MODEL_PREFIX = "model/";

  /** A training graph without TensorBoard summaries (tests, benchmarks). */
  public TrainGraph(TrainConfig config, int trainImages, int height, int width) {
    this(config, trainImages, height, width, SessionOptions.create(false), null);
  }

  /**
   * @param tensorboard where the summary ops write their event files; null builds none (the step then writes
   *     nothing, and {@link #writeSampleGrid()} does nothing)
   */
  public TrainGraph(TrainConfig config, int trainImages, int height, int width, ConfigProto sessionConfig,
                    java.nio.file.Path tensorboard) {
    Ops tf = Ops.create(graph);
    int batch = config.batchSize() == 0 || config.batchSize() >= trainImages ? trainImages : config.batchSize();
    UNet net = UNet.forImages(config.features(), config.timeEmbedding(), height, width);

    // training images stay resident in the graph; loaded once from a feed, never copied again
    Ops data = tf.withSubScope("data");
    Shape imagesShape = Shape.of(trainImages, height, width, 1);
    Variable<TFloat32> images = data.withName("images").variable(imagesShape, TFloat32.class);
    imagesFeed = data.withName("images_feed").placeholder(TFloat32.class, Placeholder.shape(imagesShape));
    loadImages = data.withName("load_images").assign(images, imagesFeed);

    globalStep = tf.withName("global_step").variable(tf.withInitScope().constant(0L));
    Operand<TInt64> step = tf.identity(globalStep);
    Operand<TFloat64> stepF = tf.dtypes.cast(step, TFloat64.class);

    // ---- this step's random draws ----
    Ops r = tf.withSubScope("sample");
    Operand<TFloat32> x0;
    if (batch == trainImages) {
      x0 = r.identity(images); // the tutorial's "epoch": every step sees the whole training set
    } else {
      Operand<TFloat32> keys = r.random.statelessRandomUniform(r.constant(new long[] {trainImages}),
          seed(r, config.seed(), step, STREAM_BATCH));
      x0 = r.gather(images, r.nn.topK(keys, r.constant(batch), TInt32.class).indices(), r.constant(0));
    }
    Operand<TInt32> t = timesteps(r, config, stepF, batch, seed(r, config.seed(), step, STREAM_TIMESTEP));
    Operand<TFloat32> noise = r.random.statelessRandomNormal(r.constant(new long[] {batch, height, width, 1}),
        seed(r, config.seed(), step, STREAM_NOISE));

    // ---- loss and its gradients ----
    store = new VariableStore<>(tf.withSubScope("model"), TFloat32.class, config.seed());
    Layers<TFloat32> layers = new Layers<>(tf.withSubScope("model"), TFloat32.class, store);
    GaussianDiffusion diffusion = GaussianDiffusion.of(config, BetaSchedule.CLIPPED_COSINE);
    DiffusionLoss.Terms<TFloat32> loss = DiffusionLoss.build(layers, net, diffusion, x0, t, noise,
        config.penaltyWeight());
    noisy = loss.noisy();
    timesteps = t;
    prediction = loss.prediction();
    List<Param<TFloat32>> params = store.params();
    // --freeze-blocks: train only what the tutorial's optimizer sees; the blocks keep their initial values
    trained = params.stream().filter(p -> !config.freezeBlocks() || p.trainedByTheTutorial()).toList();
    AdamW adamw = new AdamW(tf, trained, config.adamBeta1(), config.adamBeta2(), config.adamEpsilon(),
        config.weightDecay());
    WeightAverage ema = config.emaDecay() > 0 ? new WeightAverage(tf, trained, config.emaDecay()) : null;
    List<Operand<TFloat32>> reads = trained.stream().map(Param::read).toList();
    List<Operand<TFloat32>> grads = DiffusionLoss.gradients(layers, loss.total(), reads);
    for (int i = 0; i < grads.size(); i++) {
      if (grads.get(i) == null) {
        throw new IllegalStateException("the loss does not depend on " + trained.get(i).name());
      }
    }
    rawGradients = grads;

    // ---- clipping, schedule, AdamW ----
    Ops o = tf.withSubScope("optimize");
    Operand<TFloat32> gradNorm = GradientClipping.globalNorm(o, grads);
    List<Operand<TFloat32>> clipped = GradientClipping.byValue(o, grads, config.clipValue());
    clipped = GradientClipping.byGlobalNorm(o, clipped, GradientClipping.globalNorm(o, clipped), config.clipNorm());
    Operand<TFloat64> lr = new LearningRateSchedule(config.lr(), config.warmupSteps(), config.steps(),
        config.lrFinalFraction()).build(o, stepF);
    // the loss's moving average, in the graph so that TensorBoard and checkpoints carry it
    Variable<TFloat64> lossEma = tf.withName("loss_ema").variable(tf.withInitScope().constant(0.0));
    Operand<TFloat64> lossValue = tf.dtypes.cast(loss.total(), TFloat64.class);
    double d = config.lossEmaDecay();
    Operand<TFloat64> lossEmaNext = tf.select(tf.math.equal(step, tf.constant(0L)), lossValue,
        tf.math.add(tf.math.mul(tf.constant(d), lossEma), tf.math.mul(tf.constant(1 - d), lossValue)));
    metrics = tf.withName("metrics").stack(List.of(
        tf.dtypes.cast(loss.total(), TFloat64.class),
        tf.dtypes.cast(loss.main(), TFloat64.class),
        tf.dtypes.cast(loss.penalty(), TFloat64.class),
        lr,
        tf.dtypes.cast(gradNorm, TFloat64.class),
        stepF,
        tf.dtypes.cast(tf.math.logicalAnd(tf.math.isFinite(loss.total()), tf.math.isFinite(gradNorm)),
            TFloat64.class),
        lossEmaNext));
    // parameters change in place only after every read of them: the clipped gradients (which need all gradients)
    // and the metrics (which need the forward pass)
    List<Op> readsDone = new ArrayList<>();
    clipped.forEach(g -> readsDone.add((Op) g));
    readsDone.add((Op) metrics);
    List<Op> updates = adamw.apply(tf, trained, clipped, o.dtypes.cast(lr, TFloat32.class), stepF, readsDone);
    if (ema != null) {
      updates = ema.apply(tf, trained, updates, stepF);
    }
    updates = new ArrayList<>(updates);
    updates.add(tf.withControlDependencies(List.of((Op) metrics)).assign(lossEma, lossEmaNext));
    Map<String, Operand<TFloat32>> scalars = new LinkedHashMap<>();
    scalars.put("loss", loss.total());
    scalars.put("ema_loss", tf.dtypes.cast(lossEmaNext, TFloat32.class));
    scalars.put("main_loss", loss.main());
    scalars.put("penalty", loss.penalty());
    scalars.put("learning_rate", o.dtypes.cast(lr, TFloat32.class));
    scalars.put("grad_norm", gradNorm);
    summaries = tensorboard == null ? null : new Summaries(tf);
    if (summaries != null) {
      updates.addAll(summaries.scalars(tf, step, scalars));
    }
    trainStep = tf.withControlDependencies(updates).withName("train_step").assignAdd(globalStep, tf.constant(1L));

    // a grid of DDIM samples from fixed noise, with the weights' moving average where there is one
    if (summaries != null && config.sampleEvery() > 0) {
      Ops g = tf.withSubScope("sample_grid");
      List<Param<TFloat32>> weights = new ArrayList<>();
      for (Param<TFloat32> p : params) {
        int i = trained.indexOf(p);
        Operand<TFloat32> read = ema != null && i >= 0 ? g.identity(ema.averages().get(i)) : p.read();
        weights.add(new Param<>(p.name(), p.shape(), p.init(), p.variable(), read, null));
      }
      Operand<TFloat32> gridNoise = g.random.statelessRandomNormal(
          g.constant(new long[] {GRID * GRID, height, width, 1}), g.constant(new long[] {config.seed(), -1}));
      Operand<TFloat32> samples = new SamplerLoop(graph, net::apply, weights, Shape.of(-1, height, width, 1)).build(g,
          "sampler", diffusion.ddim(g.constant(0f)), SamplerLoop.evenlySpaced(g, g.constant(GRID_DDIM_STEPS),
              config.diffusionSteps()), gridNoise, g.constant(config.seed()), null).images();
      summaries.images(tf, step, samples, GRID, height, width);
    }

    // ---- checkpoints: weights, optimizer slots, weight average, step (the random state is a function of seed
    // and step). A frozen weight is its own average.
    for (Param<TFloat32> p : params) {
      saved.put(MODEL_PREFIX + p.name(), p.variable());
    }
    for (int i = 0; i < trained.size(); i++) {
      saved.put("optimizer/" + trained.get(i).name() + "/m", adamw.slots().get(i).m());
      saved.put("optimizer/" + trained.get(i).name() + "/v", adamw.slots().get(i).v());
    }
    if (ema != null) {
      for (Param<TFloat32> p : params) {
        int i = trained.indexOf(p);
        saved.put(EMA_PREFIX + p.name(), i >= 0 ? ema.averages().get(i) : p.variable());
      }
    }
    saved.put("global_step", globalStep);
    saved.put("loss_ema", lossEma);
    checkpoint = new CheckpointOps(tf, saved, true);

    session = new Session(graph, sessionConfig);
    session.initialize();
    if (summaries != null) {
      summaries.open(session, tensorboard.toAbsolutePath().toString());
    }
  }

  /**
   * The tutorial's progressive timestep sampling: t ~ Categorical(w) with w = linspace(1, 0.1 (1 - progress), T),
   * progress = step / steps.
   */
  private static Operand<TInt32> timesteps(Ops r, TrainConfig config, Operand<TFloat64> step, int batch,
                                           Operand<TInt64> seed) {
    int n = config.diffusionSteps();
    Operand<TFloat64> progress = r.math.div(step, r.constant((double) config.steps()));
    Operand<TFloat64> end = r.math.mul(r.constant(0.1), r.math.sub(r.constant(1.0), progress));
    double[] fraction = new double[n];
    for (int i = 0; i < n; i++) {
      fraction[i] = n == 1 ? 0 : (double) i / (n - 1);
    }
    // w_i = 1 + i/(n-1) (end - 1)
    Operand<TFloat64> w = r.math.add(r.constant(1.0), r.math.mul(r.constant(fraction),
        r.math.sub(end, r.constant(1.0))));
    Operand<TFloat32> logits = r.reshape(r.dtypes.cast(r.math.log(w), TFloat32.class), r.constant(new long[] {1, n}));
    Operand<TInt64> draws = r.random.statelessMultinomial(logits, r.constant(batch), seed);
    return r.dtypes.cast(r.reshape(draws, r.constant(new long[] {batch})), TInt32.class);
  }

  private static Operand<TInt64> seed(Ops r, long runSeed, Operand<TInt64> step, int stream) {
    Operand<TInt64> counter = r.math.add(r.math.mul(step, r.constant((long) STREAMS)), r.constant((long) stream));
    return r.stack(List.of(r.constant(runSeed), counter));
  }

  /** Copies the training images into the graph's data variable. Call once, before the first step. */
  public void loadImages(Images train) {
    Shape shape = Shape.of(train.count(), train.height(), train.width(), 1);
    try (TFloat32 t = TFloat32.tensorOf(shape, DataBuffers.of(train.pixels(), true, false))) {
      session.runner().feed(imagesFeed, t).addTarget(loadImages).run().close();
    }
  }

  /** Runs one training step; returns the metrics (see the index constants) of the step just taken. */
  public double[] step() {
    try (Result r = session.runner().addTarget(trainStep).fetch(metrics).run()) {
      TFloat64 m = (TFloat64) r.get(0);
      double[] out = new double[(int) m.size()];
      m.copyTo(DataBuffers.of(out, false, false));
      return out;
    }
  }

  /** Writes all variables, optimizer state and the step counter to {@code prefix}.index/.data-*. */
  public void save(String prefix) {
    checkpoint.save(session, prefix);
  }

  public void restore(String prefix) {
    checkpoint.restore(session, prefix);
  }

  /**
   * eps_hat = model(x, t) as the training graph computes it, by feeding the loss's x_t and t; the batch must have the
   * training batch's size. For checking that exported models compute the same function.
   */
  public float[] denoise(float[] x, int[] t) {
    Shape shape = noisy.shape();
    try (TFloat32 xt = TFloat32.tensorOf(shape, DataBuffers.of(x, true, false));
         TInt32 tt = TInt32.vectorOf(t);
         Result r = session.runner().feed(noisy, xt).feed(timesteps, tt).fetch(prediction).run()) {
      TFloat32 out = (TFloat32) r.get(0);
      float[] values = new float[(int) out.size()];
      out.copyTo(DataBuffers.of(values, false, false));
      return values;
    }
  }

  /** Writes the training graph itself to the TensorBoard files (once per run). */
  public void writeGraphSummary() {
    if (summaries != null) {
      summaries.writeGraph(session, graph.toGraphDef().toByteArray());
    }
  }

  /** Writes the sample grid for the current step (when --sample-every is on). */
  public void writeSampleGrid() {
    if (summaries != null) {
      summaries.writeImages(session);
    }
  }

  public void flushSummaries() {
    if (summaries != null) {
      summaries.flush(session);
    }
  }

  public void closeSummaries() {
    if (summaries != null) {
      summaries.close(session);
    }
  }

  /** Number of updates done so far. */
  public long globalStep() {
    try (Result r = session.runner().fetch(globalStep).run()) {
      return ((TInt64) r.get(0)).getLong();
    }
  }

  /** This step's timesteps t [batch], a function of the seed and the global step (for tests). */
  Operand<TInt32> timesteps() {
    return timesteps;
  }

  /** The loss's gradients before clipping, one per {@link #trainedParams()} entry (for tests). */
  List<Operand<TFloat32>> rawGradients() {
    return rawGradients;
  }

  public List<Param<TFloat32>> params() {
    return store.params();
  }

  /** The parameters the optimizer updates (all of them unless --freeze-blocks). */
  public List<Param<TFloat32>> trainedParams() {
    return trained;
  }

  public Session session() {
    return session;
  }

  public Graph graph() {
    return graph;
  }

  @Override
  public void close() {
    session.close();
    graph.close();
  }
}
