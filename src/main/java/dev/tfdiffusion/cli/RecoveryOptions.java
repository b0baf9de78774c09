package dev.tfdiffusion.cli;

import dev.tfdiffusion.UserError;
import dev.tfdiffusion.train.Placement;
import java.time.Duration;
import picocli.CommandLine.Option;

/** {@code train}'s options for workers that fail mid-run (a picocli mixin; they apply with --workers only). */
final class RecoveryOptions {
  private static final int DEFAULT_RECOVER_TIMEOUT_S = 300;

  @Option(names = "--step-timeout", paramLabel = "S",
      description = "A step that takes longer than S seconds means a worker stopped answering (a frozen host); it is "
          + "then handled like a lost worker (with --workers; default: 20 times the median step, at least "
          + "60 s; the first step, which also optimises the graph, at least 600 s).")
  Integer stepTimeout;

  @Option(names = "--recover-timeout", paramLabel = "S",
      description = "Seconds to wait for a lost or frozen worker to answer again on its address before the run "
          + "stops with a checkpoint to resume from; 0 stops at once (with --workers; default: "
          + DEFAULT_RECOVER_TIMEOUT_S + ").")
  Integer recoverTimeout;

  /** The recovery settings; a usage error when given without workers or out of range. */
  Placement.Recovery resolve(boolean workers) {
    if (!workers && (stepTimeout != null || recoverTimeout != null)) {
      throw UserError.usage((stepTimeout != null ? "--step-timeout" : "--recover-timeout") + " applies to "
          + "training on workers; add --workers or drop it.");
    }
    if (stepTimeout != null && stepTimeout < 1) {
      throw UserError.usage("--step-timeout must be at least 1 second, got " + stepTimeout + ".");
    }
    if (recoverTimeout != null && recoverTimeout < 0) {
      throw UserError.usage("--recover-timeout must be 0 or more seconds, got " + recoverTimeout + ".");
    }
    return new Placement.Recovery(stepTimeout == null ? null : Duration.ofSeconds(stepTimeout),
        Duration.ofSeconds(recoverTimeout == null ? DEFAULT_RECOVER_TIMEOUT_S : recoverTimeout));
  }
}
