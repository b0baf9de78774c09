package dev.tfdiffusion.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfdiffusion.config.Presets;
import dev.tfdiffusion.config.TrainConfig;
import dev.tfdiffusion.data.Images;
import dev.tfdiffusion.data.TrainingData;
import dev.tfdiffusion.util.SessionOptions;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.Result;
import org.tensorflow.types.TInt32;

/**
 * A conditional model's training labels: each image's own label, replaced by "no class" (the label K) with
 * probability --cond-drop, drawn afresh at every step and identical when a step is drawn again.
 */
class LabelDropTest {
  private static int[] drawn(TrainGraph graph) {
    try (Result r = graph.session().runner().fetch(graph.drawnLabels()).run()) {
      TInt32 t = (TInt32) r.get(0);
      int[] out = new int[(int) t.size()];
      for (int i = 0; i < out.length; i++) {
        out[i] = t.getInt(i);
      }
      return out;
    }
  }

  @Test
  void aShareCondDropOfTheLabelsBecomesNoClass() {
    double drop = 0.3; // not the default, so that the draws are seen to follow the flag
    TrainConfig config = Presets.quick().with(Map.of("digit", "all", "conditional", true, "cond-drop", drop,
        "features", 2, "batch-size", 0, "sample-every", 0));
    Images.Split data = TrainingData.load(config);
    config = TrainingData.withClasses(config, data);
    assertEquals(10, config.classes());
    Images train = data.train();
    try (TrainGraph graph = new TrainGraph(config, train.shape(), SessionOptions.create(false), null,
        Placement.SINGLE)) {
      graph.loadImages(train);
      int[] first = drawn(graph);
      assertEquals(train.count(), first.length);
      int dropped = 0;
      for (int i = 0; i < first.length; i++) {
        if (first[i] == 10) {
          dropped++;
        } else {
          assertEquals(train.labels()[i], first[i], "image " + i + " keeps its own label");
        }
      }
      // binomial(1707, drop): within four standard deviations
      double sd = Math.sqrt(drop * (1 - drop) / first.length);
      double share = (double) dropped / first.length;
      assertTrue(Math.abs(share - drop) < 4 * sd, "dropped share " + share + " for --cond-drop " + drop);
      assertEquals(java.util.Arrays.toString(first), java.util.Arrays.toString(drawn(graph)),
          "a step's draws are a function of the seed and the step");
      graph.step();
      assertNotEquals(java.util.Arrays.toString(first), java.util.Arrays.toString(drawn(graph)),
          "the next step draws other labels to drop");
    }
  }
}
