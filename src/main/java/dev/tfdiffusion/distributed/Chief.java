package dev.tfdiffusion.distributed;

import dev.tfdiffusion.UserError;
import dev.tfdiffusion.train.Placement;
import dev.tfdiffusion.util.LibC;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;
import org.tensorflow.DeviceSpec;
import org.tensorflow.Graph;
import org.tensorflow.GrpcSessions;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Server;
import org.tensorflow.Session;
import org.tensorflow.exceptions.TensorFlowException;
import org.tensorflow.op.Ops;
import org.tensorflow.proto.ClusterDef;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.JobDef;
import org.tensorflow.proto.RpcOptions;
import org.tensorflow.proto.RunOptions;
import org.tensorflow.proto.ServerDef;
import org.tensorflow.types.TInt32;

/**
 * The chief of a training cluster: its own TensorFlow server (which holds the variables, the optimizer state and the
 * file-writing ops, so everything is written on the chief's machine) and sessions on it that name the whole cluster.
 * See {@code docs/distributed.md} for why every server boots under a job of its own.
 */
public final class Chief {
  /** Job name of the chief's task, as device names spell it ({@code /job:chief/task:0}). */
  public static final String CHIEF_JOB = "chief";

  private final Cluster.Address address;
  private final Cluster workers;
  private final Server server; // held for the chief's lifetime: TensorFlow cannot stop it cleanly

  /**
   * Bounds every call of a remote session that sets no timeout of its own (a step sets its own), so that a worker
   * that stops answering cannot hang the chief forever.
   */
  static final Duration CALL_TIMEOUT = Duration.ofMinutes(10);

  private Chief(Cluster.Address address, Cluster workers, Server server) {
    this.address = address;
    this.workers = workers;
    this.server = server;
  }

  /**
   * Starts the chief's server on {@code address} once every worker answers, or fails with one sentence naming the
   * tasks that did not answer within {@code connectTimeout} (TensorFlow itself would wait for them forever).
   */
  public static Chief start(Cluster.Address address, Cluster workers, Duration connectTimeout) {
    failFast();
    awaitWorkers(workers, connectTimeout);
    ServerDef def = ServerDef.newBuilder()
        .setCluster(ClusterDef.newBuilder().addJob(JobDef.newBuilder().setName(WorkerServer.BOOT_JOB)
            .putTasks(0, address.toString())))
        .setJobName(WorkerServer.BOOT_JOB)
        .setTaskIndex(0)
        .setProtocol("grpc")
        .build();
    try {
      Server server = new Server(def);
      server.start();
      return new Chief(address, workers, server);
    } catch (TensorFlowException e) {
      throw new UserError("Cannot start the chief's TensorFlow server on " + address + ": "
          + e.getMessage().lines().findFirst().orElse("").strip() + ".");
    }
  }

  /**
   * A call to a worker that is gone fails at once instead of waiting for it to come back (gRPC's default for
   * TensorFlow's calls), so a lost worker ends the step and is named. TensorFlow reads the setting on its first
   * remote call, after this.
   */
  private static void failFast() {
    if (System.getenv("GRPC_FAIL_FAST") == null) {
      try {
        LibC.load().setenv("GRPC_FAIL_FAST", "true", 1);
      } catch (UnsatisfiedLinkError e) {
        // without libc's setenv a lost worker is still caught, by the call timeout
      }
    }
  }

  /** The whole cluster, as the chief's sessions name it: {@code chief: [address]}, {@code worker: [...]}. */
  public ClusterDef clusterDef() {
    return ClusterDef.newBuilder()
        .addJob(JobDef.newBuilder().setName(CHIEF_JOB).putTasks(0, address.toString()))
        .addAllJob(workers.toClusterDef().getJobList())
        .build();
  }

  /**
   * The session options: the cluster; variables kept in the chief's server across sessions (a new session after a
   * worker restart sees them); and every call, the first included, bounded by {@code operationTimeout} (it bounds
   * the wait for a missing worker only with the in-process master going through RPC).
   */
  public ConfigProto sessionConfig(Duration operationTimeout) {
    return ConfigProto.newBuilder()
        .setClusterDef(clusterDef())
        .setAllowSoftPlacement(true)
        .setOperationTimeoutInMs(operationTimeout.toMillis())
        .setRpcOptions(RpcOptions.RPCOptions.newBuilder().setUseRpcForInprocessMaster(true))
        .setExperimental(ConfigProto.Experimental.newBuilder().setShareSessionStateInClusterspecPropagation(true))
        .build();
  }

  /** A session of {@code graph} on the chief's server. */
  public Session open(Graph graph, Duration operationTimeout) {
    return GrpcSessions.open(graph, "grpc://" + address, sessionConfig(operationTimeout));
  }

  /** A new session of {@code graph} that goes on with the variables an earlier one initialised on the chief. */
  public Session reopen(Graph graph, Duration operationTimeout) {
    return GrpcSessions.reopen(graph, "grpc://" + address, sessionConfig(operationTimeout));
  }

  public Cluster workers() {
    return workers;
  }

  /**
   * The training step's placement on this cluster: tower i on {@code /job:worker/task:i}; the variables, the
   * optimizer, the checkpoint and summary ops on the chief, so that every file is written on the chief's machine.
   */
  public Placement placement(Placement.Recovery recovery) {
    List<DeviceSpec> towers = new ArrayList<>();
    for (int t = 0; t < workers.workers().size(); t++) {
      towers.add(DeviceSpec.newBuilder().job(Cluster.WORKER_JOB).task(t).build());
    }
    Placement.Remote remote = new Placement.Remote() {
      @Override
      public Session open(Graph graph) {
        return Chief.this.open(graph, CALL_TIMEOUT);
      }

      @Override
      public Session reopen(Graph graph) {
        return Chief.this.reopen(graph, CALL_TIMEOUT);
      }

      @Override
      public Placement.Health health(Ops tf) {
        return new Health(new Probes(tf, workers), workers);
      }

      @Override
      public Duration stepTimeout(double medianStepSeconds) {
        return recovery.stepTimeout(medianStepSeconds);
      }

      @Override
      public Duration recoverTimeout() {
        return recovery.recoverTimeout();
      }
    };
    return new Placement(List.copyOf(towers), 0, DeviceSpec.newBuilder().job(CHIEF_JOB).task(0).build(), remote);
  }

  /** Names the worker behind a failed step, and waits for lost or frozen workers to answer again. */
  static final class Health implements Placement.Health {
    /** A probe is one tiny op: a worker that answers at all answers it at once. */
    static final Duration PROBE_TIMEOUT = Duration.ofSeconds(5);
    private static final long POLL_MS = 500;

    private final Probes probes;
    private final Cluster workers;

    Health(Probes probes, Cluster workers) {
      this.probes = probes;
      this.workers = workers;
    }

    @Override
    public Optional<String> explain(TensorFlowException failure, Session session) {
      Optional<WorkerFault> fault = WorkerFault.of(failure, workers);
      if (fault.isEmpty()) {
        return Optional.empty();
      }
      List<Integer> tasks = fault.get().task() >= 0 ? List.of(fault.get().task())
          : List.copyOf(probes.faults(session, PROBE_TIMEOUT).keySet());
      String verb = fault.get().kind() == WorkerFault.Kind.LOST ? " was lost" : " stopped answering";
      if (tasks.isEmpty()) {
        return Optional.of("A worker" + verb);
      }
      List<String> named = new ArrayList<>();
      tasks.forEach(t -> named.add(t + " (" + workers.workers().get(t) + ")"));
      return Optional.of((tasks.size() == 1 ? "Worker task " : "Worker tasks ") + String.join(", ", named)
          + (tasks.size() == 1 ? verb : verb.replace("was", "were")));
    }

    /**
     * Probes every task in the current session; a task that fails at once (lost, or restarted and so without the
     * session) gets a new session once its port accepts connections again; a frozen one is waited for, without a
     * new session (creating one would block on it). Once every task answers, the run goes on in a new session in
     * any case: closing the old one waits until the failed step has ended on every task (a timed-out call returns
     * to the client while the chief may still be running the step), so the chief's variables can then be read as
     * final.
     */
    @Override
    public boolean awaitHealthy(Placement.Sessions sessions, Duration timeout, BooleanSupplier stop) {
      long deadline = System.nanoTime() + timeout.toNanos();
      boolean fresh = false;
      while (!stop.getAsBoolean()) {
        Map<Integer, WorkerFault.Kind> faults = probes.faults(sessions.current(), PROBE_TIMEOUT);
        if (faults.isEmpty() && fresh) {
          return true;
        }
        boolean allLost = faults.values().stream().allMatch(k -> k == WorkerFault.Kind.LOST);
        if (allLost && unreachable(workers).stream().noneMatch(faults::containsKey)) {
          try {
            sessions.reopen();
            fresh = true;
            continue; // probe the new session at once
          } catch (TensorFlowException e) {
            // the worker went away again: keep waiting
          }
        }
        fresh = false;
        if (System.nanoTime() > deadline) {
          return false;
        }
        try {
          Thread.sleep(POLL_MS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return false;
        }
      }
      return false;
    }
  }

  /**
   * One tiny op per worker task, to find which task stopped answering (a frozen host's socket still accepts
   * connections, and a timed-out step names no task). Built with the rest of the graph, before its first run.
   */
  public static final class Probes {
    private final List<Operand<TInt32>> perTask = new ArrayList<>();
    private final Cluster workers;

    public Probes(Ops tf, Cluster workers) {
      this.workers = workers;
      for (int t = 0; t < workers.workers().size(); t++) {
        Ops on = tf.withDevice(DeviceSpec.newBuilder().job(Cluster.WORKER_JOB).task(t).build());
        perTask.add(on.withName("probe_worker_" + t).identity(on.constant(t)));
      }
    }

    /** The tasks that do not answer a probe within {@code timeout}. */
    public List<Integer> unresponsive(Session session, Duration timeout) {
      return List.copyOf(faults(session, timeout).keySet());
    }

    /** The tasks that do not answer a probe within {@code timeout}, each with how it failed (in task order). */
    public Map<Integer, WorkerFault.Kind> faults(Session session, Duration timeout) {
      RunOptions options = RunOptions.newBuilder().setTimeoutInMs(timeout.toMillis()).build();
      Map<Integer, WorkerFault.Kind> faults = new TreeMap<>();
      for (int t = 0; t < perTask.size(); t++) {
        try (Result r = session.runner().fetch(perTask.get(t)).setOptions(options).run()) {
          r.get(0); // answered
        } catch (TensorFlowException e) {
          // a restarted worker has no such session: as good as lost until a new session is made
          faults.put(t, WorkerFault.of(e, workers).map(WorkerFault::kind).orElse(WorkerFault.Kind.LOST));
        }
      }
      return faults;
    }
  }

  private static void awaitWorkers(Cluster workers, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    List<Integer> missing = unreachable(workers);
    while (!missing.isEmpty() && System.nanoTime() < deadline) {
      try {
        Thread.sleep(250);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
      missing = unreachable(workers);
    }
    if (!missing.isEmpty()) {
      List<String> named = new ArrayList<>();
      missing.forEach(t -> named.add("task " + t + " (" + workers.workers().get(t) + ")"));
      throw new UserError("No worker answered at " + String.join(", ", named) + " within " + timeout.toSeconds()
          + " s; start each with 'worker --cluster " + workers.workers().stream().map(Object::toString)
          .reduce((a, b) -> a + "," + b).orElse("") + " --task I' (or raise --connect-timeout).");
    }
  }

  private static List<Integer> unreachable(Cluster workers) {
    List<Integer> missing = new ArrayList<>();
    for (int t = 0; t < workers.workers().size(); t++) {
      Cluster.Address a = workers.workers().get(t);
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress(a.host(), a.port()), 500);
      } catch (IOException e) {
        missing.add(t);
      }
    }
    return missing;
  }
}
