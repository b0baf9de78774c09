package dev.tfdiffusion.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfdiffusion.config.Presets;
import dev.tfdiffusion.config.TrainConfig;
import dev.tfdiffusion.data.Fixtures;
import dev.tfdiffusion.data.Images;
import dev.tfdiffusion.data.TrainingData;
import dev.tfdiffusion.util.SessionOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A training set that streams its batches (each step feeds just its batch, the set stays out of the graph) trains as
 * the same set copied into the graph: the same batches, so the same losses to float32 rounding (the two graphs'
 * kernels round differently: a fed batch is another buffer than a gathered one), and a streamed run restored from a
 * checkpoint takes exactly the steps of the uninterrupted streamed run.
 */
class StreamedBatchesTest {
  @TempDir
  Path dir;

  private static double[] losses(TrainGraph graph, int steps) {
    double[] out = new double[steps];
    for (int i = 0; i < steps; i++) {
      out[i] = graph.step().loss();
    }
    return out;
  }

  private TrainGraph graph(TrainConfig config, Images train, BatchSource.Path path) {
    TrainGraph g = new TrainGraph(config, train.shape(), SessionOptions.create(false), null, Placement.SINGLE, path);
    g.loadImages(train);
    return g;
  }

  private static void assertClose(double[] expected, double[] actual, String what) {
    assertEquals(expected.length, actual.length);
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i], actual[i], 1e-6 * Math.abs(expected[i]), what + ", step " + i);
    }
  }

  private Images.Split idxData(TrainConfig config) throws IOException {
    return TrainingData.load(config);
  }

  private TrainConfig idxConfig(boolean conditional) throws IOException {
    Path images = dir.resolve("train-images-idx3-ubyte");
    if (!Files.exists(images)) {
      Files.write(images, Fixtures.idxImages(300, 8, 8, Fixtures.IMAGES_MAGIC));
      Files.write(dir.resolve("train-labels-idx1-ubyte"),
          Fixtures.idxLabels(IntStream.range(0, 300).map(i -> i % 10).toArray()));
    }
    return Presets.quick().with(Map.of("data", images.toString(), "digit", "all", "conditional", conditional,
        "features", 2, "batch-size", 32, "steps", 100, "warmup-steps", 2, "sample-every", 0));
  }

  /**
   * A conditional model, so that the labels stream with their images. Three steps agree with the resident graph
   * (later ones drift apart at float32 rounding, which Adam's first steps, with tiny second moments, amplify).
   */
  @Test
  void anIdxFileLargerThanTheBatchGivesTheSameLossesStreamedAndResident() throws IOException {
    TrainConfig config = idxConfig(true);
    Images.Split data = idxData(config);
    config = TrainingData.withClasses(config, data);
    Images train = data.train();
    assertTrue(train.count() > 32);

    double[] resident;
    try (TrainGraph g = graph(config, train, BatchSource.Path.RESIDENT)) {
      assertTrue(g.graph().operation("data/images") != null);
      resident = losses(g, 3);
    }
    double[] rest;
    try (TrainGraph g = graph(config, train, BatchSource.Path.STREAMED)) {
      assertNull(g.graph().operation("data/images"), "the streamed graph holds no copy of the training set");
      assertClose(resident, losses(g, 3), "streamed against resident");
      g.save(dir.resolve("ckpt").toString());
      rest = losses(g, 3);
    }
    try (TrainGraph g = graph(config, train, BatchSource.Path.STREAMED)) {
      g.restore(dir.resolve("ckpt").toString());
      assertEquals(3, g.globalStep());
      assertArrayEquals(rest, losses(g, 3), "a restored streamed run takes exactly the steps of the uninterrupted one");
    }
  }

  @Test
  void largeDataStreamsAndSmallDataStaysInTheGraph() {
    assertEquals(BatchSource.Path.STREAMED, BatchSource.pathFor(new Images.Shape(60_000, 28, 28, 1), 128),
        "MNIST's training set (188 MB of float32) with a batch");
    assertEquals(BatchSource.Path.RESIDENT, BatchSource.pathFor(new Images.Shape(60_000, 28, 28, 1), 60_000),
        "every image every step: no batch to stream");
    assertEquals(BatchSource.Path.RESIDENT, BatchSource.pathFor(new Images.Shape(1_707, 8, 8, 1), 128),
        "the bundled digits");
    assertEquals(BatchSource.Path.STREAMED, BatchSource.pathFor(new Images.Shape(50_000, 32, 32, 3), 128),
        "CIFAR-10");
  }
}
