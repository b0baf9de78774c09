package dev.tfdiffusion.train;

import dev.tfdiffusion.UserError;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import org.tensorflow.DeviceSpec;
import org.tensorflow.Graph;
import org.tensorflow.Session;
import org.tensorflow.exceptions.TensorFlowException;
import org.tensorflow.op.Ops;

/**
 * Where the towers of a training step run: {@code --devices N} takes GPUs 0..N-1 when TensorFlow sees that many,
 * otherwise N virtual CPU devices of one session ({@code device_count}), which share the CPU's threads: they add no
 * speed, and exist so that the same replication runs, and is tested, on machines without GPUs.
 *
 * @param towers the towers' devices; empty for one device (the loss is then built inline, as always)
 * @param virtualCpus CPU devices the session must create (0: TensorFlow's default)
 * @param state where the variables, the optimizer and every file-writing op live; null: the session's default
 * @param remote makes the session on a TensorFlow server (a chief's); null: a local session
 */
public record Placement(List<DeviceSpec> towers, int virtualCpus, DeviceSpec state, Remote remote) {
  /** One device: no towers. */
  public static final Placement SINGLE = new Placement(List.of(), 0, null, null);

  /** A session of a graph on a TensorFlow server, and what to do when a worker of that server's cluster fails. */
  public interface Remote {
    Session open(Graph graph);

    /** A new session of {@code graph} that goes on with the variables an earlier one initialised on the server. */
    Session reopen(Graph graph);

    /** Builds into {@code tf}'s graph what {@link Health} needs (before the graph's first run). */
    Health health(Ops tf);

    /** How long the next step may take, given the median of the steps so far (NaN before the first). */
    Duration stepTimeout(double medianStepSeconds);

    /** How long to wait for a lost or frozen worker to answer again; zero: do not wait. */
    Duration recoverTimeout();
  }

  /** Tells a worker fault from other failures, and waits for the cluster to heal. */
  public interface Health {
    /**
     * What a failed step says about the cluster, as the start of a sentence ("Worker task 1 (h:p) was lost");
     * empty when it is no worker fault. May run probes in {@code session} to name a task the failure does not name.
     */
    Optional<String> explain(TensorFlowException failure, Session session);

    /**
     * Waits until every worker answers, calling {@code sessions.reopen()} when a restarted worker needs a new
     * session; false when that did not happen within {@code timeout} or {@code stop} turned true.
     */
    boolean awaitHealthy(Sessions sessions, Duration timeout, BooleanSupplier stop);
  }

  /** The session a graph runs in, replaceable after a worker restart. */
  public interface Sessions {
    Session current();

    /** Closes the current session and opens a new one on the same server (the variables there stay). */
    Session reopen();
  }

  /**
   * @param stepTimeout a step that takes longer means a worker stopped answering; null: 20 times the median step, at
   *     least {@link #MIN_STEP_TIMEOUT}
   * @param recoverTimeout how long to wait for a lost worker to come back; zero: do not wait
   */
  public record Recovery(Duration stepTimeout, Duration recoverTimeout) {
    public static final Duration MIN_STEP_TIMEOUT = Duration.ofSeconds(60);
    /** The first step also optimises the graph on every task: it gets at least this long. */
    public static final Duration FIRST_STEP_TIMEOUT = Duration.ofMinutes(10);
    private static final int MEDIANS = 20;

    /** The bound for the next step, given the median of the steps so far (NaN before the first). */
    public Duration stepTimeout(double medianStepSeconds) {
      if (Double.isNaN(medianStepSeconds)) {
        return stepTimeout == null || stepTimeout.compareTo(FIRST_STEP_TIMEOUT) < 0 ? FIRST_STEP_TIMEOUT
            : stepTimeout;
      }
      if (stepTimeout != null) {
        return stepTimeout;
      }
      Duration adaptive = Duration.ofMillis((long) Math.ceil(MEDIANS * medianStepSeconds * 1000));
      return adaptive.compareTo(MIN_STEP_TIMEOUT) < 0 ? MIN_STEP_TIMEOUT : adaptive;
    }
  }

  /**
   * @param requested devices asked for; 0 means auto: every GPU, or one device without GPUs
   * @param gpus GPUs TensorFlow sees
   */
  public static Placement of(int requested, int gpus) {
    int n = requested == 0 ? Math.max(gpus, 1) : requested;
    if (n == 1) {
      return SINGLE;
    }
    if (gpus > 0 && gpus < n) {
      throw UserError.usage("--devices " + n + " asks for more GPUs than the " + gpus + " TensorFlow sees; use at most "
          + gpus + ".");
    }
    DeviceSpec.DeviceType type = gpus > 0 ? DeviceSpec.DeviceType.GPU : DeviceSpec.DeviceType.CPU;
    List<DeviceSpec> towers = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      towers.add(DeviceSpec.newBuilder().deviceType(type).deviceIndex(i).build());
    }
    return new Placement(List.copyOf(towers), gpus > 0 ? 0 : n, null, null);
  }

  public int devices() {
    return Math.max(towers.size(), 1);
  }
}
