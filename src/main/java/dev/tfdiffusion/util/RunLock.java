package dev.tfdiffusion.util;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tfdiffusion.RunLayout;
import dev.tfdiffusion.UserError;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Optional;

/**
 * One writer per folder: an exclusive {@link LockFile} on {@code <folder>/.tf-diffusion.lock}, taken by everything
 * that writes a run folder ({@code train}, {@code train --resume}, {@code export} into it) before it touches anything.
 * The lock file holds the holder's details, so a refused second writer can name it.
 */
public final class RunLock implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final DateTimeFormatter SINCE = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'")
      .withZone(ZoneOffset.UTC);

  /** Who holds a lock. */
  public record Holder(long pid, String host, String command, String since) {
    String describe() {
      String when = since;
      try {
        when = SINCE.format(Instant.parse(since));
      } catch (RuntimeException e) {
        // keep it as written
      }
      return "pid " + pid + " on " + host + ", '" + command + "', since " + when;
    }
  }

  private final LockFile lock;

  private RunLock(LockFile lock) {
    this.lock = lock;
  }

  /**
   * Locks {@code folder} (created if missing) for {@code command}, or fails with one sentence naming the holder.
   */
  public static RunLock acquire(Path folder, String command) {
    try {
      Files.createDirectories(folder);
    } catch (IOException e) {
      throw new UserError("Cannot create folder " + folder + ": " + e.getMessage() + ".");
    }
    Path file = folder.resolve(RunLayout.LOCK);
    Optional<LockFile> lock;
    try {
      lock = LockFile.tryExclusive(file);
    } catch (IOException e) {
      throw new UserError("Cannot lock " + folder + " for writing (" + file + "): " + e.getMessage() + ".");
    }
    if (lock.isEmpty()) {
      String who = LockFile.heldHere(file) ? "this process" : "another tf-diffusion process ("
          + holder(file).map(Holder::describe).orElse("its details are not readable") + ")";
      throw new UserError(folder + " is in use by " + who + "; wait for it to end or stop it, then try again.");
    }
    try {
      Holder me = new Holder(ProcessHandle.current().pid(), hostName(), command, Instant.now().toString());
      lock.get().channel().truncate(0);
      lock.get().channel().write(ByteBuffer.wrap(JSON.writeValueAsBytes(me)), 0);
      lock.get().channel().force(true);
      return new RunLock(lock.get());
    } catch (IOException e) {
      close(lock.get());
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }

  /** The details the holder wrote; retried briefly, since a new holder writes them just after it locks. */
  static Optional<Holder> holder(Path file) {
    for (int attempt = 0; attempt < 10; attempt++) {
      try {
        String text = Files.readString(file, StandardCharsets.UTF_8);
        if (!text.isBlank()) {
          return Optional.of(JSON.readValue(text, Holder.class));
        }
      } catch (IOException e) {
        // being written; try again
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    return Optional.empty();
  }

  private static String hostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return Optional.ofNullable(System.getenv("HOSTNAME")).orElse("unknown host");
    }
  }

  private static void close(LockFile lock) {
    try {
      lock.close();
    } catch (IOException e) {
      // the OS drops the lock with the process anyway
    }
  }

  /** Releases the lock (the file stays; an unlocked lock file means nothing). */
  @Override
  public void close() {
    close(lock);
  }
}
