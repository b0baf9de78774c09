package dev.tfdiffusion.cli;

import dev.tfdiffusion.UserError;
import dev.tfdiffusion.util.LibC;
import java.util.Locale;
import picocli.CommandLine.ITypeConverter;

/**
 * The {@code --xla on|off|auto} switch. {@code auto} decides per device by the measurements in README: off on CPU
 * (compiling the second-order step costs more than the few per cent it gains there), on where a GPU is present. On
 * CPU, TensorFlow's global JIT also needs {@code TF_XLA_FLAGS=--tf_xla_cpu_global_jit} in the process environment
 * before the first session runs, which {@link #enable()} sets through libc.
 */
enum Xla {
  ON, OFF, AUTO;

  /** picocli: case-insensitive on/off/auto. */
  static final class Converter implements ITypeConverter<Xla> {
    @Override
    public Xla convert(String value) {
      try {
        return Xla.valueOf(value.toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new picocli.CommandLine.TypeConversionException("--xla must be on, off or auto, got '" + value + "'.");
      }
    }
  }

  /** Whether to compile, after setting up the environment when the answer is yes. */
  boolean resolve() {
    boolean on = this == ON || (this == AUTO && Devices.list().stream().anyMatch(d -> d.type().equals("GPU")));
    if (on) {
      enable();
    }
    return on;
  }

  private static void enable() {
    String flags = System.getenv("TF_XLA_FLAGS");
    String cpuJit = "--tf_xla_cpu_global_jit";
    if (flags == null || !flags.contains(cpuJit)) {
      try {
        LibC.load().setenv("TF_XLA_FLAGS", flags == null ? cpuJit : flags + " " + cpuJit, 1);
      } catch (UnsatisfiedLinkError e) {
        throw new UserError("--xla on needs TF_XLA_FLAGS=" + cpuJit + " in the environment on this system; set it "
            + "and run again.");
      }
    }
  }
}
