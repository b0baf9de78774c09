package dev.tfdiffusion.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfdiffusion.ChildProcess;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.GrpcSessions;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.RunMetadata;
import org.tensorflow.proto.RunOptions;
import org.tensorflow.types.TFloat32;

/**
 * {@code worker}, as a user starts it: it says where it listens, runs what a remote session places on it, and ends
 * with exit code 0 on SIGTERM; a port in use and a task outside the cluster are one sentence and exit code 2.
 */
class WorkerIT {
  @TempDir
  Path dir;

  @Test
  void workerServesARemoteSessionAndStopsWithZeroOnSigterm() throws Exception {
    int port = TestCluster.freePort();
    String address = "127.0.0.1:" + port;
    Process worker = ChildProcess.builder(dir, "worker", "--cluster", address, "--task", "0").start();
    try {
      BufferedReader out = new BufferedReader(new InputStreamReader(worker.getInputStream(), StandardCharsets.UTF_8));
      String line;
      do {
        line = out.readLine();
      } while (line != null && !line.startsWith("worker "));
      assertEquals("worker 0 listening on " + address, line);

      try (Graph g = new Graph()) {
        Ops tf = Ops.create(g).withDevice(org.tensorflow.DeviceSpec.newBuilder().job("worker").task(0).build());
        // a fed value, so that grappler cannot fold the sum into a constant
        Operand<TFloat32> x = tf.placeholder(TFloat32.class);
        Operand<TFloat32> sum = tf.math.add(x, tf.constant(3f));
        RunOptions traced = RunOptions.newBuilder().setOutputPartitionGraphs(true).build();
        // the session names the cluster (ClusterSpec propagation), as the chief's will
        ConfigProto config = ConfigProto.newBuilder()
            .setClusterDef(Cluster.parse("--cluster", address).toClusterDef()).build();
        try (Session s = GrpcSessions.open(g, "grpc://" + address, config);
             TFloat32 two = TFloat32.scalarOf(2f);
             Result r = s.runner().feed(x, two).fetch(sum).setOptions(traced).runAndFetchMetadata()) {
          assertEquals(5f, ((TFloat32) r.get(0)).getFloat());
          RunMetadata meta = r.getMetadata().orElseThrow();
          boolean placed = false;
          for (GraphDef partition : meta.getPartitionGraphsList()) {
            placed |= partition.getNodeList().stream().anyMatch(n -> n.getOp().startsWith("Add")
                && n.getDevice().startsWith("/job:worker/replica:0/task:0/"));
          }
          assertTrue(placed, "the sum ran on the worker: " + meta.getPartitionGraphsList());
        }
      }
      worker.toHandle().destroy(); // SIGTERM
      assertTrue(worker.waitFor(1, TimeUnit.MINUTES));
      assertEquals(0, worker.exitValue());
    } finally {
      worker.destroyForcibly();
    }
  }

  @Test
  void aPortInUseIsOneSentence() throws Exception {
    try (ServerSocket taken = new ServerSocket(0)) {
      String address = "127.0.0.1:" + taken.getLocalPort();
      ChildProcess.Output o = ChildProcess.run(dir, "worker", "--cluster", "127.0.0.1:1," + address, "--task", "1");
      assertEquals(2, o.code(), o.text());
      assertEquals("Port " + taken.getLocalPort() + " of worker 1 (" + address + ") is already in use; stop what "
          + "holds it or give this task another port in --cluster.", o.text().strip());
    }
  }

  @Test
  void aTaskOutsideTheClusterIsOneSentence() throws Exception {
    ChildProcess.Output o = ChildProcess.run(dir, "worker", "--cluster", "127.0.0.1:7001,127.0.0.1:7002", "--task",
        "2");
    assertEquals(2, o.code(), o.text());
    assertEquals("--task 2 is outside the cluster of 2 workers (0..1).", o.text().strip());
  }
}
