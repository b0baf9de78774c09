package dev.tfdiffusion.util;

import com.sun.jna.Library;
import com.sun.jna.Native;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Optional;

/** Replacing a whole folder in one step, and telling whether a folder was replaced while it was read. */
public final class Folders {
  private Folders() {}

  /** Linux's renameat2(2), which can swap two paths atomically; glibc 2.28 and later. */
  private interface RenameAt extends Library {
    int AT_FDCWD = -100;
    int RENAME_EXCHANGE = 2;

    int renameat2(int oldDir, String oldPath, int newDir, String newPath, int flags);
  }

  /**
   * Puts the complete folder {@code fresh} at {@code target} and deletes what was there. Where the system can swap two
   * paths atomically, {@code target} names the old or the new folder at every moment, never nothing; elsewhere the old
   * folder is renamed away first and a reader may find the name missing for an instant.
   */
  public static void replace(Path fresh, Path target, Path scratch) throws IOException {
    if (!Files.exists(target)) {
      Files.move(fresh, target, StandardCopyOption.ATOMIC_MOVE);
      return;
    }
    if (exchange(fresh, target)) {
      FileTrees.delete(fresh); // now the old folder
      return;
    }
    FileTrees.delete(scratch);
    Files.move(target, scratch, StandardCopyOption.ATOMIC_MOVE);
    Files.move(fresh, target, StandardCopyOption.ATOMIC_MOVE);
    FileTrees.delete(scratch);
  }

  private static boolean exchange(Path a, Path b) {
    try {
      RenameAt libc = Native.load("c", RenameAt.class);
      return libc.renameat2(RenameAt.AT_FDCWD, a.toAbsolutePath().toString(), RenameAt.AT_FDCWD,
          b.toAbsolutePath().toString(), RenameAt.RENAME_EXCHANGE) == 0;
    } catch (UnsatisfiedLinkError | RuntimeException e) {
      return false; // no renameat2 here (or not Linux): the two-rename fallback
    }
  }

  /**
   * The identity of the folder at {@code dir} (device and inode on Unix), to compare before and after reading it: a
   * different one means the folder was replaced meanwhile.
   */
  public static Optional<Object> identity(Path dir) {
    try {
      return Optional.ofNullable(Files.readAttributes(dir, BasicFileAttributes.class).fileKey());
    } catch (IOException e) {
      return Optional.empty();
    }
  }
}
