package dev.tfdiffusion.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfdiffusion.FileSnapshot;
import dev.tfdiffusion.data.Fixtures;
import dev.tfdiffusion.sample.SampleFiles;
import dev.tfdiffusion.sample.SavedModelSampler;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Colour and labelled data through the command line, end to end: a CIFAR-10 file and a folder of RGB PNGs train
 * tiny models whose samples are colour images of the data's size; a folder's class sub-folders condition a model;
 * and the data a conditional model cannot use is refused in one sentence.
 */
class ColourAndConditionalDataTest {
  @TempDir
  Path dir;

  /** A tiny, fast run exported without the figures; returns its SavedModel. */
  private static Path train(Path data, Path out, String... more) {
    List<String> args = new java.util.ArrayList<>(List.of("train", "--data", data.toString(), "--digit", "all",
        "--features", "4", "--steps", "3", "--batch-size", "8", "--diffusion-steps", "20", "--quiet", "--no-export",
        "--out", out.toString()));
    args.addAll(List.of(more));
    assertEquals(0, Main.run(args.toArray(new String[0])));
    Path model = out.resolve("saved_model");
    assertEquals(0, Main.run("export", "--checkpoint", out.toString(), "--out", model.toString()));
    return model;
  }

  /** Samples {@code count} images and checks their PNG and CSV: {@code size} x {@code size} in colour. */
  private static void assertColourSamples(Path model, Path png, int size, String... more) throws IOException {
    List<String> args = new java.util.ArrayList<>(List.of("sample", "--model", model.toString(), "--count", "2",
        "--sampler", "ddim", "--sampling-steps", "5", "--out", png.toString()));
    args.addAll(List.of(more));
    assertEquals(0, Main.run(args.toArray(new String[0])));
    try (SavedModelSampler s = SavedModelSampler.open(model)) {
      assertEquals(List.of(size, size, 3), List.of(s.height(), s.width(), s.channels()));
    }
    List<String> rows = Files.readAllLines(SampleFiles.csvFor(png));
    assertEquals(2, rows.size());
    int label = more.length > 0 ? 1 : 0;
    assertEquals(size * size * 3 + label, rows.get(0).split(",").length, "H*W*3 values per row");
    BufferedImage img = ImageIO.read(png.toFile());
    boolean coloured = false;
    for (int y = 0; y < img.getHeight() && !coloured; y++) {
      for (int x = 0; x < img.getWidth(); x++) {
        int rgb = img.getRGB(x, y);
        int r = (rgb >> 16) & 0xff;
        int g = (rgb >> 8) & 0xff;
        int b = rgb & 0xff;
        if (r != g || g != b) {
          coloured = true;
          break;
        }
      }
    }
    assertTrue(coloured, "the grid has pixels that are not gray");
  }

  @Test
  void aCifarFileTrainsAColourModel() throws IOException {
    Path data = Fixtures.cifar(dir.resolve("cifar"), 24, 5);
    assertColourSamples(train(data, dir.resolve("run")), dir.resolve("s.png"), 32);
  }

  @Test
  void aFolderOfRgbPngsTrainsAColourModelConditionalOnItsClassFolders() throws IOException {
    Path data = Fixtures.rgbFolder(dir.resolve("rgb"), 12, 6);
    Path model = train(data, dir.resolve("conditional"), "--conditional");
    assertColourSamples(model, dir.resolve("c.png"), 6, "--label", "2");
    try (SavedModelSampler s = SavedModelSampler.open(model)) {
      assertEquals(3, s.classes(), "blue, green and red");
    }
  }

  private FileSnapshot.Failure fails(String... args) {
    return FileSnapshot.failsWritingNothing(dir, args);
  }

  @Test
  void conditionalNeedsLabelledData() throws IOException {
    Path flat = dir.resolve("flat");
    for (int i = 0; i < 3; i++) {
      Fixtures.png(flat.resolve("img" + i + ".png"), 4, 4, 40 * i);
    }
    FileSnapshot.Failure o = fails("train", "--conditional", "--data", flat.toString(), "--out", dir.resolve("r").toString());
    assertEquals(2, o.code());
    assertEquals(flat + " has no labels, so --conditional has nothing to condition on.", o.err());

    Path partly = dir.resolve("partly");
    Fixtures.png(partly.resolve("3/a.png"), 4, 4, 10);
    Fixtures.png(partly.resolve("5/b.png"), 4, 4, 20);
    Fixtures.png(partly.resolve("c.png"), 4, 4, 30);
    o = fails("train", "--conditional", "--data", partly.toString(), "--out", dir.resolve("r").toString());
    assertEquals(2, o.code());
    assertEquals("1 of the 3 images of " + partly + " have no label; a conditional model needs one for every image.",
        o.err());

    o = fails("train", "--conditional", "--digit", "all", "--classes", "5", "--out", dir.resolve("r").toString());
    assertEquals(2, o.code());
    assertEquals("the bundled digits has label 9, outside the 5 classes of --classes 5 (labels 0..4).", o.err());

    o = fails("train", "--conditional", "--digit", "3", "--out", dir.resolve("r").toString());
    assertEquals(2, o.code());
    assertEquals("--conditional learns every class of the data; drop --digit 3 (or give --digit all).", o.err());
  }

  @Test
  void colourDataThatCannotBeReadIsOneSentence() throws IOException {
    Path cifar = dir.resolve("short.bin");
    Files.write(cifar, new byte[3073 + 100]);
    FileSnapshot.Failure o = fails("train", "--data", cifar.toString(), "--digit", "all", "--out", dir.resolve("r").toString());
    assertEquals(1, o.code());
    assertEquals(cifar + " is 3173 bytes, not a whole number of 3073-byte CIFAR-10 records.", o.err());

    Path mixed = dir.resolve("mixed");
    Fixtures.png(mixed.resolve("a.png"), 4, 4, 100);
    Fixtures.rgbPng(mixed.resolve("b.png"), 4, 4, false, (x, y) -> 0xff0000);
    o = fails("train", "--data", mixed.toString(), "--digit", "all", "--out", dir.resolve("r").toString());
    assertEquals(1, o.code());
    assertEquals(mixed.resolve("b.png") + " has 3 channels (colour) but " + mixed.resolve("a.png")
        + " has 1 (gray); give --grayscale to train on them all in gray.", o.err());
  }
}
