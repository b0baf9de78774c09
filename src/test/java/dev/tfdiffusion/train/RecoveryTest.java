package dev.tfdiffusion.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfdiffusion.RunLayout;
import dev.tfdiffusion.config.Presets;
import dev.tfdiffusion.config.TrainConfig;
import dev.tfdiffusion.data.Images;
import dev.tfdiffusion.data.TrainingData;
import dev.tfdiffusion.util.Compute;
import dev.tfdiffusion.util.SessionOptions;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.Session;
import org.tensorflow.exceptions.TensorFlowException;
import org.tensorflow.op.Ops;

/**
 * The training loop's side of a worker fault, in one process: a "cluster" whose sessions are local, so that a new
 * session after the fault finds fresh variables, as when the chief's variables are gone. The loop must then go back
 * to the newest checkpoint, drop the log rows after it, and end with the losses of an uninterrupted run.
 * (DistributedTrainingIT covers the usual case against real workers: the chief's variables survive.)
 */
class RecoveryTest {
  private static final TrainConfig CONFIG = Presets.quick().with(Map.of("features", 4, "steps", 30,
      "warmup-steps", 5, "seed", 3, "checkpoint-every", 10, "sample-every", 0));
  private static final int FAILING_STEP = 17;

  @TempDir
  Path dir;

  @Test
  void aFaultThatLosesTheVariablesGoesBackToTheNewestCheckpoint() throws Exception {
    Images.Split data = TrainingData.load(CONFIG);
    train(dir.resolve("reference"), Placement.SINGLE, data);

    ByteArrayOutputStream said = new ByteArrayOutputStream();
    Trainer.Outcome faulty = train(dir.resolve("faulty"), new Placement(List.of(), 0, null, new LocalRemote()),
        data, said);

    assertTrue(faulty.finished());
    String text = said.toString(StandardCharsets.UTF_8);
    assertTrue(text.contains("Worker task 0 (local) stopped answering at step " + FAILING_STEP + "; waiting up to "
        + "60 s for it to answer again."), text);
    assertTrue(text.contains("Every worker answers again; the chief's variables are at step 0, not "
        + FAILING_STEP + ", so the run goes back to its checkpoint at step 10."), text);
    List<TrainLog.Row> a = TrainLog.read(dir.resolve("reference").resolve(RunLayout.TRAIN_LOG));
    List<TrainLog.Row> b = TrainLog.read(dir.resolve("faulty").resolve(RunLayout.TRAIN_LOG));
    assertEquals(30, b.size());
    for (int i = 0; i < 30; i++) {
      assertEquals(i, b.get(i).step());
      assertEquals(a.get(i).loss(), b.get(i).loss(), 0.0, "loss at step " + i);
      assertEquals(a.get(i).emaLoss(), b.get(i).emaLoss(), 0.0, "EMA at step " + i);
    }
  }

  private static Trainer.Outcome train(Path run, Placement placement, Images.Split data) throws Exception {
    return train(run, placement, data, new ByteArrayOutputStream());
  }

  private static Trainer.Outcome train(Path run, Placement placement, Images.Split data, ByteArrayOutputStream out)
      throws Exception {
    Trainer trainer = new Trainer(CONFIG, new Trainer.Options(run, false, 0, false, false, Compute.DEFAULT, Map.of(),
        placement), new PrintStream(out, true, StandardCharsets.UTF_8));
    return trainer.run(data);
  }

  /**
   * Local sessions posing as a cluster: step {@value #FAILING_STEP} gets a timeout too short to finish, the fault is
   * "worker task 0 stopped answering", it answers again at once, and the new session's variables are fresh.
   */
  private static final class LocalRemote implements Placement.Remote {
    private final AtomicInteger steps = new AtomicInteger();

    @Override
    public Session open(Graph graph) {
      return new Session(graph, SessionOptions.create(false));
    }

    @Override
    public Session reopen(Graph graph) {
      Session fresh = open(graph);
      fresh.initialize();
      return fresh;
    }

    @Override
    public Placement.Health health(Ops tf) {
      return new Placement.Health() {
        @Override
        public Optional<String> explain(TensorFlowException failure, Session session) {
          return Optional.of("Worker task 0 (local) stopped answering");
        }

        @Override
        public boolean awaitHealthy(Placement.Sessions sessions, Duration timeout, BooleanSupplier stop) {
          sessions.reopen();
          return true;
        }
      };
    }

    @Override
    public Duration stepTimeout(double medianStepSeconds) {
      return steps.getAndIncrement() == FAILING_STEP ? Duration.ofMillis(1) : Duration.ofMinutes(10);
    }

    @Override
    public Duration recoverTimeout() {
      return Duration.ofSeconds(60);
    }
  }
}
