package dev.tfdiffusion.train;

import dev.tfdiffusion.RunLayout;
import dev.tfdiffusion.UserError;
import dev.tfdiffusion.checkpoint.Checkpoints;
import dev.tfdiffusion.config.TrainConfig;
import dev.tfdiffusion.data.Images;
import dev.tfdiffusion.data.TrainingData;
import dev.tfdiffusion.plot.ImageGrid;
import dev.tfdiffusion.plot.LossPlot;
import dev.tfdiffusion.util.Compute;
import dev.tfdiffusion.util.SessionOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.tensorflow.exceptions.TensorFlowException;

/**
 * The training loop: one {@link TrainGraph#step()} per step, the loss EMA and log, periodic checkpoints, and the
 * run's figures. A run can be stopped (Ctrl-C or {@code --stop-after}) and resumed with identical results.
 */
public final class Trainer {
  /** How a run went. */
  public record Outcome(Path runDir, long stepsDone, boolean finished, double emaLoss, double elapsedSeconds) {}

  /** Everything about a run that is not a hyperparameter. */
  public record Options(Path runDir, boolean resume, long stopAfter, boolean terminal, boolean quiet, Compute compute,
                        Map<String, String> versions, Placement placement) {
    /** On one device. */
    public Options(Path runDir, boolean resume, long stopAfter, boolean terminal, boolean quiet, Compute compute,
                   Map<String, String> versions) {
      this(runDir, resume, stopAfter, terminal, quiet, compute, versions, Placement.SINGLE);
    }
  }

  private final TrainConfig config;
  private final Options options;
  private final java.io.PrintStream out;
  private volatile boolean stopRequested;

  public Trainer(TrainConfig config, Options options, java.io.PrintStream out) {
    this.config = config;
    this.options = options;
    this.out = out;
  }

  /** Asks the loop to stop after the current step and write a checkpoint (used by the Ctrl-C handler). */
  public void requestStop() {
    stopRequested = true;
  }

  public Outcome run() throws IOException {
    return run(TrainingData.load(config));
  }

  /** As {@link #run()}, on data already loaded with {@link TrainingData#load} for this config. */
  public Outcome run(Images.Split data) throws IOException {
    Path runDir = options.runDir();
    Images train = data.train();
    Checkpoints checkpoints = new Checkpoints(runDir, config.keepCheckpoints());

    Optional<Checkpoints.Checkpoint> from = Optional.empty();
    if (options.resume()) {
      checkpoints.removeLeftovers();
      from = checkpoints.latest(message -> out.println(message));
      if (from.isEmpty()) {
        out.println("No checkpoint in " + checkpoints.root() + " yet; starting " + runDir + " from step 0.");
      }
    } else {
      Files.createDirectories(runDir);
      Path tmp = runDir.resolve(RunLayout.CONFIG + ".tmp");
      Files.writeString(tmp, config.toJson(options.versions()));
      Files.move(tmp, runDir.resolve(RunLayout.CONFIG), StandardCopyOption.ATOMIC_MOVE);
    }
    if (!Files.exists(runDir.resolve(RunLayout.TRAINING_IMAGES_PNG))) {
      writeTrainingImages(runDir.resolve(RunLayout.TRAINING_IMAGES_PNG), train);
    }
    long firstStep = from.map(c -> c.state().step()).orElse(0L);
    double ema = from.map(c -> c.state().emaLoss()).orElse(Double.NaN);
    double spentBefore = from.map(c -> c.state().elapsedSeconds()).orElse(0.0);
    if (firstStep >= config.steps()) {
      out.println("Run " + runDir + " already finished all " + config.steps() + " steps.");
      return new Outcome(runDir, firstStep, true, ema, spentBefore);
    }
    long lastStep = Math.min(config.steps(), options.stopAfter() > 0 ? options.stopAfter() : config.steps());

    long buildStart = System.nanoTime();
    Placement placement = options.placement();
    say(String.format("Training %s: %d images of %s, %dx%d%s, features %d, steps %d%s%s -> %s", config.preset(),
        train.count(), config.conditional() ? config.classes() + " classes (conditional)"
            : config.digitLabel() < 0 ? "all digits" : "digit " + config.digit(), train.height(),
        train.width(), train.channels() == 3 ? " colour" : "", config.features(), config.steps(),
        placement.devices() > 1 ? ", " + placement.devices() + (placement.remote() != null ? " workers" : " devices")
            : "",
        firstStep > 0 ? ", resuming at step " + firstStep : "", runDir));
    try (TrainGraph graph = new TrainGraph(config, train.shape(),
             SessionOptions.create(options.compute(), placement.virtualCpus()), runDir.resolve(RunLayout.TENSORBOARD),
             placement);
         TrainLog log = new TrainLog(runDir, firstStep);
         Progress progress = new Progress(out, options.terminal(), options.quiet(), firstStep, config.steps(),
             Duration.ofMillis((long) (spentBefore * 1000)))) {
      graph.loadImages(train);
      from.ifPresent(c -> graph.restore(c.prefix()));
      if (from.isEmpty()) {
        graph.writeGraphSummary();
      }
      if (graph.globalStep() != firstStep) {
        throw new IllegalStateException("restored step " + graph.globalStep() + " != checkpoint step " + firstStep);
      }
      long parameters = graph.params().stream().mapToLong(p -> p.size()).sum();
      requireDiskSpace(runDir, parameters);
      say(String.format("Graph built in %.1f s (%,d parameters); the first step also optimises the graph.",
          (System.nanoTime() - buildStart) / 1e9, parameters));

      long start = System.nanoTime();
      long step = firstStep;
      double elapsed = spentBefore;
      StepTimes times = new StepTimes();
      int failures = 0;
      while (step < lastStep && !stopRequested) {
        StepMetrics m;
        long stepStart = System.nanoTime();
        try {
          m = graph.step(placement.remote() == null ? null
              : placement.remote().stepTimeout(times.medianSeconds()));
        } catch (TensorFlowException e) {
          times = new StepTimes(); // the first step of a new session optimises the graph again: the first step's bound
          Optional<Checkpoints.Checkpoint> back = recover(graph, e, step, ++failures, checkpoints, runDir, train,
              progress::line);
          if (back != null) { // the chief's variables are not at this step: go back to the newest checkpoint
            step = back.map(c -> c.state().step()).orElse(0L);
            ema = back.map(c -> c.state().emaLoss()).orElse(Double.NaN);
            log.rewind(step);
            progress.step(step, ema);
          }
          continue;
        }
        failures = 0;
        times.add((System.nanoTime() - stepStart) / 1e9);
        elapsed = spentBefore + (System.nanoTime() - start) / 1e9;
        if (!m.finite()) {
          log.append(row(step, m, ema, elapsed));
          log.flush();
          throw diverged(step, m, checkpoints, runDir);
        }
        ema = m.emaLoss();
        log.append(row(step, m, ema, elapsed));
        if (step % config.logEvery() == 0 || step == config.steps() - 1) {
          progress.line(String.format("Step %d, Loss: %.4f  (lr %.2e, grad norm %.3f, %.1f s)", step, ema,
              m.learningRate(), m.gradNorm(), elapsed));
        }
        step++;
        progress.step(step, ema);
        if (config.sampleEvery() > 0 && step % config.sampleEvery() == 0 && step < config.steps()) {
          graph.writeSampleGrid(); // after the step: the first grid does not delay the first step
        }
        if (step % config.checkpointEvery() == 0 || step == config.steps()) {
          checkpoint(graph, log, checkpoints, step, ema, elapsed, runDir);
        }
      }
      boolean finished = step >= config.steps();
      if (finished && config.sampleEvery() > 0) {
        graph.writeSampleGrid(); // the final samples
      }
      if (!finished && step % config.checkpointEvery() != 0) {
        checkpoint(graph, log, checkpoints, step, ema, elapsed, runDir);
      }
      graph.closeSummaries();
      progress.close();
      if (finished) {
        say(String.format("Finished %d steps in %.1f s; EMA loss %.4f. Outputs in %s", step, elapsed, ema, runDir));
      } else {
        say("Stopped after step " + step + " with a checkpoint; continue with: train --resume " + runDir);
      }
      return new Outcome(runDir, step, finished, ema, elapsed);
    }
  }

  private static TrainLog.Row row(long step, StepMetrics m, double ema, double elapsed) {
    return new TrainLog.Row(step, m.loss(), ema, m.learningRate(), m.gradNorm(), elapsed, m.main(), m.penalty());
  }

  /** Faults in a row at one step after which the run stops, even if the workers keep coming back. */
  private static final int MAX_FAILURES_PER_STEP = 3;

  /**
   * After a failed step on a cluster: when a worker was lost or stopped answering, waits for it to answer again and
   * says so. Returns null to go on at the same step (the chief's variables are at it: the updates wait for every
   * tower), or the checkpoint to go back to (empty: step 0) when the failed step's updates had begun (a worker lost
   * after sending its gradients) or the variables are gone. A stop request ends the wait (null; the loop then ends
   * with a checkpoint). Any other failure, or a worker that does not come back in time, ends the run with one
   * sentence.
   */
  private Optional<Checkpoints.Checkpoint> recover(TrainGraph graph, TensorFlowException failure, long step,
                                                   int failures, Checkpoints checkpoints, Path runDir,
                                                   Images train, Consumer<String> tell) {
    String fault = graph.explainFault(failure).orElseThrow(() -> failure);
    Duration wait = options.placement().remote().recoverTimeout();
    long good = checkpoints.latest(w -> {}).map(c -> c.state().step()).orElse(0L);
    String resume = "the newest checkpoint, step " + good + ", is intact: restart the worker, then continue with "
        + "'train --resume " + runDir + "' and the same --workers.";
    if (wait.isZero()) {
      throw new UserError(fault + " at step " + step + "; " + resume, UserError.FAILURE, failure);
    }
    if (failures > MAX_FAILURES_PER_STEP) {
      throw new UserError(fault + " at step " + step + " again, after " + MAX_FAILURES_PER_STEP + " recoveries at "
          + "this step; " + resume, UserError.FAILURE, failure);
    }
    tell.accept(fault + " at step " + step + "; waiting up to " + wait.toSeconds() + " s for it to answer again.");
    if (!graph.awaitWorkers(wait, () -> stopRequested)) {
      if (stopRequested) {
        return null;
      }
      throw new UserError(fault + " at step " + step + " and did not answer again within " + wait.toSeconds()
          + " s; " + resume, UserError.FAILURE, failure);
    }
    String reason;
    try {
      long at = graph.globalStep();
      if (at == step && graph.updatesBegun() != step) {
        tell.accept("Every worker answers again; continuing at step " + step + ".");
        return null;
      }
      reason = at == step ? "step " + step + "'s updates had begun" : "the chief's variables are at step " + at
          + ", not " + step;
    } catch (TensorFlowException e) {
      reason = "the chief's variables are gone";
    }
    Optional<Checkpoints.Checkpoint> back = checkpoints.latest(message -> out.println(message));
    graph.reinitialize(train);
    back.ifPresent(c -> graph.restore(c.prefix()));
    tell.accept("Every worker answers again; " + reason + ", so the run goes back to "
        + back.map(c -> "its checkpoint at step " + c.state().step()).orElse("step 0") + ".");
    return back;
  }

  /** The recent steps' durations, for the step timeout. */
  private static final class StepTimes {
    private static final int KEPT = 99;
    private final java.util.ArrayDeque<Double> seconds = new java.util.ArrayDeque<>();

    void add(double s) {
      if (seconds.size() == KEPT) {
        seconds.removeFirst();
      }
      seconds.addLast(s);
    }

    double medianSeconds() {
      if (seconds.isEmpty()) {
        return Double.NaN;
      }
      double[] sorted = seconds.stream().mapToDouble(Double::doubleValue).sorted().toArray();
      return sorted[sorted.length / 2];
    }
  }

  /** The error for a non-finite loss or gradient; the last good checkpoint stays as it is. */
  private static UserError diverged(long step, StepMetrics m, Checkpoints checkpoints, Path runDir) {
    long good = checkpoints.latest(w -> {}).map(c -> c.state().step()).orElse(-1L);
    return new UserError(String.format("Training diverged at step %d: the loss is %s and the gradient norm %s. "
        + "Nothing from this step was saved; %s", step, m.loss(), m.gradNorm(),
        good >= 0 ? "the last good checkpoint, step " + good + ", is untouched (start a new run with a lower --lr, "
            + "or resume it with --resume " + runDir + ")." : "no checkpoint was written yet (try a lower --lr)."));
  }

  private void checkpoint(TrainGraph graph, TrainLog log, Checkpoints checkpoints, long step, double ema,
                          double elapsed, Path runDir) {
    log.flush(); // rows up to the checkpoint must be on disk before it claims them
    graph.flushSummaries();
    checkpoints.write(step, ema, elapsed, graph::save);
    try {
      writeLossPlot(runDir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + runDir.resolve(RunLayout.LOSS_PNG), e);
    }
  }

  private void say(String line) {
    if (!options.quiet()) {
      out.println(line);
    }
  }

  static void writeLossPlot(Path runDir) throws IOException {
    List<TrainLog.Row> rows = TrainLog.read(runDir.resolve(RunLayout.TRAIN_LOG));
    long[] steps = rows.stream().mapToLong(TrainLog.Row::step).toArray();
    double[] ema = rows.stream().mapToDouble(TrainLog.Row::emaLoss).toArray();
    LossPlot.write(runDir.resolve(RunLayout.LOSS_PNG), "Training loss over time",
        new LossPlot.Curve("EMA loss", steps, ema));
  }

  /** The tutorial's first figure: the first nine training images in a 3x3 grid. */
  static void writeTrainingImages(Path png, Images train) throws IOException {
    List<float[]> first = new ArrayList<>();
    for (int i = 0; i < Math.min(9, train.count()); i++) {
      first.add(train.image(i));
    }
    ImageGrid.write(png, first, train.height(), train.width(), train.channels(), 3, 96, null);
  }

  /**
   * Installs a Ctrl-C / SIGTERM handler that stops the loop after its current step and waits (up to a minute) for
   * the checkpoint to be written. Returns the latch the caller counts down when the run is over.
   */
  public CountDownLatch installInterruptHandler() {
    CountDownLatch done = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      if (done.getCount() == 0) {
        return;
      }
      requestStop();
      try {
        if (!done.await(60, TimeUnit.SECONDS)) {
          System.err.println("Gave up waiting for the final checkpoint; the previous one is intact.");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "checkpoint-on-interrupt"));
    return done;
  }

  /** Fails early when the disk cannot hold two checkpoints and the exported model. */
  private void requireDiskSpace(Path runDir, long parameters) throws IOException {
    int copies = 3 + (config.emaDecay() > 0 ? 1 : 0); // weights, Adam's m and v, the moving average
    requireDiskSpace(runDir, parameters, copies, Files.getFileStore(runDir).getUsableSpace());
  }

  static void requireDiskSpace(Path runDir, long parameters, int copies, long free) {
    long checkpoint = Checkpoints.estimateBytes(parameters, copies);
    long needed = 2 * checkpoint + Checkpoints.estimateBytes(parameters, 1) + (16L << 20);
    if (free < needed) {
      throw new UserError(String.format("Not enough disk space in %s: training needs about %d MB (two checkpoints of "
          + "%d MB and the exported model), but only %d MB are free.", runDir, needed >> 20, checkpoint >> 20,
          free >> 20));
    }
  }
}
