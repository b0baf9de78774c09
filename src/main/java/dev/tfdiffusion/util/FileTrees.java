package dev.tfdiffusion.util;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/** What the JDK lacks for files and folders: recursive deletes, a file's SHA-256, fsync. */
public final class FileTrees {
  private FileTrees() {}

  /** Deletes {@code p} and everything below it; nothing happens if it does not exist. */
  public static void delete(Path p) throws IOException {
    if (!Files.exists(p)) {
      return;
    }
    List<Path> all;
    try (Stream<Path> walk = Files.walk(p)) {
      all = walk.sorted(Comparator.reverseOrder()).toList();
    }
    for (Path q : all) {
      Files.deleteIfExists(q);
    }
  }

  /** Deletes what is inside folder {@code p}, keeping the folder and the entries named {@code keep}. */
  public static void deleteContents(Path p, String... keep) throws IOException {
    List<String> kept = List.of(keep);
    List<Path> children;
    try (Stream<Path> list = Files.list(p)) {
      children = list.filter(c -> !kept.contains(c.getFileName().toString())).toList();
    }
    for (Path child : children) {
      delete(child);
    }
  }

  public static boolean isEmptyDirectory(Path p) throws IOException {
    if (!Files.isDirectory(p)) {
      return false;
    }
    try (Stream<Path> s = Files.list(p)) {
      return s.findAny().isEmpty();
    }
  }

  /** The SHA-256 of a file, in hex. */
  public static String sha256(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      byte[] buf = new byte[1 << 16];
      int n;
      while ((n = in.read(buf)) > 0) {
        md.update(buf, 0, n);
      }
      return HexFormat.of().formatHex(md.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Forces a file (or, where the file system allows, a folder's entries) to the disk. */
  public static void fsync(Path p) throws IOException {
    boolean dir = Files.isDirectory(p);
    try (FileChannel ch = FileChannel.open(p, dir ? StandardOpenOption.READ : StandardOpenOption.WRITE)) {
      ch.force(true);
    } catch (IOException e) {
      if (!dir) {
        throw e; // some file systems refuse to sync directories; files must sync
      }
    }
  }
}
