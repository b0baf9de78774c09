package dev.tfdiffusion;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** File helpers the tests share. */
public final class TestFiles {
  private TestFiles() {}

  /** Copies the tree under {@code from} to {@code to}, which must not exist yet. */
  public static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> walk = Files.walk(from)) {
      for (Path p : walk.toList()) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
  }

  /**
   * The first fenced code block in {@code language} after the HTML comment that begins with {@code marker} in the
   * project's README.md (the tests that run README's examples as they stand).
   */
  public static String readmeBlock(String marker, String language) throws IOException {
    String readme = Files.readString(Path.of("README.md"));
    int at = readme.indexOf(marker);
    if (at < 0) {
      throw new AssertionError("README.md has no " + marker + " block");
    }
    String fence = "```" + language + "\n";
    int start = readme.indexOf(fence, at) + fence.length();
    return readme.substring(start, readme.indexOf("```", start));
  }
}
