package dev.tfdiffusion.cli;

import dev.tfdiffusion.util.Compute;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

/** Options several commands share (picocli mixins). */
final class CommonOptions {
  private CommonOptions() {}

  /** The command as the user typed it, for the run lock's holder details. */
  static String typed(CommandSpec spec) {
    return "tf-diffusion " + String.join(" ", spec.commandLine().getParseResult().originalArgs());
  }

  /** {@code --verbose}: stack traces on errors and TensorFlow's native log lines (read by {@link Main}). */
  static final class Verbose {
    @Option(names = "--verbose", description = "Show stack traces on errors and TensorFlow's native log lines.")
    boolean verbose;
  }

  /** {@code --xla on|off|auto} and {@code --precision fp32|bf16|fp16|auto}: how, not what, the graph computes. */
  static final class ComputeSwitches {
    @Option(names = "--xla", paramLabel = "on|off|auto", converter = Xla.Converter.class,
        description = "Compile with XLA: on, off, or auto (default: off on CPU, on with a GPU).")
    Xla xla = Xla.AUTO;

    @Option(names = "--precision", paramLabel = "fp32|bf16|fp16|auto", converter = Precisions.Converter.class,
        description = "Matrix products and convolutions in float32 (the default), bfloat16 (CPUs with bf16 "
            + "support) or float16 (GPUs); weights, optimizer and loss stay float32. auto: fp16 with a GPU, bf16 "
            + "where this CPU runs it faster than fp32 (measured at start), else fp32.")
    Precisions precision = Precisions.FP32;

    /** The settings; sets up XLA's environment when it is on (before TensorFlow starts: XLA reads it then). */
    Compute resolve() {
      boolean compile = xla.resolve();
      return new Compute(compile, precision.resolve());
    }
  }
}
