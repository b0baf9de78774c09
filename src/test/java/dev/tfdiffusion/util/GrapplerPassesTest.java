package dev.tfdiffusion.util;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tfdiffusion.config.Presets;
import dev.tfdiffusion.config.TrainConfig;
import dev.tfdiffusion.data.Images;
import dev.tfdiffusion.data.TrainingData;
import dev.tfdiffusion.train.StepMetrics;
import dev.tfdiffusion.train.TrainGraph;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.RewriterConfig;

/**
 * The sessions run one pass of grappler's optimizers instead of TensorFlow's default two (it shortens the first
 * step): the training step must compute the same function, up to float32 rounding, as with the default passes.
 */
class GrapplerPassesTest {
  private static final TrainConfig CONFIG = Presets.quick().with(Map.of("features", 4, "steps", 30,
      "warmup-steps", 5, "seed", 3, "sample-every", 0));

  @Test
  void onePassComputesTheStepOfTheDefaultPassesUpToRounding() throws Exception {
    ConfigProto ours = SessionOptions.create(Compute.DEFAULT, 0);
    assertEquals(RewriterConfig.NumIterationsType.ONE,
        ours.getGraphOptions().getRewriteOptions().getMetaOptimizerIterations());
    ConfigProto twoPasses = ours.toBuilder().setGraphOptions(ours.getGraphOptions().toBuilder()
        .setRewriteOptions(RewriterConfig.newBuilder())).build();
    Images train = TrainingData.load(CONFIG).train();
    StepMetrics[] a = steps(train, ours);
    StepMetrics[] b = steps(train, twoPasses);
    for (int i = 0; i < a.length; i++) {
      assertEquals(b[i].loss(), a[i].loss(), 1e-6 * b[i].loss(), "loss at step " + i);
      assertEquals(b[i].penalty(), a[i].penalty(), 1e-5 * b[i].penalty(), "penalty at step " + i);
      assertEquals(b[i].gradNorm(), a[i].gradNorm(), 1e-6 * b[i].gradNorm(), "grad norm at step " + i);
    }
  }

  private static StepMetrics[] steps(Images train, ConfigProto config) {
    try (TrainGraph graph = new TrainGraph(CONFIG, train.shape(), config, null,
        dev.tfdiffusion.train.Placement.SINGLE)) {
      graph.loadImages(train);
      StepMetrics[] m = new StepMetrics[5];
      for (int i = 0; i < m.length; i++) {
        m[i] = graph.step();
      }
      return m;
    }
  }
}
