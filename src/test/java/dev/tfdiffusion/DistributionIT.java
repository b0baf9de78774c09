package dev.tfdiffusion;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The application archive as a user gets it: {@code target/tf-diffusion-<version>.zip} unpacked into a folder outside
 * the repository, its {@code bin/tf-diffusion} run from other working directories (and through a symlink), and the
 * {@code .tar.gz} holding the same files.
 */
class DistributionIT {
  @TempDir
  static Path unpacked;
  static String version;
  static Path home;

  @BeforeAll
  static void unzip() throws IOException {
    try (JarFile jar = new JarFile(ChildProcess.JAR.toFile())) {
      version = jar.getManifest().getMainAttributes().getValue("Implementation-Version");
    }
    assertFalse(unpacked.toAbsolutePath().startsWith(Path.of("").toAbsolutePath()), unpacked + " is in the repository");
    // zipfs keeps the entries' Unix modes, which java.util.zip does not show
    try (FileSystem zip = FileSystems.newFileSystem(URI.create("jar:" + zip().toUri()),
        Map.of("enablePosixFileAttributes", "true"))) {
      Path root = zip.getPath("/");
      try (Stream<Path> walk = Files.walk(root)) {
        for (Path p : walk.toList()) {
          Path target = unpacked.resolve(root.relativize(p).toString());
          if (Files.isDirectory(p)) {
            Files.createDirectories(target);
          } else {
            Files.copy(p, target);
            Files.setPosixFilePermissions(target, Files.getPosixFilePermissions(p));
          }
        }
      }
    }
    home = unpacked.resolve("tf-diffusion-" + version);
  }

  static Path zip() {
    return ChildProcess.JAR.resolveSibling("tf-diffusion-" + version + ".zip");
  }

  /** {@code command} run in {@code workDir} with the given environment changes (a null value removes the name). */
  static ChildProcess.Output run(Path workDir, Map<String, String> env, String... command)
      throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true);
    pb.environment().put("TF_CPP_MIN_LOG_LEVEL", "2");
    pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
    pb.environment().remove("JAVA_OPTS");
    env.forEach((k, v) -> {
      if (v == null) {
        pb.environment().remove(k);
      } else {
        pb.environment().put(k, v);
      }
    });
    Process p = pb.start();
    String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(10, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new AssertionError("timed out: " + String.join(" ", command));
    }
    return new ChildProcess.Output(p.exitValue(), text);
  }

  @Test
  void summaryAndVersionFromAnotherFolder(@TempDir Path work) throws Exception {
    ChildProcess.Output summary = run(work, Map.of(), home.resolve("bin/tf-diffusion").toString(), "summary",
        "--features", "8");
    assertEquals(0, summary.code(), summary.text());
    assertTrue(summary.text().contains("Total parameters: 946,001"), summary.text());
    // the version comes from the jar's manifest, on the class path as in target/
    ChildProcess.Output v = run(work, Map.of(), home.resolve("bin/tf-diffusion").toString(), "--version");
    assertEquals(0, v.code(), v.text());
    assertTrue(v.text().startsWith("tf-diffusion " + version + " (TensorFlow "), v.text());
  }

  @Test
  void tinyTrainWithJavaOptsAndJavaOnThePath(@TempDir Path work) throws Exception {
    Map<String, String> env = new HashMap<>();
    // several options in one variable: split at the spaces, or java would refuse "-Xmx1g -D..." as one heap size
    env.put("JAVA_OPTS", "-Xmx1g -Dtfd.probe=from-java-opts -XshowSettings:properties");
    env.put("JAVA_HOME", null);
    env.put("PATH", Path.of(System.getProperty("java.home"), "bin") + File.pathSeparator + System.getenv("PATH"));
    ChildProcess.Output train = run(work, env, home.resolve("bin/tf-diffusion").toString(), "train", "--features",
        "2", "--steps", "2", "--diffusion-steps", "20", "--no-export", "--out", "run");
    assertEquals(0, train.code(), train.text());
    assertTrue(train.text().contains("tfd.probe = from-java-opts"), train.text());
    for (String f : List.of("config.json", "train_log.csv", "loss.png", "training_images.png", "checkpoints")) {
      assertTrue(Files.exists(work.resolve("run").resolve(f)), f + " missing: " + train.text());
    }
    assertFalse(Files.exists(work.resolve("run/saved_model")));
  }

  @Test
  void runsThroughARelativeSymlink(@TempDir Path work) throws Exception {
    Path links = Files.createDirectories(work.resolve("links"));
    Files.createSymbolicLink(links.resolve("tfd"), links.relativize(home.resolve("bin/tf-diffusion")));
    ChildProcess.Output v = run(work, Map.of(), "links/tfd", "--version");
    assertEquals(0, v.code(), v.text());
    assertTrue(v.text().startsWith("tf-diffusion " + version), v.text());
  }

  @Test
  void noJavaIsOneSentence(@TempDir Path work) throws Exception {
    // an empty PATH: the launcher needs no outside command unless it follows a symlink
    Map<String, String> env = new HashMap<>();
    env.put("JAVA_HOME", null);
    env.put("PATH", work.toString());
    ChildProcess.Output o = run(work, env, home.resolve("bin/tf-diffusion").toString(), "--version");
    assertEquals(1, o.code(), o.text());
    assertEquals("No java on the PATH: install a Java 17 or newer runtime, or set JAVA_HOME to one.", o.text().strip());
  }

  @Test
  void tarGzHoldsTheSameFilesWithTheLauncherExecutable() throws Exception {
    Map<String, Integer> tar = tarModes(zip().resolveSibling("tf-diffusion-" + version + ".tar.gz"));
    Map<String, Integer> zip = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(unpacked)) {
      for (Path p : walk.filter(Files::isRegularFile).toList()) {
        zip.put(unpacked.relativize(p).toString(), mode(Files.getPosixFilePermissions(p)));
      }
    }
    assertEquals(zip, tar);
    String top = "tf-diffusion-" + version + "/";
    assertEquals(0755, tar.get(top + "bin/tf-diffusion"));
    assertTrue(tar.containsKey(top + "bin/tf-diffusion.bat"));
    assertTrue(tar.containsKey(top + "README.md"));
    assertTrue(tar.containsKey(top + "licenses/digits-data.md"));
    assertTrue(tar.containsKey(top + "lib/tf-diffusion-" + version + ".jar"));
    // the same runtime jars as target/lib, which java -jar target/tf-diffusion.jar uses
    List<String> lib = new ArrayList<>();
    try (Stream<Path> jars = Files.list(ChildProcess.JAR.resolveSibling("lib"))) {
      jars.forEach(j -> lib.add(top + "lib/" + j.getFileName()));
    }
    lib.add(top + "lib/tf-diffusion-" + version + ".jar");
    assertEquals(new TreeSet<>(lib), new TreeSet<>(tar.keySet().stream()
        .filter(k -> k.startsWith(top + "lib/")).toList()));
  }

  private static int mode(Set<PosixFilePermission> permissions) {
    String rwx = PosixFilePermissions.toString(permissions);
    int m = 0;
    for (int i = 0; i < 9; i++) {
      m = m << 1 | (rwx.charAt(i) == '-' ? 0 : 1);
    }
    return m;
  }

  /**
   * The regular files of a .tar.gz and their modes, read from the ustar headers (an extension header, which a long
   * name would bring, fails the test).
   */
  private static Map<String, Integer> tarModes(Path tarGz) throws IOException {
    Map<String, Integer> files = new TreeMap<>();
    try (DataInputStream in = new DataInputStream(new GZIPInputStream(Files.newInputStream(tarGz), 1 << 16))) {
      byte[] header = new byte[512];
      while (true) {
        in.readFully(header);
        if (header[0] == 0) {
          return files; // the end-of-archive blocks
        }
        String name = field(header, 0, 100);
        String prefix = field(header, 345, 155);
        long size = Long.parseLong(field(header, 124, 12).strip(), 8);
        char type = (char) header[156];
        assertTrue(type == '0' || type == '5' || type == 0, "tar entry " + name + " of type " + type);
        if (type != '5') {
          files.put(prefix.isEmpty() ? name : prefix + "/" + name, Integer.parseInt(field(header, 100, 8).strip(), 8)
              & 0777);
        }
        in.skipNBytes((size + 511) / 512 * 512);
      }
    }
  }

  private static String field(byte[] header, int from, int length) {
    int end = from;
    while (end < from + length && header[end] != 0) {
      end++;
    }
    return new String(header, from, end - from, StandardCharsets.US_ASCII);
  }
}
