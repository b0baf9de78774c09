package dev.tfdiffusion.train;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tfdiffusion.UserError;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Training refuses to start, with the numbers, when two checkpoints and the export would not fit. */
class DiskSpaceTest {
  @Test
  void refusesWithTheNumbers() {
    Path run = Path.of("graphs", "run");
    // features 64: 57,355,137 parameters x 4 tensors x 4 bytes + 1 MiB = 876 MB per checkpoint; the export
    // 57,355,137 x 4 bytes + 1 MiB = 220 MB; plus 16 MB for the rest: 2 x 876 + 220 + 16 = 1988 MB
    UserError e = assertThrows(UserError.class,
        () -> Trainer.requireDiskSpace(run, 57_355_137L, 4, 500L << 20));
    assertEquals("Not enough disk space in " + run + ": training needs about 1988 MB (two checkpoints of 876 MB and "
        + "the exported model), but only 500 MB are free.", e.getMessage());
    assertDoesNotThrow(() -> Trainer.requireDiskSpace(run, 57_355_137L, 4, 2000L << 20));
  }
}
