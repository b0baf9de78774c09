package dev.tfdiffusion.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tfdiffusion.UserError;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.ClusterDef;

/** Worker lists as users type them, and TensorFlow's description of the cluster. */
class ClusterTest {
  @Test
  void parsesHostPortPairsInTaskOrder() {
    Cluster c = Cluster.parse("--workers", "10.0.0.1:2222, gpu-box:2223,[::1]:2224");
    assertEquals(List.of(new Cluster.Address("10.0.0.1", 2222), new Cluster.Address("gpu-box", 2223),
        new Cluster.Address("[::1]", 2224)), c.workers());
    ClusterDef def = c.toClusterDef();
    assertEquals(1, def.getJobCount());
    assertEquals("worker", def.getJob(0).getName());
    assertEquals("gpu-box:2223", def.getJob(0).getTasksMap().get(1));
  }

  @Test
  void malformedListsAndTasksAreUsageErrors() {
    for (String bad : List.of("", "host", "host:", ":2222", "host:0", "host:70000", "host:22x", "a:1,,b:2")) {
      UserError e = assertThrows(UserError.class, () -> Cluster.parse("--cluster", bad), bad);
      assertEquals("--cluster must list host:port pairs separated by commas (ports 1..65535), got '" + bad + "'.",
          e.getMessage());
      assertEquals(2, e.exitCode());
    }
    Cluster two = Cluster.parse("--cluster", "a:1,b:2");
    assertEquals("--task -1 is outside the cluster of 2 workers (0..1).",
        assertThrows(UserError.class, () -> two.worker(-1)).getMessage());
    assertEquals("--task 1 is outside the cluster of 1 worker (0..0).",
        assertThrows(UserError.class, () -> Cluster.parse("--cluster", "a:1").worker(1)).getMessage());
  }
}
