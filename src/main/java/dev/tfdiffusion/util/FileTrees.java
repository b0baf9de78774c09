package dev.tfdiffusion.util;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/** Deleting folders (the JDK has no recursive delete). */
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
}
