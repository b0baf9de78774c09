package dev.tfdiffusion.plot;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import javax.imageio.ImageIO;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** The tutorial's loss figure: EMA loss per step on a log scale, drawn with JFreeChart. */
public final class LossPlot {
  private LossPlot() {}

  /** One named curve. */
  public record Curve(String name, long[] steps, double[] values) {}

  public static void write(Path png, String title, Curve... curves) throws IOException {
    XYSeriesCollection data = new XYSeriesCollection();
    for (Curve c : curves) {
      XYSeries s = new XYSeries(c.name(), false, true);
      for (int i = 0; i < c.steps().length; i++) {
        if (c.values()[i] > 0 && Double.isFinite(c.values()[i])) {
          s.add(c.steps()[i], c.values()[i]);
        }
      }
      data.addSeries(s);
    }
    NumberAxis x = new NumberAxis("Step");
    x.setAutoRangeIncludesZero(false);
    LogAxis y = new LogAxis("Loss (EMA)");
    y.setSmallestValue(1e-6);
    y.setNumberFormatOverride(new java.text.DecimalFormat("0.###"));
    XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, false);
    Color[] colours = {new Color(31, 119, 180), new Color(255, 127, 14), new Color(44, 160, 44),
        new Color(214, 39, 40), new Color(148, 103, 189), new Color(140, 86, 75)};
    for (int i = 0; i < curves.length; i++) {
      renderer.setSeriesPaint(i, colours[i % colours.length]);
      renderer.setSeriesStroke(i, new BasicStroke(1.5f));
    }
    XYPlot plot = new XYPlot(data, x, y, renderer);
    plot.setBackgroundPaint(Color.WHITE);
    plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
    plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
    JFreeChart chart = new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, plot, curves.length > 1);
    chart.setBackgroundPaint(Color.WHITE);
    Path tmp = png.resolveSibling(png.getFileName() + ".tmp");
    // ImageIO straight to a file: its stream-to-temp-file cache registers a shutdown hook on first use, which fails
    // when the plot is drawn for the final checkpoint after Ctrl-C or SIGTERM
    if (!ImageIO.write(chart.createBufferedImage(1000, 500), "png", tmp.toFile())) {
      throw new IOException("no PNG writer available");
    }
    Files.move(tmp, png, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}
