package dev.tfdiffusion.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tfdiffusion.RunLayout;
import dev.tfdiffusion.cli.Main;
import dev.tfdiffusion.sample.Sampler;
import dev.tfdiffusion.sample.SavedModelSampler;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.Event;
import org.tensorflow.proto.Summary;

/**
 * Pins what two tiny runs and their exported model compute, bit for bit, against a file recorded before a refactor:
 * every logged loss term, learning rate and gradient norm (as exact hex doubles), the TensorBoard sample grids
 * (DDIM in the training graph), and every SavedModel signature on fixed inputs (SHA-256 of the float bits and the
 * first values). A refactor that changes any of these fails here with the first differing line.
 *
 * <p>To re-record after an intended change: {@code mvn test -Dtest=BitIdentityTest -Dbit-identity.write=true}.
 */
class BitIdentityTest {
  private static final String RESOURCE = "/dev/tfdiffusion/train/bit_identity.txt";
  private static final Path SOURCE = Path.of("src/test/resources" + RESOURCE);

  @TempDir
  static Path dir;

  @Test
  void runsAndSamplersComputeWhatTheyComputedBefore() throws IOException {
    List<String> actual = new ArrayList<>();
    Path full = dir.resolve("full");
    train(full, "--sample-every", "2");
    record(actual, "full", full);
    Path batch = dir.resolve("batch16");
    train(batch, "--batch-size", "16");
    record(actual, "batch16", batch);

    Path model = dir.resolve("model");
    assertEquals(0, Main.run("export", "--checkpoint", full.toString(), "--out", model.toString()));
    try (SavedModelSampler s = SavedModelSampler.open(model)) {
      recordSignatures(actual, s);
    }

    if (Boolean.getBoolean("bit-identity.write")) {
      Files.write(SOURCE, actual, StandardCharsets.UTF_8);
      return;
    }
    List<String> expected;
    try (InputStream in = BitIdentityTest.class.getResourceAsStream(RESOURCE)) {
      expected = new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
    }
    for (int i = 0; i < Math.min(expected.size(), actual.size()); i++) {
      assertEquals(expected.get(i), actual.get(i), "line " + (i + 1) + " of " + RESOURCE);
    }
    assertEquals(expected.size(), actual.size(), "lines in " + RESOURCE);
  }

  private static void train(Path out, String... more) {
    List<String> args = new ArrayList<>(List.of("train", "--features", "4", "--steps", "5", "--quiet",
        "--no-export", "--out", out.toString()));
    args.addAll(List.of(more));
    assertEquals(0, Main.run(args.toArray(new String[0])));
  }

  private static void record(List<String> lines, String name, Path run) throws IOException {
    for (TrainLog.Row r : TrainLog.read(run.resolve(RunLayout.TRAIN_LOG))) {
      lines.add(name + " step " + r.step() + " loss " + hex(r.loss()) + " ema_loss " + hex(r.emaLoss())
          + " grad_norm " + hex(r.gradNorm()) + " main " + hex(r.mainLoss()) + " penalty " + hex(r.penalty())
          + " lr " + hex(r.learningRate()));
    }
    Path events;
    try (Stream<Path> files = Files.list(run.resolve(RunLayout.TENSORBOARD))) {
      events = files.filter(f -> f.getFileName().toString().startsWith("events.out.tfevents.")).findFirst()
          .orElseThrow();
    }
    for (Event e : TensorBoardTest.readRecords(events)) {
      for (Summary.Value v : e.getSummary().getValueList()) {
        if (v.hasImage()) {
          lines.add(name + " grid step " + e.getStep() + " png sha256 "
              + sha256(v.getImage().getEncodedImageString().toByteArray()));
        }
      }
    }
  }

  private static void recordSignatures(List<String> lines, SavedModelSampler s) {
    float[] noise = s.noise(3, 11);
    lines.add(floats("sample seed 5", s.sample(Sampler.DDPM, noise, 5)));
    lines.add(floats("sample_tutorial seed 5", s.sample(Sampler.TUTORIAL, noise, 5)));
    lines.add(floats("sample_ddim steps 10 eta 0", s.sampleDdim(noise, 5, 10, 0f)));
    lines.add(floats("sample_ddim steps 7 eta 1", s.sampleDdim(noise, 5, 7, 1f)));
    lines.add(floats("sample_ddim steps 1 eta 0.5", s.sampleDdim(noise, 5, 1, 0.5f)));
    for (Sampler sampler : new Sampler[] {Sampler.DDPM, Sampler.TUTORIAL}) {
      String name = sampler.trajectorySignature();
      SavedModelSampler.Trajectory traj = s.trajectory(sampler, noise, 6, 4);
      lines.add(floats(name + " images", traj.images()));
      lines.add(floats(name + " states", traj.states()));
      lines.add(name + " timesteps " + java.util.Arrays.toString(traj.timesteps()));
    }
    int[] t = {0, 500, 999};
    lines.add(floats("forward_noise", s.forwardNoise(s.noise(3, 12), t, 3)));
    lines.add(floats("serving_default", s.denoise(s.noise(3, 13), t)));
  }

  private static String floats(String name, float[] values) {
    ByteBuffer bytes = ByteBuffer.allocate(4 * values.length);
    StringBuilder first = new StringBuilder();
    for (int i = 0; i < values.length; i++) {
      bytes.putInt(Float.floatToRawIntBits(values[i]));
      if (i < 4) {
        first.append(' ').append(Float.toHexString(values[i]));
      }
    }
    return name + " n " + values.length + " sha256 " + sha256(bytes.array()) + " first" + first;
  }

  private static String hex(double v) {
    return Double.toHexString(v);
  }

  private static String sha256(byte[] data) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
