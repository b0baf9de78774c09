package dev.tfdiffusion.util;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * An operating-system lock on a file ({@code FileChannel.lock}, fcntl on Linux), shared or exclusive. The OS releases
 * it when the process dies, so a crash never leaves a stale lock. Java refuses a second lock on the same file within
 * one JVM (and on POSIX, closing any channel of a file drops all of the process's locks on it), so each file is
 * locked through one channel per JVM, kept in a table here; shared holders in the same JVM share it with a count.
 */
public final class LockFile implements AutoCloseable {
  private static final Map<Path, Held> HELD = new HashMap<>();

  private static final class Held {
    final FileChannel channel;
    final FileLock lock;
    int count = 1;

    Held(FileChannel channel, FileLock lock) {
      this.channel = channel;
      this.lock = lock;
    }
  }

  private final Path file;
  private final FileChannel channel;
  private boolean closed;

  private LockFile(Path file, FileChannel channel) {
    this.file = file;
    this.channel = channel;
  }

  /** The channel the lock is held through (to write or read the holder's details). */
  public FileChannel channel() {
    return channel;
  }

  /** An exclusive lock on {@code file} (created if missing), or empty when anyone else holds any lock on it. */
  public static Optional<LockFile> tryExclusive(Path file) throws IOException {
    return tryLock(file, false);
  }

  /**
   * A shared lock on {@code file} (created if missing; an existing one is opened read-only when it cannot be written),
   * or empty when someone holds it exclusively.
   */
  public static Optional<LockFile> tryShared(Path file) throws IOException {
    return tryLock(file, true);
  }

  /** Waits (polling) until an exclusive lock on {@code file} is free, at most {@code timeout}. */
  public static Optional<LockFile> exclusive(Path file, Duration timeout) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      Optional<LockFile> lock = tryExclusive(file);
      if (lock.isPresent() || System.nanoTime() > deadline) {
        return lock;
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return Optional.empty();
      }
    }
  }

  private static Optional<LockFile> tryLock(Path file, boolean shared) throws IOException {
    Path key = file.toAbsolutePath().normalize();
    synchronized (HELD) {
      Held held = HELD.get(key);
      if (held != null) {
        if (!shared || !held.lock.isShared()) {
          return Optional.empty();
        }
        held.count++;
        return Optional.of(new LockFile(key, held.channel));
      }
      FileChannel channel = open(key, shared);
      FileLock lock;
      try {
        lock = channel.tryLock(0, Long.MAX_VALUE, shared);
      } catch (OverlappingFileLockException e) {
        lock = null; // the same file under another name in this JVM
      } catch (IOException | RuntimeException e) {
        channel.close();
        throw e;
      }
      if (lock == null) {
        channel.close();
        return Optional.empty();
      }
      HELD.put(key, new Held(channel, lock));
      return Optional.of(new LockFile(key, channel));
    }
  }

  private static FileChannel open(Path file, boolean shared) throws IOException {
    try {
      return FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
    } catch (FileSystemException e) { // read-only folder or file
      if (shared && Files.isRegularFile(file)) {
        return FileChannel.open(file, StandardOpenOption.READ); // a shared lock needs only read access
      }
      throw e;
    }
  }

  /**
   * Whether this JVM holds a lock on {@code file}. Then nobody here may open and close the file again: on POSIX that
   * would drop the lock.
   */
  public static boolean heldHere(Path file) {
    synchronized (HELD) {
      return HELD.containsKey(file.toAbsolutePath().normalize());
    }
  }

  /** Releases this holder's share of the lock; the last one closes the channel. */
  @Override
  public void close() throws IOException {
    synchronized (HELD) {
      if (closed) {
        return;
      }
      closed = true;
      Held held = HELD.get(file);
      if (held == null || --held.count > 0) {
        return;
      }
      HELD.remove(file);
      try {
        held.lock.release();
      } finally {
        held.channel.close();
      }
    }
  }
}
