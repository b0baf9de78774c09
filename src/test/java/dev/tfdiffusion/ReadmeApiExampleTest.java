package dev.tfdiffusion;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * README's library example, compiled as it stands against the test class path and run in a child JVM in an empty
 * folder (its paths are relative), so that it cannot drift from the API.
 */
class ReadmeApiExampleTest {
  private static final String MARKER = "<!-- api-example";

  @TempDir
  Path dir;

  /** The java block after the marker in README.md. */
  static String block() throws Exception {
    return TestFiles.readmeBlock(MARKER, "java");
  }

  @Test
  void theExampleInReadmeCompilesAndRuns() throws Exception {
    String source = block();
    Matcher name = Pattern.compile("public class (\\w+)").matcher(source);
    assertTrue(name.find(), "README's example declares no public class");
    Path src = Files.createDirectories(dir.resolve("src")).resolve(name.group(1) + ".java");
    Files.writeString(src, source);
    Path classes = Files.createDirectories(dir.resolve("classes"));
    String classPath = System.getProperty("java.class.path");

    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    assertNotNull(javac, "no Java compiler: the tests need a JDK");
    ByteArrayOutputStream errors = new ByteArrayOutputStream();
    int compiled = javac.run(null, errors, errors, "-classpath", classPath, "-d", classes.toString(),
        src.toString());
    assertEquals(0, compiled, "README's example does not compile:\n" + errors.toString(StandardCharsets.UTF_8));

    Path work = Files.createDirectories(dir.resolve("work"));
    ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx1g", "-cp", classes + File.pathSeparator + classPath, name.group(1))
        .directory(work.toFile()).redirectErrorStream(true);
    pb.environment().put("TF_CPP_MIN_LOG_LEVEL", "2");
    Process p = pb.start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(5, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new AssertionError("README's example did not end in 5 minutes:\n" + output);
    }
    assertEquals(0, p.exitValue(), "README's example failed:\n" + output);

    byte[] png = Files.readAllBytes(work.resolve("api-samples.png"));
    assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, Arrays.copyOf(png, 4));
    Path model = work.resolve("graphs/api-example/saved_model");
    assertTrue(Files.isRegularFile(model.resolve(RunLayout.SAVED_MODEL_PB)), output);
    // the run folder is train's, with its progress lines on the stream given
    for (String f : List.of(RunLayout.CONFIG, RunLayout.TRAIN_LOG, RunLayout.SAMPLES_PNG)) {
      assertTrue(Files.isRegularFile(work.resolve("graphs/api-example").resolve(f)), f + " missing:\n" + output);
    }
    assertTrue(output.contains("Finished 50 steps"), output);
  }
}
