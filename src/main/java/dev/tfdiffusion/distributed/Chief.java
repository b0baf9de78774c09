package dev.tfdiffusion.distributed;

import dev.tfdiffusion.UserError;
import dev.tfdiffusion.train.Placement;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
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

  public Cluster workers() {
    return workers;
  }

  /**
   * The training step's placement on this cluster: tower i on {@code /job:worker/task:i}; the variables, the
   * optimizer, the checkpoint and summary ops on the chief, so that every file is written on the chief's machine.
   */
  public Placement placement(Duration operationTimeout) {
    List<DeviceSpec> towers = new ArrayList<>();
    for (int t = 0; t < workers.workers().size(); t++) {
      towers.add(DeviceSpec.newBuilder().job(Cluster.WORKER_JOB).task(t).build());
    }
    Placement.Remote remote = new Placement.Remote() {
      @Override
      public Session open(Graph graph) {
        return Chief.this.open(graph, operationTimeout);
      }

      @Override
      public Optional<String> explain(TensorFlowException failure) {
        return WorkerFault.of(failure, workers).map(f -> {
          String task = f.task() >= 0 ? "Worker task " + f.task() + " (" + workers.workers().get(f.task()) + ")"
              : "A worker";
          return task + (f.kind() == WorkerFault.Kind.LOST ? " was lost" : " stopped answering");
        });
      }
    };
    return new Placement(List.copyOf(towers), 0, DeviceSpec.newBuilder().job(CHIEF_JOB).task(0).build(), remote);
  }

  /**
   * One tiny op per worker task, to find which task stopped answering (a frozen host's socket still accepts
   * connections, and a timed-out step names no task). Built with the rest of the graph, before its first run.
   */
  public static final class Probes {
    private final List<Operand<TInt32>> perTask = new ArrayList<>();

    public Probes(Ops tf, Cluster workers) {
      for (int t = 0; t < workers.workers().size(); t++) {
        Ops on = tf.withDevice(DeviceSpec.newBuilder().job(Cluster.WORKER_JOB).task(t).build());
        perTask.add(on.withName("probe_worker_" + t).identity(on.constant(t)));
      }
    }

    /** The tasks that do not answer a probe within {@code timeout}. */
    public List<Integer> unresponsive(Session session, Duration timeout) {
      RunOptions options = RunOptions.newBuilder().setTimeoutInMs(timeout.toMillis()).build();
      List<Integer> silent = new ArrayList<>();
      for (int t = 0; t < perTask.size(); t++) {
        try (Result r = session.runner().fetch(perTask.get(t)).setOptions(options).run()) {
          r.get(0); // answered
        } catch (TensorFlowException e) {
          silent.add(t);
        }
      }
      return silent;
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
