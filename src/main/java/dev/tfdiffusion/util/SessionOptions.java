package dev.tfdiffusion.util;

import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.GraphOptions;
import org.tensorflow.proto.OptimizerOptions;

/**
 * Session settings shared by every graph of the program: soft placement (the int64 step counter has no GPU kernels)
 * and, when asked for, XLA's global JIT, which compiles the whole step into fused clusters. On CPU TensorFlow also
 * needs {@code TF_XLA_FLAGS=--tf_xla_cpu_global_jit} in the environment before its first session runs (see
 * {@code cli.Xla}).
 */
public final class SessionOptions {
  private SessionOptions() {}

  public static ConfigProto create(boolean xla) {
    return create(xla, 0);
  }

  /** As {@link #create(boolean)}, with {@code virtualCpus} CPU devices in the session when positive. */
  public static ConfigProto create(boolean xla, int virtualCpus) {
    ConfigProto.Builder b = ConfigProto.newBuilder().setAllowSoftPlacement(true);
    if (virtualCpus > 0) {
      b.putDeviceCount("CPU", virtualCpus);
    }
    if (xla) {
      b.setGraphOptions(GraphOptions.newBuilder().setOptimizerOptions(OptimizerOptions.newBuilder()
          .setGlobalJitLevel(OptimizerOptions.GlobalJitLevel.ON_1)));
    }
    return b.build();
  }
}
