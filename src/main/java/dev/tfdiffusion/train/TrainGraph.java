package dev.tfdiffusion.train;

import dev.tfdiffusion.checkpoint.CheckpointOps;
import dev.tfdiffusion.config.TrainConfig;
import dev.tfdiffusion.data.Images;
import dev.tfdiffusion.diffusion.BetaSchedule;
import dev.tfdiffusion.diffusion.GaussianDiffusion;
import dev.tfdiffusion.model.Layers;
import dev.tfdiffusion.model.UNet;
import dev.tfdiffusion.model.VariableStore;
import dev.tfdiffusion.model.VariableStore.Param;
import dev.tfdiffusion.util.SessionOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import org.tensorflow.DeviceSpec;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.exceptions.TensorFlowException;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.RunMetadata;
import org.tensorflow.proto.RunOptions;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TType;

/**
 * The whole training step as ONE static graph, run once per step: batch and timestep/noise sampling from seeded
 * stateless random ops keyed by the step counter, the U-Net, the loss with its gradient penalty, second-order
 * gradients, clipping, the learning-rate schedule and AdamW, then the step counter's increment. Checkpoint save and
 * restore ops are built with it, before the first run. The constructor names the parts in order; each part that
 * needs more than a few lines is a helper below or its own class ({@link RandomDraws}, {@link DiffusionLoss},
 * {@link Towers}, {@link AdamW}, {@link WeightAverage}, {@link StepMetrics}, {@link SampleGrid}). It stays one class of
 * about 350 lines because the helpers that remain share its fields, and its public methods (step, save, restore,
 * summaries, test probes) are each a few lines over the one session.
 */
public final class TrainGraph implements AutoCloseable {
  /** Checkpoint names of the weights' moving averages: {@code ema/<weight>}; the weights are {@code model/<weight>}. */
  public static final String EMA_PREFIX = "ema/";
  public static final String MODEL_PREFIX = "model/";

  private final Graph graph = new Graph();
  private final Placement.Remote remote;
  private final Placement.Health health; // null on one process
  private Session session; // replaced after a worker restart
  private final VariableStore<TFloat32> store;
  private final BatchSource batches;
  private final Op trainStep;
  private final Operand<TFloat64> metrics;
  private final CheckpointOps checkpoint;
  private final Variable<TInt64> globalStep;
  private final Variable<TInt64> updatesBegun; // null on one process
  private final Operand<TFloat32> noisy;
  private final Operand<TInt32> timesteps;
  private final Operand<TInt32> drawnLabels; // null for an unconditional model
  private final Operand<TFloat32> prediction;
  private final List<Param<TFloat32>> trained;
  private final List<Operand<TFloat32>> rawGradients;
  private final Summaries summaries;
  private final String tensorboard;

  /** A training graph of grayscale images without TensorBoard summaries (tests, benchmarks). */
  public TrainGraph(TrainConfig config, int trainImages, int height, int width) {
    this(config, new Images.Shape(trainImages, height, width, 1), SessionOptions.create(false), null,
        Placement.SINGLE);
  }

  /**
   * @param data the training images' count, size and channels
   * @param tensorboard where the summary ops write their event files; null builds none (the step then writes
   *     nothing, and {@link #writeSampleGrid()} does nothing)
   * @param placement the devices of data-parallel towers ({@link Towers}; none or one computes the loss and its
   *     gradients inline), where the state lives and whether the session is remote
   */
  public TrainGraph(TrainConfig config, Images.Shape data, ConfigProto sessionConfig,
                    java.nio.file.Path tensorboard, Placement placement) {
    this(config, data, sessionConfig, tensorboard, placement, null);
  }

  /** As above, with the training images on {@code path} (null: {@link BatchSource#pathFor}, as for a run). */
  TrainGraph(TrainConfig config, Images.Shape data, ConfigProto sessionConfig, java.nio.file.Path tensorboard,
             Placement placement, BatchSource.Path path) {
    List<DeviceSpec> towers = placement.towers();
    Ops tf = placement.state() == null ? Ops.create(graph) : Ops.create(graph).withDevice(placement.state());
    int trainImages = data.count();
    int height = data.height();
    int width = data.width();
    int batch = config.batchSize() == 0 || config.batchSize() >= trainImages ? trainImages : config.batchSize();
    UNet net = UNet.of(config, height, width, data.channels());

    globalStep = tf.withName("global_step").variable(tf.withInitScope().constant(0L));
    Operand<TInt64> step = tf.identity(globalStep);
    Operand<TFloat64> stepF = tf.dtypes.cast(step, TFloat64.class);
    batches = new BatchSource(tf, config, data, batch, net.conditional(), path == null
        ? BatchSource.pathFor(data, batch) : path, step);
    RandomDraws draws = RandomDraws.build(tf, config, batches.x0(), batches.labels(), net.noClass(), batch, step,
        stepF);

    // ---- loss and its gradients ----
    store = new VariableStore<>(tf.withSubScope("model"), TFloat32.class, config.seed());
    Layers<TFloat32> layers = new Layers<>(tf.withSubScope("model"), TFloat32.class, store);
    GaussianDiffusion diffusion = GaussianDiffusion.of(config, BetaSchedule.CLIPPED_COSINE);
    DiffusionLoss.Terms<TFloat32> loss;
    Towers.Combined parallel = null;
    if (towers.isEmpty()) {
      loss = DiffusionLoss.build(layers, net, diffusion, draws.x0(), draws.t(), draws.noise(), draws.labels(),
          config.penaltyWeight());
    } else {
      // the weights are created by a forward pass on the default device that never runs; the towers read them
      Ops shapes = tf.withSubScope("weights");
      net.apply(layers, shapes.placeholder(TFloat32.class,
              Placeholder.shape(Shape.of(1, height, width, data.channels()))),
          shapes.placeholder(TInt32.class, Placeholder.shape(Shape.of(1))),
          shapes.placeholder(TInt32.class, Placeholder.shape(Shape.of(1))));
      parallel = Towers.build(graph, tf, net, diffusion, config.penaltyWeight(), store.params(),
          trainable(config, store.params()), draws, towers);
      loss = parallel.terms();
    }
    noisy = loss.noisy();
    timesteps = draws.t();
    drawnLabels = draws.labels();
    prediction = loss.prediction();
    trained = trainable(config, store.params());
    AdamW adamw = new AdamW(tf, trained, config.adamBeta1(), config.adamBeta2(), config.adamEpsilon(),
        config.weightDecay());
    WeightAverage ema = config.emaDecay() > 0 ? new WeightAverage(tf, trained, config.emaDecay()) : null;
    rawGradients = parallel != null ? parallel.gradients() : gradients(layers, loss.total(), trained);

    // ---- clipping, schedule, loss average, metrics, then the updates ----
    Optimization o = optimization(tf.withSubScope("optimize"), config, rawGradients, stepF);
    Variable<TFloat64> lossEma = tf.withName("loss_ema").variable(tf.withInitScope().constant(0.0));
    Operand<TFloat64> lossEmaNext = lossAverage(tf, config, loss.total(), lossEma, step);
    metrics = StepMetrics.pack(tf, loss, o.lr(), o.gradNorm(), stepF, lossEmaNext);
    // on a cluster, the step records that its updates begin: a worker lost after sending its gradients can abort the
    // step with some updates applied and the step counter not yet advanced, and the loop must then tell
    updatesBegun = placement.remote() == null ? null
        : tf.withName("updates_begun").variable(tf.withInitScope().constant(-1L));
    List<Op> readsDone = new ArrayList<>();
    o.clipped().forEach(g -> readsDone.add((Op) g));
    readsDone.add((Op) metrics);
    if (updatesBegun != null) {
      Op begin = tf.withControlDependencies(readsDone).withName("begin_updates").assign(updatesBegun, step);
      readsDone.clear();
      readsDone.add(begin);
    }
    List<Op> updates = updates(tf, adamw, ema, o, stepF, readsDone);
    updates.add(tf.withControlDependencies(readsDone).assign(lossEma, lossEmaNext));

    // ---- summaries, then the step ----
    summaries = tensorboard == null ? null : new Summaries(tf);
    this.tensorboard = tensorboard == null ? null : tensorboard.toAbsolutePath().toString();
    if (summaries != null) {
      updates.addAll(summaries.scalars(tf, step, StepMetrics.scalars(tf, loss, o.lr(), o.gradNorm(), lossEmaNext)));
    }
    updates.addAll(batches.readsOfTheStep());
    trainStep = tf.withControlDependencies(updates).withName("train_step").assignAdd(globalStep, tf.constant(1L));
    if (summaries != null && config.sampleEvery() > 0) {
      Operand<TFloat32> grid = SampleGrid.build(graph, tf.withSubScope("sample_grid"), net, diffusion, config.seed(),
          store.params(), trained, ema == null ? null : ema.averages());
      summaries.images(tf, step, grid, SampleGrid.SIDE, height, width, data.channels());
    }

    checkpoint = new CheckpointOps(tf, checkpointed(adamw, ema, lossEma), true);
    remote = placement.remote();
    health = remote == null ? null : remote.health(tf);
    session = remote == null ? new Session(graph, sessionConfig) : remote.open(graph);
    session.initialize();
    if (summaries != null) {
      summaries.open(session, this.tensorboard);
    }
  }

  /** --freeze-blocks: train only what the tutorial's optimizer sees; the blocks keep their initial values. */
  private static List<Param<TFloat32>> trainable(TrainConfig config, List<Param<TFloat32>> params) {
    return params.stream().filter(p -> !config.freezeBlocks() || p.trainedByTheTutorial()).toList();
  }

  /** d loss / d weight for each trained weight (before clipping); every weight must reach the loss. */
  private static List<Operand<TFloat32>> gradients(Layers<TFloat32> layers, Operand<TFloat32> loss,
                                                   List<Param<TFloat32>> trained) {
    List<Operand<TFloat32>> grads = DiffusionLoss.gradients(layers, loss, trained.stream().map(Param::read).toList());
    for (int i = 0; i < grads.size(); i++) {
      if (grads.get(i) == null) {
        throw new IllegalStateException("the loss does not depend on " + trained.get(i).name());
      }
    }
    return grads;
  }

  /** The raw gradient's global norm, the gradient the optimizer applies, and this step's learning rate. */
  private record Optimization(Operand<TFloat32> gradNorm, List<Operand<TFloat32>> clipped, Operand<TFloat64> lr) {}

  /** The tutorial's clipping (by value, then by global norm) and learning-rate schedule. */
  private static Optimization optimization(Ops o, TrainConfig config, List<Operand<TFloat32>> grads,
                                           Operand<TFloat64> stepF) {
    Operand<TFloat32> gradNorm = GradientClipping.globalNorm(o, grads);
    List<Operand<TFloat32>> clipped = GradientClipping.byValue(o, grads, config.clipValue());
    clipped = GradientClipping.byGlobalNorm(o, clipped, GradientClipping.globalNorm(o, clipped), config.clipNorm());
    Operand<TFloat64> lr = new LearningRateSchedule(config.lr(), config.warmupSteps(), config.steps(),
        config.lrFinalFraction()).build(o, stepF);
    return new Optimization(gradNorm, clipped, lr);
  }

  /** The loss's moving average after this step (the loss itself at step 0); in the graph so checkpoints carry it. */
  private static Operand<TFloat64> lossAverage(Ops tf, TrainConfig config, Operand<TFloat32> loss,
                                               Variable<TFloat64> lossEma, Operand<TInt64> step) {
    Operand<TFloat64> lossValue = tf.dtypes.cast(loss, TFloat64.class);
    double d = config.lossEmaDecay();
    return tf.select(tf.math.equal(step, tf.constant(0L)), lossValue,
        tf.math.add(tf.math.mul(tf.constant(d), lossEma), tf.math.mul(tf.constant(1 - d), lossValue)));
  }

  /**
   * AdamW's updates, then the weight average's. Parameters change in place only after every read of them: the
   * clipped gradients (which need all gradients) and the metrics (which need the forward pass).
   */
  /** AdamW and the weight average, each update after {@code readsDone}. */
  private List<Op> updates(Ops tf, AdamW adamw, WeightAverage ema, Optimization o, Operand<TFloat64> stepF,
                           List<Op> readsDone) {
    Ops optimize = tf.withSubScope("optimize");
    List<Op> updates = adamw.apply(tf, trained, o.clipped(), optimize.dtypes.cast(o.lr(), TFloat32.class), stepF,
        readsDone);
    if (ema != null) {
      updates = ema.apply(tf, trained, updates, stepF);
    }
    return new ArrayList<>(updates);
  }

  /**
   * What a checkpoint holds, by name: weights, optimizer slots, weight average, step and loss average (the random
   * state is a function of seed and step). A frozen weight is its own average.
   */
  private Map<String, Variable<? extends TType>> checkpointed(AdamW adamw, WeightAverage ema,
                                                             Variable<TFloat64> lossEma) {
    Map<String, Variable<? extends TType>> saved = new LinkedHashMap<>();
    List<Param<TFloat32>> params = store.params();
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
    return saved;
  }

  /**
   * Gives the graph its training images (and a conditional model's labels): copied into its data variables, or kept
   * for the steps to feed their batches from ({@link BatchSource}). Call once, before the first step.
   */
  public void loadImages(Images train) {
    batches.load(session, train);
  }

  /** Runs one training step; returns the metrics of the step just taken. */
  public StepMetrics step() {
    return step(null);
  }

  /** As {@link #step()}, failing with a {@link TensorFlowException} after {@code timeout} (null: no bound). */
  public StepMetrics step(Duration timeout) {
    Session.Runner runner = session.runner().addTarget(trainStep).fetch(metrics);
    if (timeout != null) {
      runner.setOptions(RunOptions.newBuilder().setTimeoutInMs(timeout.toMillis()).build());
    }
    try (BatchSource.Feed feed = batches.feed(session, runner, 1); Result r = runner.run()) {
      batches.advanced(feed, r);
      TFloat64 m = (TFloat64) r.get(0);
      double[] out = new double[(int) m.size()];
      m.copyTo(DataBuffers.of(out, false, false));
      return StepMetrics.unpack(out);
    }
  }

  /**
   * What a failed step says about the cluster ("Worker task 1 (h:p) was lost"); empty for a failure that is no
   * worker fault, and always on one process.
   */
  public Optional<String> explainFault(TensorFlowException failure) {
    return health == null ? Optional.empty() : health.explain(failure, session);
  }

  /**
   * After a worker fault: waits until every worker answers again, on a new session where a restarted worker needs
   * one (the variables stay on the chief's server); false when that did not happen within {@code timeout}.
   */
  public boolean awaitWorkers(Duration timeout, BooleanSupplier stop) {
    return health.awaitHealthy(new Placement.Sessions() {
      @Override
      public Session current() {
        return session;
      }

      @Override
      public Session reopen() {
        session.close();
        session = remote.reopen(graph);
        return session;
      }
    }, timeout, stop);
  }

  /**
   * Starts over from the initial values, the training images and open summary files: after a fault that left the
   * variables ahead of the last logged step or lost them, before a restore from a checkpoint.
   */
  public void reinitialize(Images train) {
    session.forceInitialize();
    batches.forgetPending();
    loadImages(train);
    if (summaries != null) {
      summaries.open(session, tensorboard);
    }
  }

  /**
   * Runs one training step with the partition graphs and a full trace recorded: where every op ran and the shape of
   * every tensor it produced (placement tests; bench's count of the bytes that cross between devices).
   */
  public RunMetadata traceStep() {
    RunOptions traced = RunOptions.newBuilder().setOutputPartitionGraphs(true)
        .setTraceLevel(RunOptions.TraceLevel.FULL_TRACE).build();
    Session.Runner runner = session.runner().addTarget(trainStep).fetch(metrics).setOptions(traced);
    try (BatchSource.Feed feed = batches.feed(session, runner, 1); Result r = runner.runAndFetchMetadata()) {
      batches.advanced(feed, r);
      return r.getMetadata().orElseThrow();
    }
  }

  /** Writes all variables, optimizer state and the step counter to {@code prefix}.index/.data-*. */
  public void save(String prefix) {
    checkpoint.save(session, prefix);
  }

  public void restore(String prefix) {
    checkpoint.restore(session, prefix);
    batches.forgetPending();
  }

  /**
   * eps_hat = model(x, t) as the training graph computes it, by feeding the loss's x_t and t; the batch must have the
   * training batch's size. For checking that exported models compute the same function.
   */
  public float[] denoise(float[] x, int[] t) {
    Shape shape = noisy.shape();
    try (TFloat32 xt = TFloat32.tensorOf(shape, DataBuffers.of(x, true, false));
         TInt32 tt = TInt32.vectorOf(t)) {
      Session.Runner runner = session.runner().feed(noisy, xt).feed(timesteps, tt).fetch(prediction);
      try (BatchSource.Feed feed = batches.feed(session, runner, -1); Result r = runner.run()) {
        TFloat32 out = (TFloat32) r.get(0);
        float[] values = new float[(int) out.size()];
        out.copyTo(DataBuffers.of(values, false, false));
        return values;
      }
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

  /**
   * The step whose updates began last on a cluster (-1: none since the start or a {@link #reinitialize}); on one
   * process always -1.
   */
  public long updatesBegun() {
    if (updatesBegun == null) {
      return -1;
    }
    try (Result r = session.runner().fetch(updatesBegun).run()) {
      return ((TInt64) r.get(0)).getLong();
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

  /** This step's labels as the model sees them, "no class" where dropped (for tests); null if unconditional. */
  Operand<TInt32> drawnLabels() {
    return drawnLabels;
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
