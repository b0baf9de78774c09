package dev.tfdiffusion.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfdiffusion.config.Presets;
import dev.tfdiffusion.config.TrainConfig;
import dev.tfdiffusion.data.Images;
import dev.tfdiffusion.data.TrainingData;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.RunMetadata;

/**
 * Data-parallel towers on virtual CPU devices: the same losses as one device (the shards' terms combine exactly, up
 * to the order of float additions), and every op of tower i runs on device i.
 */
class TowersTest {
  private static final TrainConfig CONFIG = Presets.quick().with(Map.of("features", 4, "steps", 30,
      "warmup-steps", 5, "seed", 3L, "sample-every", 0));

  private static ConfigProto cpus(int n) {
    return ConfigProto.newBuilder().setAllowSoftPlacement(true).putDeviceCount("CPU", n).build();
  }

  private static List<StepMetrics> steps(int devices, Images train, int count) {
    List<StepMetrics> out = new ArrayList<>();
    try (TrainGraph g = new TrainGraph(CONFIG, train.shape(), cpus(devices), null,
        Placement.of(devices, 0))) {
      g.loadImages(train);
      for (int i = 0; i < count; i++) {
        out.add(g.step());
      }
    }
    return out;
  }

  @Test
  void twoTowersGiveTheSingleDeviceLosses() {
    Images train = TrainingData.load(CONFIG).train();
    List<StepMetrics> one = steps(1, train, 4);
    List<StepMetrics> two = steps(2, train, 4);
    for (int i = 0; i < one.size(); i++) {
      StepMetrics a = one.get(i);
      StepMetrics b = two.get(i);
      assertEquals(a.loss(), b.loss(), 1e-5 * Math.abs(a.loss()), "loss at step " + i);
      assertEquals(a.main(), b.main(), 1e-5 * Math.abs(a.main()), "main loss at step " + i);
      assertEquals(a.penalty(), b.penalty(), 1e-4 * Math.abs(a.penalty()), "penalty at step " + i);
      assertEquals(a.gradNorm(), b.gradNorm(), 1e-4 * a.gradNorm(), "gradient norm at step " + i);
    }
  }

  @Test
  void everyOpOfTowerIRunsOnDeviceI() {
    Images train = TrainingData.load(CONFIG).train();
    try (TrainGraph g = new TrainGraph(CONFIG, train.shape(), cpus(2), null,
        Placement.of(2, 0))) {
      g.loadImages(train);
      RunMetadata meta = g.traceStep();
      int[] placed = new int[2];
      Set<String> transfers = Set.of("_Send", "_Recv", "_HostSend", "_HostRecv");
      for (GraphDef partition : meta.getPartitionGraphsList()) {
        for (NodeDef node : partition.getNodeList()) {
          for (int i = 0; i < 2; i++) {
            if (node.getName().startsWith("tower" + i + "/") && !transfers.contains(node.getOp())) {
              assertTrue(node.getDevice().endsWith("/device:CPU:" + i), node.getName() + " (" + node.getOp()
                  + ") ran on " + node.getDevice());
              placed[i]++;
            }
          }
        }
      }
      // the U-Net's forward pass, its input gradient and the second-order weight gradients: thousands of ops each
      assertTrue(placed[0] > 1000 && placed[1] > 1000, "ops per tower: " + placed[0] + ", " + placed[1]);
    }
  }
}
