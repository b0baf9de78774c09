package dev.tfdiffusion.distributed;

import dev.tfdiffusion.UserError;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.proto.ClusterDef;
import org.tensorflow.proto.JobDef;

/** The worker tasks of a training cluster, {@code H0:P0,H1:P1,...}: task i of job {@code worker} is the i-th. */
public record Cluster(List<Address> workers) {
  /** Job name of the tower tasks, as TensorFlow device names spell it ({@code /job:worker/task:i}). */
  public static final String WORKER_JOB = "worker";

  /** One task's host and port. */
  public record Address(String host, int port) {
    @Override
    public String toString() {
      return host + ":" + port;
    }
  }

  /** Parses {@code --cluster} / {@code --workers}; a malformed list is a usage error naming the flag. */
  public static Cluster parse(String flag, String list) {
    List<Address> tasks = new ArrayList<>();
    for (String part : list.split(",", -1)) {
      String p = part.strip();
      int colon = p.lastIndexOf(':');
      int port = -1;
      if (colon > 0) {
        try {
          port = Integer.parseInt(p.substring(colon + 1));
        } catch (NumberFormatException e) {
          port = -1;
        }
      }
      if (colon <= 0 || port < 1 || port > 65535) {
        throw UserError.usage(flag + " must list host:port pairs separated by commas (ports 1..65535), got '" + list
            + "'.");
      }
      tasks.add(new Address(p.substring(0, colon), port));
    }
    return new Cluster(List.copyOf(tasks));
  }

  /** The worker at {@code task}, or a usage error when the cluster has no such task. */
  public Address worker(int task) {
    if (task < 0 || task >= workers.size()) {
      throw UserError.usage("--task " + task + " is outside the cluster of " + workers.size() + " worker"
          + (workers.size() == 1 ? "" : "s") + " (0.." + (workers.size() - 1) + ").");
    }
    return workers.get(task);
  }

  /** TensorFlow's description of the cluster: job {@code worker} with one task per address. */
  public ClusterDef toClusterDef() {
    JobDef.Builder job = JobDef.newBuilder().setName(WORKER_JOB);
    for (int i = 0; i < workers.size(); i++) {
      job.putTasks(i, workers.get(i).toString());
    }
    return ClusterDef.newBuilder().addJob(job).build();
  }
}
