package dev.tfdiffusion.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The filter drops TensorFlow's INFO/WARNING lines, as printed by TF 2.18, and keeps everything else. */
class NativeLogsTest {
  private static boolean dropped(String line) {
    return NativeLogs.NOISE.matcher(line).matches();
  }

  @Test
  void dropsTensorFlowInfoAndWarnings() {
    assertTrue(dropped("2026-11-28 10:01:31.726440: I tensorflow/core/util/port.cc:153] oneDNN custom operations "
        + "are on. You may see slightly different numerical results due to floating-point round-off errors."));
    assertTrue(dropped("2026-11-28 10:38:39.765756: I tensorflow/cc/saved_model/reader.cc:83] Reading SavedModel "
        + "from: graphs/run/saved_model"));
    assertTrue(dropped("WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"));
    assertTrue(dropped("I0000 00:00:1795859375.093550    4060 mlir_graph_optimization_pass.cc:401] MLIR V1 "
        + "optimization pass is not enabled"));
    assertTrue(dropped("To enable the following instructions: AVX2 AVX512F AVX512_VNNI AVX512_BF16 FMA, in other "
        + "operations, rebuild TensorFlow with the appropriate compiler flags."));
  }

  @Test
  void keepsErrorsAndEverythingElse() {
    assertFalse(dropped("2026-11-28 10:38:39.765756: E tensorflow/core/framework/op_kernel.cc:1234] OP_REQUIRES "
        + "failed"));
    assertFalse(dropped("F0000 00:00:1795859375.093550    4060 something.cc:1] Check failed"));
    assertFalse(dropped("# A fatal error has been detected by the Java Runtime Environment:"));
    assertFalse(dropped("Step 100, Loss: 0.6003"));
  }
}
