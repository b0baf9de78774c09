package dev.tfdiffusion.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfdiffusion.config.Presets;
import dev.tfdiffusion.config.TrainConfig;
import dev.tfdiffusion.data.Images;
import dev.tfdiffusion.data.TrainingData;
import dev.tfdiffusion.util.Compute;
import dev.tfdiffusion.util.SessionOptions;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.RunMetadata;

/**
 * {@code --precision bf16}: grappler's rewrite really puts the step's matrix products and convolutions in bfloat16
 * (read from the partition graphs that ran), the weights stay float32, and the losses stay within bfloat16's
 * rounding of float32's.
 */
class PrecisionTest {
  private static final TrainConfig CONFIG = Presets.quick().with(Map.of("features", 4, "steps", 30,
      "warmup-steps", 5, "seed", 3, "sample-every", 0));
  private static final int STEPS = 6;

  @Test
  void bf16RewritesTheProductsAndKeepsTheLossesClose() throws Exception {
    Assumptions.assumeTrue(Compute.cpuHasBf16(), "this CPU has no bfloat16 instructions");
    Images train = TrainingData.load(CONFIG).train();
    double[] fp32 = new double[STEPS];
    double[] bf16 = new double[STEPS];
    long bf16Nodes32 = run(train, Compute.DEFAULT, fp32);
    long bf16Nodes16 = run(train, new Compute(false, Compute.Precision.BF16), bf16);

    assertEquals(0, bf16Nodes32, "float32 runs nothing in bfloat16");
    assertTrue(bf16Nodes16 > 50, "only " + bf16Nodes16 + " bfloat16 nodes ran");
    boolean differs = false;
    for (int i = 0; i < STEPS; i++) {
      // bfloat16 keeps 8 bits of mantissa: products and sums of a few hundred terms round to about 1e-2
      assertEquals(fp32[i], bf16[i], 0.02 * fp32[i], "loss at step " + i);
      differs |= fp32[i] != bf16[i];
    }
    assertTrue(differs, "bfloat16 left every loss bit-identical: the rewrite did not happen");
  }

  /** Trains {@link #STEPS} steps into {@code losses}; returns how many bfloat16 nodes the traced step ran. */
  private static long run(Images train, Compute compute, double[] losses) {
    try (TrainGraph graph = new TrainGraph(CONFIG, train.shape(),
        SessionOptions.create(compute, 0), null, Placement.SINGLE)) {
      graph.loadImages(train);
      for (int i = 0; i < STEPS; i++) {
        losses[i] = graph.step().loss();
      }
      for (var p : graph.params()) {
        assertEquals(org.tensorflow.types.TFloat32.class, p.variable().type(), p.name() + " stays float32");
      }
      RunMetadata meta = graph.traceStep();
      long n = 0;
      for (GraphDef partition : meta.getPartitionGraphsList()) {
        for (NodeDef node : partition.getNodeList()) {
          AttrValue t = node.getAttrOrDefault("T", null);
          if (t != null && t.getType() == DataType.DT_BFLOAT16) {
            n++;
          }
        }
      }
      return n;
    }
  }
}
