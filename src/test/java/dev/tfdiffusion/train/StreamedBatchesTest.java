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
import java.util.Arrays;
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

  @Test
  void anIdxFileLargerThanTheBatchGivesTheSameLossesStreamedAndResident() throws IOException {
    TrainConfig config = idxConfig(false);
    Images train = idxData(config).train();
    assertTrue(train.count() > 32);

    double[] resident;
    try (TrainGraph g = graph(config, train, BatchSource.Path.RESIDENT)) {
      assertTrue(g.graph().operation("data/images") != null);
      resident = losses(g, 6);
    }
    double[] streamed;
    try (TrainGraph g = graph(config, train, BatchSource.Path.STREAMED)) {
      assertNull(g.graph().operation("data/images"), "the streamed graph holds no copy of the training set");
      double[] first = losses(g, 3);
      g.save(dir.resolve("ckpt").toString());
      streamed = concat(first, losses(g, 3));
    }
    assertClose(resident, streamed, "streamed against resident");
    try (TrainGraph g = graph(config, train, BatchSource.Path.STREAMED)) {
      g.restore(dir.resolve("ckpt").toString());
      assertEquals(3, g.globalStep());
      assertArrayEquals(Arrays.copyOfRange(streamed, 3, 6), losses(g, 3),
          "a restored streamed run takes exactly the steps of the uninterrupted one");
    }
  }

  /** A conditional model's labels are fed with their images. */
  @Test
  void aConditionalModelsLabelsStreamWithTheirImages() throws IOException {
    TrainConfig config = idxConfig(true);
    Images.Split data = idxData(config);
    config = TrainingData.withClasses(config, data);
    try (TrainGraph r = graph(config, data.train(), BatchSource.Path.RESIDENT);
         TrainGraph s = graph(config, data.train(), BatchSource.Path.STREAMED)) {
      // the first steps, before Adam's early steps (tiny second moments) amplify the rounding apart
      assertClose(losses(r, 3), losses(s, 3), "streamed against resident");
    }
  }

  private static double[] concat(double[] a, double[] b) {
    double[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
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
