package dev.tfdiffusion;

import static org.junit.jupiter.api.Assertions.fail;

import dev.tfdiffusion.RunLayout;
import dev.tfdiffusion.util.Pin;
import dev.tfdiffusion.util.FileTrees;
import dev.tfdiffusion.util.RunLock;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Everything under a folder (or a path that does not exist yet): each entry's relative path, kind, size, last-modified
 * time and, for files, SHA-256. Taken before and after a command that must write nothing, the two must be equal.
 */
public final class FileSnapshot {
  /** Lock files hold no results: a refused writer may leave one, and a reader pins a checkpoint with one. */
  private static final Set<String> LOCKS = Set.of(RunLayout.LOCK, Pin.FILE);

  private final Path root;
  private final SortedMap<String, String> entries;

  private FileSnapshot(Path root, SortedMap<String, String> entries) {
    this.root = root;
    this.entries = entries;
  }

  /** The tree under {@code root} now; {@code root} itself is the entry "." (absent if it does not exist). */
  public static FileSnapshot of(Path root) {
    SortedMap<String, String> entries = new TreeMap<>();
    if (Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
      try (Stream<Path> walk = Files.walk(root)) {
        for (Path p : walk.toList()) {
          if (LOCKS.contains(p.getFileName().toString())) {
            continue;
          }
          String name = p.equals(root) ? "." : root.relativize(p).toString();
          entries.put(name, describe(p));
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return new FileSnapshot(root, entries);
  }

  private static String describe(Path p) throws IOException {
    BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    if (a.isDirectory()) {
      return "folder, modified " + a.lastModifiedTime();
    }
    if (a.isSymbolicLink()) {
      return "link to " + Files.readSymbolicLink(p);
    }
    return "file, " + a.size() + " bytes, modified " + a.lastModifiedTime() + ", sha256 " + FileTrees.sha256(p);
  }

  public Path root() {
    return root;
  }

  /** The relative paths ("." for the root) that were added, removed or changed between this snapshot and now. */
  public SortedSet<String> changedSince() {
    return changes(of(root));
  }

  /** The relative paths that differ between this snapshot and {@code later}. */
  public SortedSet<String> changes(FileSnapshot later) {
    SortedSet<String> changed = new TreeSet<>();
    for (Map.Entry<String, String> e : entries.entrySet()) {
      if (!Objects.equals(e.getValue(), later.entries.get(e.getKey()))) {
        changed.add(e.getKey());
      }
    }
    for (String name : later.entries.keySet()) {
      if (!entries.containsKey(name)) {
        changed.add(name);
      }
    }
    return changed;
  }

  /** Fails, naming each added, removed or changed entry, unless the tree is exactly as it was. */
  public void assertUnchanged() {
    FileSnapshot now = of(root);
    SortedSet<String> changed = changes(now);
    if (!changed.isEmpty()) {
      StringBuilder message = new StringBuilder("something was written under " + root + ":");
      for (String name : changed) {
        message.append(System.lineSeparator()).append("  ").append(name).append(": ")
            .append(entries.getOrDefault(name, "absent")).append(" -> ")
            .append(now.entries.getOrDefault(name, "absent"));
      }
      fail(message.toString());
    }
  }

  /** Runs {@code command} and fails if it wrote anything under any of {@code roots}. */
  public static <T> T assertWritesNothing(java.util.function.Supplier<T> command, Path... roots) {
    FileSnapshot[] before = new FileSnapshot[roots.length];
    for (int i = 0; i < roots.length; i++) {
      before[i] = of(roots[i]);
    }
    T result = command.get();
    for (FileSnapshot s : before) {
      s.assertUnchanged();
    }
    return result;
  }

  /** What a command that must fail said: its exit code and its stderr, stripped. */
  public record Failure(int code, String err) {}

  /** Runs the command line {@code args}, which must fail, and fails if it wrote anything under {@code root}. */
  public static Failure failsWritingNothing(Path root, String... args) {
    return assertWritesNothing(() -> {
      java.io.StringWriter err = new java.io.StringWriter();
      int code = dev.tfdiffusion.cli.Main.run(new java.io.PrintWriter(err, true), args);
      return new Failure(code, err.toString().strip());
    }, root);
  }

  @Override
  public String toString() {
    return root + " " + entries;
  }
}
