package dev.tfdiffusion.distributed;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.tensorflow.exceptions.TensorFlowException;

/**
 * What a failed step says about the cluster. TensorFlow Java maps gRPC's UNAVAILABLE, ABORTED and DEADLINE_EXCEEDED
 * all to the base {@link TensorFlowException}, so the kind is read from the message text.
 */
public record WorkerFault(Kind kind, int task) {
  /** A worker process that is gone, or one that stopped answering. */
  public enum Kind { LOST, UNRESPONSIVE }

  private static final Pattern TASK = Pattern.compile("/job:" + Cluster.WORKER_JOB + "/replica:\\d+/task:(\\d+)");
  private static final Pattern PEER = Pattern.compile("ipv4:([^\\s\",]+):(\\d+)");

  /** The fault behind {@code e}, if it is one; {@code task} is -1 when the message names none. */
  public static Optional<WorkerFault> of(TensorFlowException e, Cluster workers) {
    String m = e.getMessage() == null ? "" : e.getMessage();
    Kind kind;
    if (m.contains("Deadline Exceeded") || m.contains("Timed out") || m.contains("timed out")) {
      kind = Kind.UNRESPONSIVE;
    } else if (m.contains("Socket closed") || m.contains("Connection reset") || m.contains("failed to connect")
        || m.contains("UNAVAILABLE") || m.contains("Connection refused") || m.contains("Session handle is not found")) {
      kind = Kind.LOST;
    } else {
      return Optional.empty();
    }
    return Optional.of(new WorkerFault(kind, task(m, workers)));
  }

  private static int task(String message, Cluster workers) {
    Matcher t = TASK.matcher(message);
    if (t.find()) {
      return Integer.parseInt(t.group(1));
    }
    Matcher peer = PEER.matcher(message);
    while (peer.find()) {
      int port = Integer.parseInt(peer.group(2));
      for (int i = 0; i < workers.workers().size(); i++) {
        if (workers.workers().get(i).port() == port) {
          return i;
        }
      }
    }
    return -1;
  }
}
