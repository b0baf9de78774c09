package dev.tfdiffusion.cli;

import dev.tfdiffusion.UserError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Checks, before any work, that an output file or folder can be created where the user named it; writes nothing. */
final class OutputPaths {
  private OutputPaths() {}

  /**
   * Fails with one sentence (exit 1) when the nearest existing folder above {@code path} is a file or is not
   * writable; missing folders in between are fine ({@link #createParents} makes them when the output is written).
   */
  static void requireCreatable(Path path) {
    requireCreatable("", path);
  }

  /** As {@link #requireCreatable(Path)}, naming the output as {@code what} ("run folder ") in the sentence. */
  static void requireCreatable(String what, Path path) {
    if (path == null) {
      return;
    }
    Path p = path.getParent();
    while (p != null && !Files.exists(p)) {
      p = p.getParent();
    }
    Path existing = p != null ? p : Path.of("").toAbsolutePath();
    if (!Files.isDirectory(existing)) {
      throw new UserError("Cannot create " + what + path + ": " + existing + " is a file, not a folder.");
    }
    if (!Files.isWritable(existing)) {
      throw new UserError("Cannot create " + what + path + ": " + existing + " is not writable.");
    }
  }

  /** Creates the missing folders above {@code path}, once the output is about to be written. */
  static void createParents(Path path) throws IOException {
    if (path != null && path.toAbsolutePath().getParent() != null) {
      Files.createDirectories(path.toAbsolutePath().getParent());
    }
  }
}
