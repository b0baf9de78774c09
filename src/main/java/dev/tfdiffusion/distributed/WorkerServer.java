package dev.tfdiffusion.distributed;

import dev.tfdiffusion.UserError;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import org.tensorflow.Server;
import org.tensorflow.exceptions.TensorFlowException;
import org.tensorflow.proto.ClusterDef;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.JobDef;
import org.tensorflow.proto.ServerDef;

/**
 * TensorFlow's own gRPC server for one worker task: it runs the ops a chief's session places on
 * {@code /job:worker/task:i}. TensorFlow cannot stop such a server cleanly ({@code Server.close()} throws), so a worker
 * ends with its process.
 *
 * <p>The server boots as the only task of a job of its own ({@link #BOOT_JOB}); a session names the cluster itself
 * through {@code ConfigProto.cluster_def} (TensorFlow's ClusterSpec propagation), so every task learns every other
 * task's address, the chief's included, from the session. TensorFlow refuses a propagated cluster that reuses a
 * server's boot name, hence the separate one.
 */
public final class WorkerServer {
  /** The job name a server boots under, never used in a session's cluster. */
  public static final String BOOT_JOB = "boot";

  private final Server server;
  private final Cluster.Address address;

  private WorkerServer(Server server, Cluster.Address address) {
    this.server = server;
    this.address = address;
  }

  /** Starts task {@code task} of {@code cluster} and returns once it accepts connections. */
  public static WorkerServer start(Cluster cluster, int task, Duration timeout) {
    Cluster.Address me = cluster.worker(task);
    requirePortFree(me, task);
    ServerDef def = ServerDef.newBuilder()
        .setCluster(ClusterDef.newBuilder().addJob(JobDef.newBuilder().setName(BOOT_JOB).putTasks(0, me.toString())))
        .setJobName(BOOT_JOB)
        .setTaskIndex(0)
        .setProtocol("grpc")
        // int64 counters have no GPU kernels: let such ops fall back to the CPU of the same task
        .setDefaultSessionConfig(ConfigProto.newBuilder().setAllowSoftPlacement(true))
        .build();
    Server server;
    try {
      server = new Server(def);
      server.start();
    } catch (TensorFlowException e) {
      throw new UserError("Cannot start the TensorFlow server of worker " + task + " on " + me + ": "
          + e.getMessage().lines().findFirst().orElse("").strip() + ".");
    }
    awaitListening(me, timeout);
    return new WorkerServer(server, me);
  }

  public Cluster.Address address() {
    return address;
  }

  /** Serves until the process ends. */
  public void join() {
    server.join();
  }

  /** TensorFlow's message for a port in use comes late and unclearly; check the port first. */
  private static void requirePortFree(Cluster.Address me, int task) {
    try (ServerSocket probe = new ServerSocket()) {
      probe.setReuseAddress(true);
      probe.bind(new InetSocketAddress(me.port()));
    } catch (IOException e) {
      throw UserError.usage("Port " + me.port() + " of worker " + task + " (" + me + ") is already in use; stop "
          + "what holds it or give this task another port in --cluster.");
    }
  }

  private static void awaitListening(Cluster.Address me, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress(me.host(), me.port()), 200);
        return;
      } catch (IOException e) {
        if (System.nanoTime() > deadline) {
          throw new UserError("The TensorFlow server of " + me + " did not accept connections within "
              + timeout.toSeconds() + " s.");
        }
        try {
          Thread.sleep(50);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw new UserError("Interrupted while starting the TensorFlow server on " + me + ".");
        }
      }
    }
  }
}
