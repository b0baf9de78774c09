package dev.tfdiffusion.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tfdiffusion.data.Fixtures;
import dev.tfdiffusion.model.ModelSummary;
import dev.tfdiffusion.sample.Sampler;
import dev.tfdiffusion.sample.SavedModelSampler;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Training end to end on data other than the bundled digits (tiny width, few steps), and sampling images of that
 * size from the resulting SavedModel.
 */
class OtherDataTest {
  @TempDir
  Path dir;

  private float[] trainExportAndSample(Path data, int size, String... more) {
    Path run = dir.resolve("run");
    java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("train", "--data", data.toString(),
        "--features", "2", "--steps", "2", "--quiet", "--no-export", "--sample-every", "0", "--out",
        run.toString()));
    args.addAll(java.util.List.of(more));
    assertEquals(0, Main.run(args.toArray(new String[0])));
    assertEquals(0, Main.run("export", "--checkpoint", run.toString()));
    try (SavedModelSampler model = SavedModelSampler.open(run.resolve("saved_model"))) {
      assertEquals(size, model.height());
      assertEquals(size, model.width());
      float[] images = model.sample(Sampler.DDPM, model.noise(2, 1), 1);
      assertEquals(2 * size * size, images.length);
      return images;
    }
  }

  @Test
  void mnistSizedIdx() throws Exception {
    Path images = dir.resolve("train-images-idx3-ubyte.gz");
    Fixtures.gzip(images, Fixtures.idxImages(12, 28, 28, 0x00000803));
    Fixtures.gzip(dir.resolve("train-labels-idx1-ubyte.gz"),
        Fixtures.idxLabels(1, 2, 1, 1, 3, 1, 1, 4, 1, 1, 5, 1));
    trainExportAndSample(images, 28, "--label", "1");
    // the summary reports the FLOPs at that size: 12 x 12 times more 3x3-convolution work at the top level
    assertEquals(true, ModelSummary.of(2, 128, 28, 28).forwardFlopsPerImage()
        > 10 * ModelSummary.of(2, 128, 8, 8).forwardFlopsPerImage());
  }

  @Test
  void folderOfPngs() throws Exception {
    Path folder = dir.resolve("pngs");
    for (int i = 0; i < 6; i++) {
      Fixtures.png(folder.resolve("img" + i + ".png"), 13, 13, 40 * i);
    }
    trainExportAndSample(folder, 12, "--digit", "all", "--image-size", "12");
    assertEquals(6, Files.list(folder).count());
  }
}
