package dev.tfdiffusion.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfdiffusion.UserError;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A checkpoint pinned by a reader survives pruning until the reader lets go; then the next checkpoint prunes it. */
class CheckpointPinTest {
  @TempDir
  Path run;

  private static void fakeSave(String prefix) {
    try {
      Files.writeString(Path.of(prefix + ".index"), "index of " + prefix);
      Files.writeString(Path.of(prefix + ".data-00000-of-00001"), "data of " + prefix);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static List<String> names(Checkpoints c) {
    return c.listNewestFirst().stream().map(p -> p.getFileName().toString()).toList();
  }

  @Test
  void pruningSkipsAPinnedCheckpoint() throws IOException {
    Checkpoints checkpoints = new Checkpoints(run, 1);
    checkpoints.write(10, 0.5, 1, CheckpointPinTest::fakeSave);
    try (Checkpoints.Pinned pinned = checkpoints.latestPinned(w -> {}).orElseThrow()) {
      assertEquals(10, pinned.checkpoint().state().step());
      checkpoints.write(20, 0.4, 2, CheckpointPinTest::fakeSave);
      checkpoints.write(30, 0.3, 3, CheckpointPinTest::fakeSave);
      assertEquals(List.of("step-00000030", "step-00000010"), names(checkpoints), "step 10 is pinned, step 20 is not");
      assertTrue(Checkpoints.verify(pinned.checkpoint().dir()).isEmpty(), "the pinned checkpoint is whole");
    }
    checkpoints.write(40, 0.2, 4, CheckpointPinTest::fakeSave);
    assertEquals(List.of("step-00000040"), names(checkpoints));
    try (var left = Files.list(checkpoints.root())) {
      assertEquals(List.of("step-00000040"), left.map(p -> p.getFileName().toString()).toList());
    }
  }

  @Test
  void aCheckpointFolderPinnedByNameStaysAndOneAlreadyPrunedIsExplained() throws IOException {
    Checkpoints checkpoints = new Checkpoints(run, 1);
    checkpoints.write(1, 0.5, 1, CheckpointPinTest::fakeSave);
    Path first = checkpoints.root().resolve("step-00000001");
    try (Checkpoints.Pinned pinned = Checkpoints.open(first)) {
      checkpoints.write(2, 0.4, 2, CheckpointPinTest::fakeSave);
      assertTrue(Files.isDirectory(first));
    }
    checkpoints.write(3, 0.3, 3, CheckpointPinTest::fakeSave);
    assertFalse(Files.exists(first));
    UserError e = assertThrows(UserError.class, () -> Checkpoints.open(first));
    assertEquals("Checkpoint folder " + first + " does not exist.", e.getMessage());
  }
}
