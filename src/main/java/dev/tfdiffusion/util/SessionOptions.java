package dev.tfdiffusion.util;

import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.GraphOptions;
import org.tensorflow.proto.OptimizerOptions;
import org.tensorflow.proto.RewriterConfig;

/**
 * Session settings shared by every graph of the program: soft placement (the int64 step counter has no GPU kernels);
 * when asked for, XLA's global JIT, which compiles the whole step into fused clusters (on CPU TensorFlow also needs
 * {@code TF_XLA_FLAGS=--tf_xla_cpu_global_jit} in the environment before its first session runs, see
 * {@code cli.Xla}); and a 16-bit precision through grappler's mixed-precision rewrites, which change only the ops on
 * their allow lists (matrix products, convolutions and what lies between them) and keep the variables, the optimizer
 * and the loss's reductions in float32.
 */
public final class SessionOptions {
  private SessionOptions() {}

  public static ConfigProto create(boolean xla) {
    return create(Compute.of(xla), 0);
  }

  /** As {@link #create(boolean)}, with {@code virtualCpus} CPU devices in the session when positive. */
  public static ConfigProto create(boolean xla, int virtualCpus) {
    return create(Compute.of(xla), virtualCpus);
  }

  public static ConfigProto create(Compute compute, int virtualCpus) {
    ConfigProto.Builder b = ConfigProto.newBuilder().setAllowSoftPlacement(true);
    if (virtualCpus > 0) {
      b.putDeviceCount("CPU", virtualCpus);
    }
    // one pass of grappler's optimizers, not the default two: the second found nothing more in the training step and
    // cost a sixth of the time to the first step
    RewriterConfig.Builder rewrites = RewriterConfig.newBuilder()
        .setMetaOptimizerIterations(RewriterConfig.NumIterationsType.ONE);
    GraphOptions.Builder graph = GraphOptions.newBuilder();
    if (compute.xla()) {
      graph.setOptimizerOptions(OptimizerOptions.newBuilder()
          .setGlobalJitLevel(OptimizerOptions.GlobalJitLevel.ON_1));
    }
    switch (compute.precision()) {
      case BF16 -> rewrites.setAutoMixedPrecisionOnednnBfloat16(RewriterConfig.Toggle.ON);
      case FP16 -> rewrites.setAutoMixedPrecision(RewriterConfig.Toggle.ON);
      case FP32 -> { }
    }
    return b.setGraphOptions(graph.setRewriteOptions(rewrites)).build();
  }
}
