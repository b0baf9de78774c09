package dev.tfdiffusion.bench;

import dev.tfdiffusion.model.VariableStore.Param;
import dev.tfdiffusion.train.Placement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.tensorflow.DeviceSpec;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.DeviceStepStats;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.NodeExecStats;
import org.tensorflow.proto.NodeOutput;
import org.tensorflow.proto.RunMetadata;
import org.tensorflow.proto.TensorShapeProto;
import org.tensorflow.types.TFloat32;

/**
 * The bytes a training step moves between the places of its {@link Placement}: the towers' devices (or worker tasks)
 * and the place that holds the state (the variables, the optimizer, the random draws).
 *
 * <p>{@link #measure} reads them from one traced step ({@code TrainGraph.traceStep}): TensorFlow cuts the step's graph
 * into one partition per device and joins them with {@code _Send}/{@code _Recv} pairs, one per tensor and receiving
 * device. Each {@code _Send} (or {@code _HostSend}) of the partition graphs whose {@code send_device} lies in another
 * place than its {@code recv_device} is one crossing. TensorFlow's trace leaves the transfer ops out (its step-stats
 * collector skips them), so a crossing is sized by the tensor the {@code _Send} reads: the shape and type of that
 * output of its producer in the same step's trace. (Shapes, not the buffers' allocation records: a slice of the
 * split batch can share the whole batch's buffer.) A transfer between two devices of one worker task (its CPU and its
 * GPU) stays inside the place and is not counted; a control edge crosses as an empty tensor, 0 bytes.
 *
 * <p>{@link #model} counts the same from the graph's design (docs/distributed.md): a tower that is not on the state's
 * device receives every weight (float32) and its shard of x0 and noise (float32) and t (int32), and sends back one
 * gradient per trained weight and its two loss terms.
 */
public final class Exchange {
  private static final Pattern DEVICE = Pattern.compile(
      "(?:/job:([^/]+))?(?:/replica:(\\d+))?(?:/task:(\\d+))?(?:/device:([A-Za-z_]+):(\\d+))?");

  /**
   * @param totalBytes the bytes of every crossing of the step
   * @param perTowerBytes tower k's bytes, both ways: the crossings with one end in tower k's place
   * @param tensors how many tensors crossed (control edges, which cross as empty tensors, not counted)
   */
  public record Traffic(long totalBytes, long[] perTowerBytes, int tensors) {
    /** The busiest tower's bytes (a worker's link); 0 without towers. */
    public long busiestTowerBytes() {
      long max = 0;
      for (long b : perTowerBytes) {
        max = Math.max(max, b);
      }
      return max;
    }
  }

  private Exchange() {}

  /** The crossings of a step traced with its partition graphs and a full trace. */
  public static Traffic measure(RunMetadata meta, List<DeviceSpec> towers) {
    // TensorFlow's trace leaves out the transfer ops themselves (_Send, _Recv): size each crossing by the output of
    // the node that feeds its _Send, which the trace records
    Map<String, List<String[]>> sent = new HashMap<>(); // producing node -> {output slot, send device, recv device}
    int crossings = 0;
    for (GraphDef partition : meta.getPartitionGraphsList()) {
      for (NodeDef node : partition.getNodeList()) {
        if (node.getOp().equals("_Send") || node.getOp().equals("_HostSend")) {
          String from = node.getAttrOrThrow("send_device").getS().toStringUtf8();
          String to = node.getAttrOrThrow("recv_device").getS().toStringUtf8();
          if (place(from, towers) != place(to, towers)) {
            String input = node.getInput(0);
            int colon = input.lastIndexOf(':');
            String producer = colon < 0 ? input : input.substring(0, colon);
            String slot = colon < 0 ? "0" : input.substring(colon + 1);
            sent.computeIfAbsent(producer, p -> new ArrayList<>()).add(new String[] {slot, from, to});
            crossings++;
          }
        }
      }
    }
    long total = 0;
    long[] perTower = new long[towers.size()];
    int sized = 0;
    int tensors = 0;
    for (DeviceStepStats device : meta.getStepStats().getDevStatsList()) {
      for (NodeExecStats node : device.getNodeStatsList()) {
        List<String[]> sends = sent.get(node.getNodeName());
        if (sends == null) {
          continue;
        }
        for (String[] send : sends) {
          int slot = Integer.parseInt(send[0]);
          NodeOutput out = node.getOutputList().stream().filter(o -> o.getSlot() == slot).findFirst().orElseThrow(
              () -> new IllegalStateException("the trace has no output " + slot + " of " + node.getNodeName()));
          long bytes = bytes(out.getTensorDescription().getDtype(), out.getTensorDescription().getShape());
          sized++;
          tensors += bytes > 0 ? 1 : 0;
          total += bytes;
          for (int e = 1; e <= 2; e++) {
            int k = place(send[e], towers);
            if (k >= 0) {
              perTower[k] += bytes;
            }
          }
        }
      }
    }
    if (sized != crossings) {
      throw new IllegalStateException("the step's trace sizes " + sized + " of its " + crossings + " transfers "
          + "between devices; was it traced with FULL_TRACE?");
    }
    return new Traffic(total, perTower, tensors);
  }

  /**
   * The crossings the graph's design implies: each tower off the state's device receives every weight and its shard
   * of x0, noise and t, and sends one gradient per trained weight and its two loss terms. Locally (no remote state)
   * tower 0 shares device 0 with the state, so it moves nothing.
   *
   * @param imagePixels height x width of one (one-channel) image
   */
  public static Traffic model(List<Param<TFloat32>> params, List<Param<TFloat32>> trained, int batch,
                              long imagePixels, Placement placement) {
    int n = placement.towers().size();
    long[] perTower = new long[n];
    boolean stateApart = placement.state() != null;
    if (n == 0 || (n == 1 && !stateApart)) {
      return new Traffic(0, perTower, 0);
    }
    long weights = 4 * params.stream().mapToLong(p -> p.shape().size()).sum();
    long gradients = 4 * trained.stream().mapToLong(p -> p.shape().size()).sum();
    long total = 0;
    int tensors = 0;
    for (int k = stateApart ? 0 : 1; k < n; k++) {
      long shard = batch / n + (k < batch % n ? 1 : 0);
      long in = weights + 2 * 4 * shard * imagePixels + 4 * shard; // x0, noise (float32), t (int32)
      long out = gradients + 2 * 4; // and main, penalty
      perTower[k] = in + out;
      total += in + out;
      tensors += params.size() + 3 + trained.size() + 2;
    }
    if (!stateApart) {
      perTower[0] = total; // device 0 holds the state: it exchanges with every other tower
    }
    return new Traffic(total, perTower, tensors);
  }

  /** Tower k whose device {@code device} (a full name) belongs to, or -1 for the state's place. */
  static int place(String device, List<DeviceSpec> towers) {
    Matcher m = DEVICE.matcher(device);
    if (!m.matches()) {
      throw new IllegalArgumentException("not a device name: " + device);
    }
    for (int k = 0; k < towers.size(); k++) {
      DeviceSpec t = towers.get(k);
      if ((t.job() == null || t.job().equals(m.group(1)))
          && (t.replica() == null || String.valueOf(t.replica()).equals(m.group(2)))
          && (t.task() == null || String.valueOf(t.task()).equals(m.group(3)))
          && (t.deviceType() == null || t.deviceType().name().equalsIgnoreCase(m.group(4)))
          && (t.deviceIndex() == null || String.valueOf(t.deviceIndex()).equals(m.group(5)))) {
        return k;
      }
    }
    return -1;
  }

  /** A tensor's bytes from its type and shape (0 for types without a fixed size). */
  static long bytes(DataType type, TensorShapeProto shape) {
    long count = 1;
    for (TensorShapeProto.Dim d : shape.getDimList()) {
      count *= Math.max(d.getSize(), 0);
    }
    return count * switch (type) {
      case DT_FLOAT, DT_INT32, DT_UINT32 -> 4;
      case DT_DOUBLE, DT_INT64, DT_UINT64, DT_COMPLEX64 -> 8;
      case DT_HALF, DT_BFLOAT16, DT_INT16, DT_UINT16 -> 2;
      case DT_BOOL, DT_INT8, DT_UINT8 -> 1;
      case DT_COMPLEX128 -> 16;
      default -> 0;
    };
  }
}
