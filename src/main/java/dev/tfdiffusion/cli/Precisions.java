package dev.tfdiffusion.cli;

import dev.tfdiffusion.UserError;
import dev.tfdiffusion.bench.Sgemm;
import dev.tfdiffusion.util.Compute;
import dev.tfdiffusion.util.Compute.Precision;
import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * The {@code --precision fp32|bf16|fp16|auto} switch. A 16-bit type is refused where TensorFlow would silently ignore
 * it (grappler's bf16 rewrite needs a CPU with bf16 instructions; the float16 rewrite needs a GPU), and {@code auto}
 * measures instead of assuming: on some CPUs that have bf16 instructions a bf16 matrix product runs at half the
 * float32 speed.
 */
enum Precisions {
  FP32, BF16, FP16, AUTO;

  /** Size of the matrix products {@code auto} times: large enough to be compute-bound, small enough to take ms. */
  private static final int AUTO_PROBE_SIZE = 1024;

  /** picocli: case-insensitive fp32/bf16/fp16/auto. */
  static final class Converter implements ITypeConverter<Precisions> {
    @Override
    public Precisions convert(String value) {
      try {
        return Precisions.valueOf(value.toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException("--precision must be fp32, bf16, fp16 or auto, got '" + value + "'.");
      }
    }
  }

  Precision resolve() {
    boolean gpu = switch (this) {
      case FP32 -> false;
      default -> Devices.list().stream().anyMatch(d -> d.type().equals("GPU"));
    };
    switch (this) {
      case FP32:
        return Precision.FP32;
      case BF16:
        if (gpu) {
          throw UserError.usage("--precision bf16 rewrites CPU operations (oneDNN); on GPUs use --precision fp16.");
        }
        if (!Compute.cpuHasBf16()) {
          throw UserError.usage("--precision bf16 needs a CPU with bfloat16 instructions (avx512_bf16 or amx_bf16), "
              + "which this one lacks; use fp32.");
        }
        return Precision.BF16;
      case FP16:
        if (!gpu) {
          throw UserError.usage("--precision fp16 needs a GPU, and TensorFlow sees none; on CPUs use bf16 (where "
              + "supported) or fp32.");
        }
        return Precision.FP16;
      default:
        if (gpu) {
          return Precision.FP16;
        }
        if (!Compute.cpuHasBf16()) {
          return Precision.FP32;
        }
        double fp32 = Sgemm.gflops(AUTO_PROBE_SIZE, 3, Compute.DEFAULT);
        double bf16 = Sgemm.gflops(AUTO_PROBE_SIZE, 3, new Compute(false, Precision.BF16));
        return bf16 > fp32 ? Precision.BF16 : Precision.FP32;
    }
  }
}
