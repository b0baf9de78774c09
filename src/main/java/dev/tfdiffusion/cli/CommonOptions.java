package dev.tfdiffusion.cli;

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

  /** {@code --xla on|off|auto}. */
  static final class XlaSwitch {
    @Option(names = "--xla", paramLabel = "on|off|auto", converter = Xla.Converter.class,
        description = "Compile with XLA: on, off, or auto (default: off on CPU, on with a GPU).")
    Xla xla = Xla.AUTO;

    /** Whether to compile; sets up the environment when yes. */
    boolean resolve() {
      return xla.resolve();
    }
  }
}
