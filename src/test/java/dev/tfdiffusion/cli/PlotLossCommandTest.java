package dev.tfdiffusion.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfdiffusion.train.TrainLog;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** plot-loss: a run beside reference curves, one per column of a commented CSV, in the chart and the table. */
class PlotLossCommandTest {
  @TempDir
  Path dir;

  @Test
  void runAndEveryReferenceColumnAppearInTheTable() throws Exception {
    Path run = Files.createDirectories(dir.resolve("run"));
    try (TrainLog log = new TrainLog(run, 0)) {
      for (int step = 0; step < 3; step++) {
        log.append(new TrainLog.Row(step, 1, 0.5 + step, 1e-3, 1, step, 1, 0));
      }
    }
    Path reference = dir.resolve("rerun.csv");
    Files.writeString(reference, "# a comment line\nepoch,as_written,all_parameters\n0,0.75,0.75\n2,0.70,\n");
    Path published = dir.resolve("published.csv");
    Files.writeString(published, "epoch,ema_loss\n0,1.25\n");

    PrintStream original = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    StringWriter err = new StringWriter();
    int code;
    try (PrintStream capture = new PrintStream(out, true, StandardCharsets.UTF_8)) {
      System.setOut(capture);
      code = Main.run(new PrintWriter(err, true), "plot-loss", "--run", run.toString(), "--name", "ours",
          "--reference", reference.toString(), "--reference", published.toString(), "--reference-name", "jax",
          "--at", "0,2", "--out", dir.resolve("loss.png").toString());
    } finally {
      System.setOut(original);
    }
    assertEquals(0, code, err.toString());
    List<String> lines = out.toString(StandardCharsets.UTF_8).lines().toList();
    assertEquals(List.of("step", "ours", "jax", "all_parameters", "ema_loss"), List.of(lines.get(0).split("\\s+")));
    assertEquals(List.of("0", "0.5000", "0.7500", "0.7500", "1.2500"), List.of(lines.get(1).split("\\s+")));
    assertEquals(List.of("2", "2.5000", "0.7000", "-", "-"), List.of(lines.get(2).split("\\s+")));
    assertTrue(Files.size(dir.resolve("loss.png")) > 1000);
  }

  @Test
  void aRowWithTheWrongNumberOfColumnsIsOneSentence() throws Exception {
    Path run = Files.createDirectories(dir.resolve("run"));
    try (TrainLog log = new TrainLog(run, 0)) {
      log.append(new TrainLog.Row(0, 1, 0.5, 1e-3, 1, 0, 1, 0));
    }
    Path reference = dir.resolve("bad.csv");
    Files.writeString(reference, "epoch,a,b\n0,0.75\n");
    StringWriter err = new StringWriter();
    int code = Main.run(new PrintWriter(err, true), "plot-loss", "--run", run.toString(), "--reference",
        reference.toString(), "--out", dir.resolve("loss.png").toString());
    assertEquals(1, code);
    assertEquals(reference + " line 2: expected 'epoch,a,b', found '0,0.75'.", err.toString().strip());
    assertTrue(Files.notExists(dir.resolve("loss.png")));
  }
}
