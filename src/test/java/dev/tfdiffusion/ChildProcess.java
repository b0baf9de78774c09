package dev.tfdiffusion;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The packaged program in a child process, as users run it: {@code java -jar target/tf-diffusion.jar ...}. */
public final class ChildProcess {
  public static final Path JAR = Path.of("target/tf-diffusion.jar").toAbsolutePath();

  private ChildProcess() {}

  /** A finished child process: its exit code and its merged output. */
  public record Output(int code, String text) {}

  public static ProcessBuilder builder(Path workDir, String... args) {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-jar", JAR.toString()));
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true);
    pb.environment().put("TF_CPP_MIN_LOG_LEVEL", "2");
    return pb;
  }

  /** Runs to completion (at most 10 minutes). */
  public static Output run(Path workDir, String... args) throws IOException, InterruptedException {
    Process p = builder(workDir, args).start();
    String text = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(10, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new AssertionError("timed out: " + String.join(" ", args));
    }
    return new Output(p.exitValue(), text);
  }
}
