package dev.tfdiffusion.distributed;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfdiffusion.ChildProcess;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** Worker processes on 127.0.0.1 for the distributed tests. */
final class TestCluster {
  private TestCluster() {}

  static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** A {@code worker} child process, returned once it says it listens. */
  static Process startWorker(Path dir, String cluster, int task) throws Exception {
    Process p = ChildProcess.builder(dir, "worker", "--cluster", cluster, "--task", Integer.toString(task)).start();
    BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line;
    do {
      line = out.readLine();
    } while (line != null && !line.startsWith("worker "));
    assertTrue(line != null && line.startsWith("worker " + task + " listening on "), "worker " + task
        + " did not start");
    return p;
  }
}
