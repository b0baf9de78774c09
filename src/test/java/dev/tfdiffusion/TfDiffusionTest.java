package dev.tfdiffusion;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tfdiffusion.config.Presets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The library's errors: the command line's one-sentence messages, thrown before anything is written. */
class TfDiffusionTest {
  @TempDir
  Path dir;

  @Test
  void anImpossibleSettingIsAUserError() {
    Path run = dir.resolve("run");
    UserError e = assertThrows(UserError.class,
        () -> TfDiffusion.train(Presets.quick().with(Map.of("features", 0)), run));
    assertEquals("--features must be positive, got 0.", e.getMessage());
    assertFalse(Files.exists(run));
  }

  @Test
  void anExistingRunIsNeverReplaced() throws Exception {
    Path run = Files.createDirectories(dir.resolve("run"));
    Files.writeString(run.resolve(RunLayout.CONFIG), "{}");
    UserError e = assertThrows(UserError.class, () -> TfDiffusion.train(Presets.quick(), run));
    assertEquals(run + " already holds a run; continue it with --resume " + run + ", or replace it with --overwrite.",
        e.getMessage());
    assertEquals("{}", Files.readString(run.resolve(RunLayout.CONFIG)));
  }
}
