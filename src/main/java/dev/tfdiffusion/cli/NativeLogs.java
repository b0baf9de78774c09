package dev.tfdiffusion.cli;

import dev.tfdiffusion.util.LibC;
import java.io.BufferedReader;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * Hides TensorFlow's native log lines (its C++ INFO/WARNING chatter about oneDNN, CPU features, MLIR passes and
 * SavedModel loading) unless {@code --verbose}. Java cannot set its own environment, so {@code setenv} and the file
 * descriptor plumbing go through libc with JNA: TF_CPP_MIN_LOG_LEVEL quiets TensorFlow's logger at the source, and
 * native writes to stderr pass through a filter that drops the remaining log-formatted lines (absl's) and forwards
 * everything else. Java's own System.err bypasses the filter.
 */
final class NativeLogs {
  /** TensorFlow's two log formats (tsl and absl), INFO and WARNING only, and absl's start-up notice. */
  static final Pattern NOISE = Pattern.compile(
      "\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d+: [IW] .*"
          + "|[IW]\\d{4} \\d\\d:\\d\\d:\\d+\\.\\d+ +\\d+ \\S+:\\d+\\] .*"
          + "|WARNING: All log messages before absl::InitializeLog\\(\\) is called are written to STDERR"
          + "|To enable the following instructions: .*rebuild TensorFlow with the appropriate compiler flags\\.");

  private NativeLogs() {}

  /** Installs the filter; does nothing if the user asked for TensorFlow's logs or libc cannot be reached. */
  static void quiet() {
    if (System.getenv("TF_CPP_MIN_LOG_LEVEL") != null || !System.getProperty("os.name", "").startsWith("Linux")) {
      return;
    }
    try {
      LibC libc = LibC.load();
      libc.setenv("TF_CPP_MIN_LOG_LEVEL", "2", 0);
      int original = libc.dup(2);
      int[] pipe = new int[2];
      if (original < 0 || libc.pipe(pipe) != 0 || libc.dup2(pipe[1], 2) < 0) {
        return;
      }
      libc.close(pipe[1]);
      OutputStream stderr = new FileOutputStream("/proc/self/fd/" + original, true);
      System.setErr(new PrintStream(stderr, true, StandardCharsets.UTF_8));
      Thread pump = new Thread(() -> forward(pipe[0], stderr), "native-log-filter");
      pump.setDaemon(true);
      pump.start();
    } catch (UnsatisfiedLinkError | RuntimeException | IOException e) {
      // no filter: the logs stay visible, nothing else changes
    }
  }

  private static void forward(int fd, OutputStream out) {
    try (BufferedReader in = new BufferedReader(new InputStreamReader(new FileInputStream("/proc/self/fd/" + fd),
        StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        if (!NOISE.matcher(line).matches()) {
          out.write((line + System.lineSeparator()).getBytes(StandardCharsets.UTF_8));
          out.flush();
        }
      }
    } catch (IOException e) {
      // stderr went away: nothing left to forward to
    }
  }
}
