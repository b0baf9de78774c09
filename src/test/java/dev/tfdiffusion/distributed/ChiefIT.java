package dev.tfdiffusion.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfdiffusion.UserError;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.DeviceSpec;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.exceptions.TensorFlowException;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Variable;
import org.tensorflow.proto.RunOptions;
import org.tensorflow.types.TFloat32;

/**
 * The chief against real {@code worker} processes: state on the chief, work on a worker, and the faults the training
 * loop must tell apart — a missing worker at start (one sentence within the connect timeout), a killed worker (the
 * step fails at once, naming the task), a frozen one (the step's timeout), and a restarted one (a new session goes on
 * from the chief's variables).
 */
class ChiefIT {
  @TempDir
  Path dir;

  /** v (on the chief) = 0, and v += 1 computed on worker 0 (which yields the new value). */
  private record Ops2(Operand<TFloat32> reset, Operand<TFloat32> increment, Chief.Probes probes) {}

  private static Ops2 incrementOnWorker(Graph g, Cluster workers) {
    Ops tf = Ops.create(g);
    Ops chief = tf.withDevice(DeviceSpec.newBuilder().job(Chief.CHIEF_JOB).task(0).build());
    Ops worker = tf.withDevice(DeviceSpec.newBuilder().job(Cluster.WORKER_JOB).task(0).build());
    // no registered initializer: a second session must find the value the first one left, not reset it
    Variable<TFloat32> v = chief.withName("v").variable(Shape.scalar(), TFloat32.class);
    return new Ops2(chief.assign(v, chief.constant(0f)), chief.assign(v, worker.math.add(v, worker.constant(1f))),
        new Chief.Probes(tf, workers));
  }

  private static float step(Session s, Operand<TFloat32> op, long timeoutMs) {
    RunOptions options = RunOptions.newBuilder().setTimeoutInMs(timeoutMs).build();
    try (Result r = s.runner().fetch(op).setOptions(options).run()) {
      return ((TFloat32) r.get(0)).getFloat();
    }
  }

  @Test
  void missingWorkerAtStartIsOneSentenceWithinTheTimeout() throws Exception {
    String cluster = "127.0.0.1:" + TestCluster.freePort() + ",127.0.0.1:" + TestCluster.freePort();
    Cluster workers = Cluster.parse("--workers", cluster);
    long start = System.nanoTime();
    UserError e = assertThrows(UserError.class, () -> Chief.start(new Cluster.Address("127.0.0.1", TestCluster.freePort()),
        workers, Duration.ofSeconds(2)));
    assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(20));
    assertEquals("No worker answered at task 0 (" + workers.workers().get(0) + "), task 1 ("
        + workers.workers().get(1) + ") within 2 s; start each with 'worker --cluster " + cluster
        + " --task I' (or raise --connect-timeout).", e.getMessage());
  }

  @Test
  void killedFrozenAndRestartedWorkers() throws Exception {
    String address = "127.0.0.1:" + TestCluster.freePort();
    Cluster workers = Cluster.parse("--workers", address);
    Process worker = TestCluster.startWorker(dir, address, 0);
    try {
      Chief chief = Chief.start(new Cluster.Address("127.0.0.1", TestCluster.freePort()), workers, Duration.ofSeconds(30));
      try (Graph g = new Graph()) {
        Ops2 ops = incrementOnWorker(g, workers);
        Operand<TFloat32> increment = ops.increment();
        try (Session s = chief.open(g, Duration.ofSeconds(60))) {
          step(s, ops.reset(), 30_000);
          assertEquals(1f, step(s, increment, 30_000));
          assertEquals(2f, step(s, increment, 30_000));

          // frozen: the step's timeout ends the wait; it names no task, the probes find it
          new ProcessBuilder("kill", "-STOP", Long.toString(worker.pid())).start().waitFor();
          TensorFlowException frozen = assertThrows(TensorFlowException.class, () -> step(s, increment, 2_000));
          assertEquals(Optional.of(new WorkerFault(WorkerFault.Kind.UNRESPONSIVE, -1)),
              WorkerFault.of(frozen, workers), frozen.getMessage());
          assertEquals(List.of(0), ops.probes().unresponsive(s, Duration.ofSeconds(2)));
          new ProcessBuilder("kill", "-CONT", Long.toString(worker.pid())).start().waitFor();

          // killed: the step fails at once, naming the task
          worker.destroyForcibly().waitFor();
          long start = System.nanoTime();
          TensorFlowException lost = assertThrows(TensorFlowException.class, () -> step(s, increment, 30_000));
          assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(10), "the loss was noticed late");
          assertEquals(Optional.of(new WorkerFault(WorkerFault.Kind.LOST, 0)), WorkerFault.of(lost, workers),
              lost.getMessage());
        }
        // restarted on its address: a new session goes on from the chief's variables
        worker = TestCluster.startWorker(dir, address, 0);
        try (Session s = chief.open(g, Duration.ofSeconds(60))) {
          float next = step(s, increment, 30_000);
          assertTrue(List.of(3f, 4f).contains(next), "the chief's variable survived the new session: " + next);
        }
      }
    } finally {
      new ProcessBuilder("kill", "-CONT", Long.toString(worker.pid())).start().waitFor();
      worker.destroyForcibly();
    }
  }
}
