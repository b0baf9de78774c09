package dev.tfdiffusion.train;

import dev.tfdiffusion.UserError;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.tensorflow.DeviceSpec;
import org.tensorflow.Graph;
import org.tensorflow.Session;
import org.tensorflow.exceptions.TensorFlowException;

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

  /** A session of a graph on a TensorFlow server. */
  public interface Remote {
    Session open(Graph graph);

    /** What a failed step says about the cluster, as the start of a sentence ("Worker task 1 (h:p) was lost"). */
    Optional<String> explain(TensorFlowException failure);
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
