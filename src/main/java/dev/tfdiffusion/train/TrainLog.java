package dev.tfdiffusion.train;

import dev.tfdiffusion.RunLayout;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code train_log.csv}: one row per step with the loss, its EMA, the learning rate, the raw gradient norm, the time
 * since the run started, and the two loss terms.
 */
public final class TrainLog implements AutoCloseable {
  public static final String HEADER = "step,loss,ema_loss,learning_rate,grad_norm,elapsed_s,main_loss,penalty";

  /** One parsed row. */
  public record Row(long step, double loss, double emaLoss, double learningRate, double gradNorm, double elapsed,
                    double mainLoss, double penalty) {}

  private final Path file;
  private BufferedWriter out;

  /** Opens the log for appending after step {@code firstStep - 1}: later rows of an interrupted run are dropped. */
  public TrainLog(Path runDir, long firstStep) {
    file = runDir.resolve(RunLayout.TRAIN_LOG);
    out = open(file, firstStep);
  }

  /** Drops the rows from {@code firstStep} on (the run went back to a checkpoint) and appends after them. */
  public void rewind(long firstStep) {
    close();
    out = open(file, firstStep);
  }

  private static BufferedWriter open(Path file, long firstStep) {
    try {
      List<String> keep = new ArrayList<>();
      keep.add(HEADER);
      if (firstStep > 0 && Files.exists(file)) {
        for (Row r : read(file)) {
          if (r.step() < firstStep) {
            keep.add(format(r));
          }
        }
      }
      Path tmp = file.resolveSibling(RunLayout.TRAIN_LOG + ".tmp");
      Files.write(tmp, keep, StandardCharsets.UTF_8);
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      return Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }

  public void append(Row row) {
    try {
      out.write(format(row));
      out.newLine();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public void flush() {
    try {
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** float32 values are written with Float.toString so they read back bit-exact. */
  private static String format(Row r) {
    return r.step() + "," + (float) r.loss() + "," + r.emaLoss() + "," + r.learningRate() + ","
        + (float) r.gradNorm() + "," + String.format("%.3f", r.elapsed()) + "," + (float) r.mainLoss() + ","
        + (float) r.penalty();
  }

  public static List<Row> read(Path file) throws IOException {
    List<Row> rows = new ArrayList<>();
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    for (int i = 1; i < lines.size(); i++) {
      String[] c = lines.get(i).split(",");
      if (c.length != 8) {
        continue; // a line cut short by a crash
      }
      try {
        rows.add(new Row(Long.parseLong(c[0]), Double.parseDouble(c[1]), Double.parseDouble(c[2]),
            Double.parseDouble(c[3]), Double.parseDouble(c[4]), Double.parseDouble(c[5]),
            Double.parseDouble(c[6]), Double.parseDouble(c[7])));
      } catch (NumberFormatException e) {
        // a damaged line: resume rewrites the log from the checkpoint's step anyway
      }
    }
    return rows;
  }

  @Override
  public void close() {
    try {
      out.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
