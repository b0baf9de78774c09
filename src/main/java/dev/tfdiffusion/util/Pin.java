package dev.tfdiffusion.util;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A reader's hold on a folder that a writer may remove while it is read (a checkpoint that training prunes): a shared
 * {@link LockFile} on {@code <dir>/.pin}. The remover takes the same lock exclusively before it removes the folder and
 * leaves a pinned folder alone, so a reader never loses what it has started to read.
 */
public final class Pin implements AutoCloseable {
  public static final String FILE = ".pin";

  private final LockFile lock; // null: not pinnable (read-only), read at the reader's own risk

  private Pin(LockFile lock) {
    this.lock = lock;
  }

  /** Pins {@code dir} for reading; empty when it is gone or being removed. */
  public static Optional<Pin> forReading(Path dir) throws IOException {
    Path file = dir.resolve(FILE);
    if (!Files.isDirectory(dir)) {
      return Optional.empty();
    }
    Optional<LockFile> lock;
    try {
      lock = LockFile.tryShared(file);
    } catch (NoSuchFileException e) {
      return Optional.empty(); // removed between the check and the lock
    } catch (FileSystemException e) {
      return Optional.of(new Pin(null)); // a folder we may not write to: nobody prunes it from here
    }
    if (lock.isEmpty()) {
      return Optional.empty();
    }
    if (!Files.exists(file)) { // we locked a file the remover had already taken away with its folder
      lock.get().close();
      return Optional.empty();
    }
    return Optional.of(new Pin(lock.get()));
  }

  /** Holds {@code dir} for removal; empty while a reader has it pinned. */
  public static Optional<Pin> forRemoval(Path dir) throws IOException {
    return LockFile.tryExclusive(dir.resolve(FILE)).map(Pin::new);
  }

  @Override
  public void close() throws IOException {
    if (lock != null) {
      lock.close();
    }
  }
}
