package dev.tfdiffusion.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfdiffusion.RunLayout;
import dev.tfdiffusion.cli.Main;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.Event;
import org.tensorflow.proto.Summary;

/**
 * Reads back the TensorBoard event file a training run wrote: TFRecord framing with its masked CRC-32C checksums,
 * then the Event protos, checking tags, steps and values against train_log.csv.
 */
class TensorBoardTest {
  @TempDir
  static Path dir;
  static Path run;
  static List<Event> events;

  @BeforeAll
  static void train() throws IOException {
    run = dir.resolve("run");
    assertEquals(0, Main.run("train", "--features", "2", "--steps", "6", "--sample-every", "4", "--quiet",
        "--no-export", "--out", run.toString()));
    Path file;
    try (Stream<Path> files = Files.list(run.resolve("tensorboard"))) {
      file = files.filter(f -> f.getFileName().toString().startsWith("events.out.tfevents.")).findFirst()
          .orElseThrow();
    }
    events = readRecords(file);
  }

  /** TFRecord: uint64 length, uint32 masked crc(length), data, uint32 masked crc(data); little-endian. */
  static List<Event> readRecords(Path file) throws IOException {
    List<Event> out = new ArrayList<>();
    try (InputStream raw = Files.newInputStream(file); DataInputStream in = new DataInputStream(raw)) {
      while (true) {
        byte[] header = new byte[8];
        try {
          in.readFully(header);
        } catch (EOFException e) {
          return out;
        }
        long length = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(maskedCrc(header), readUint32(in), "length checksum");
        byte[] data = new byte[(int) length];
        in.readFully(data);
        assertEquals(maskedCrc(data), readUint32(in), "data checksum");
        out.add(Event.parseFrom(data));
      }
    }
  }

  private static long readUint32(DataInputStream in) throws IOException {
    byte[] b = new byte[4];
    in.readFully(b);
    return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getInt() & 0xffffffffL;
  }

  private static long maskedCrc(byte[] data) {
    CRC32C crc = new CRC32C();
    crc.update(data);
    long c = crc.getValue();
    return (((c >>> 15) | (c << 17)) + 0xa282ead8L) & 0xffffffffL;
  }

  private static float scalar(Summary.Value v) {
    return v.hasTensor() ? v.getTensor().getFloatVal(0) : v.getSimpleValue();
  }

  @Test
  void scalarsForEveryStepWithTheLoggedValues() throws IOException {
    Map<String, TreeSet<Long>> steps = new TreeMap<>();
    Map<Long, Float> losses = new TreeMap<>();
    for (Event e : events) {
      for (Summary.Value v : e.getSummary().getValueList()) {
        steps.computeIfAbsent(v.getTag(), k -> new TreeSet<>()).add(e.getStep());
        if (v.getTag().equals("loss")) {
          losses.put(e.getStep(), scalar(v));
        }
      }
    }
    for (String tag : List.of("loss", "ema_loss", "main_loss", "penalty", "learning_rate", "grad_norm")) {
      assertEquals(new TreeSet<>(List.of(0L, 1L, 2L, 3L, 4L, 5L)), steps.get(tag), tag);
    }
    List<TrainLog.Row> log = TrainLog.read(run.resolve(RunLayout.TRAIN_LOG));
    for (TrainLog.Row r : log) {
      assertEquals((float) r.loss(), losses.get(r.step()), "loss at step " + r.step());
    }
    // the sample grid (one image, hence TensorFlow's tag "samples/image/0") after step 4 and at the end (6)
    assertEquals(new TreeSet<>(List.of(4L, 6L)), steps.get("samples/image/0"), steps.keySet().toString());
  }

  @Test
  void sampleGridIsA4x4GridOf8x8Images() {
    Summary.Image image = events.stream().flatMap(e -> e.getSummary().getValueList().stream())
        .filter(v -> v.getTag().startsWith("samples")).findFirst().orElseThrow().getImage();
    assertEquals(32, image.getHeight());
    assertEquals(32, image.getWidth());
    assertTrue(image.getEncodedImageString().size() > 0, "a PNG");
  }

  @Test
  void fileStartsWithItsVersionAndHoldsTheGraph() {
    assertEquals("brain.Event:2", events.get(0).getFileVersion());
    assertTrue(events.stream().anyMatch(e -> e.hasGraphDef() && e.getGraphDef().size() > 100_000),
        "the training graph is in the file");
  }
}
