package dev.tfdiffusion.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.tfdiffusion.config.Presets;
import dev.tfdiffusion.config.TrainConfig;
import dev.tfdiffusion.data.Images;
import dev.tfdiffusion.data.TrainingData;
import dev.tfdiffusion.model.Layers;
import dev.tfdiffusion.model.UNet;
import dev.tfdiffusion.model.VariableStore;
import dev.tfdiffusion.model.VariableStore.Param;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/** --freeze-blocks trains exactly what the tutorial's optimizer sees. */
class FreezeBlocksTest {

  @Test
  void theTutorialTrains157569OfItsParameters() {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      VariableStore<TFloat32> store = new VariableStore<>(tf, TFloat32.class, 0);
      UNet.forImages(64, 128, 8, 8).apply(new Layers<>(tf, TFloat32.class, store),
          tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 8, 8, 1))),
          tf.placeholder(TInt32.class, Placeholder.shape(Shape.of(-1))));
      long trained = store.params().stream().filter(Param::trainedByTheTutorial).mapToLong(Param::size).sum();
      // shared/reference/README.md: 157,569 of 57,355,137
      assertEquals(157_569L, trained);
      assertEquals(57_355_137L, store.parameterCount());
    }
  }

  private static float[] values(TrainGraph graph, Operand<TFloat32> x) {
    try (Result r = graph.session().runner().fetch(x).run()) {
      TFloat32 t = (TFloat32) r.get(0);
      float[] out = new float[(int) t.size()];
      t.copyTo(DataBuffers.of(out, false, false));
      return out;
    }
  }

  @Test
  void frozenBlocksKeepTheirInitialValues() {
    TrainConfig config = Presets.quick().with(Map.of("features", 2, "freeze-blocks", true, "steps", 10,
        "warmup-steps", 1));
    Images train = TrainingData.load(config).train();
    try (TrainGraph graph = new TrainGraph(config, train.count(), 8, 8)) {
      graph.loadImages(train);
      Map<String, Param<TFloat32>> byName = new java.util.HashMap<>();
      graph.params().forEach(p -> byName.put(p.name(), p));
      Operand<TFloat32> block = byName.get("down_conv2/conv1/kernel").variable();
      Operand<TFloat32> outer = byName.get("final_conv/kernel").variable();
      float[] blockBefore = values(graph, block);
      float[] outerBefore = values(graph, outer);
      graph.step();
      graph.step();
      graph.step();
      assertArrayEquals(blockBefore, values(graph, block));
      assertFalse(java.util.Arrays.equals(outerBefore, values(graph, outer)));
      assertEquals(graph.params().stream().filter(Param::trainedByTheTutorial).count(),
          graph.trainedParams().size());
    }
  }
}
