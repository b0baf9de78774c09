package dev.tfdiffusion.train;

import java.io.PrintStream;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * What the user sees during training: on a terminal, a progress bar (step, EMA loss, steps/s, ETA) plus the
 * tutorial-style log line every {@code log-every} steps; otherwise only those log lines.
 */
public final class Progress implements AutoCloseable {
  private final PrintStream out;
  private final ProgressBar bar;

  public Progress(PrintStream out, boolean terminal, boolean quiet, long firstStep, long totalSteps,
                  Duration alreadySpent) {
    this.out = quiet ? null : out;
    this.bar = terminal && !quiet
        ? new ProgressBarBuilder().setTaskName("train").setInitialMax(totalSteps).setStyle(ProgressBarStyle.ASCII)
            .setUnit(" steps", 1).showSpeed().setSpeedUnit(ChronoUnit.SECONDS).setUpdateIntervalMillis(250)
            .startsFrom(firstStep, alreadySpent).build()
        : null;
  }

  public void step(long completed, double emaLoss) {
    if (bar != null) {
      bar.stepTo(completed);
      bar.setExtraMessage(String.format(" loss %.4f", emaLoss));
    }
  }

  /** A line that stays (the bar, if any, redraws below it). */
  public void line(String text) {
    if (out == null) {
      return;
    }
    if (bar != null) {
      out.print("\r\033[K");
    }
    out.println(text);
    out.flush();
  }

  @Override
  public void close() {
    if (bar != null) {
      bar.close();
    }
  }
}
