package dev.tfdiffusion.cli;

import dev.tfdiffusion.RunLayout;
import dev.tfdiffusion.UserError;
import dev.tfdiffusion.plot.LossPlot;
import dev.tfdiffusion.sample.SampleFiles;
import dev.tfdiffusion.train.TrainLog;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code plot-loss}: several runs' EMA loss on one log-scale chart, optionally beside a reference curve. */
@Command(name = "plot-loss", mixinStandardHelpOptions = true,
    description = {"Plots the EMA loss of one or more runs (their train_log.csv) on one log-scale chart, optionally "
        + "with reference curves from CSV files of 'epoch,ema_loss' rows (such as the tutorial's published run; a "
        + "header 'epoch,a,b' gives one curve per column), and prints the values at chosen steps as a table."})
public final class PlotLossCommand implements Callable<Integer> {
  @Option(names = "--run", required = true, paramLabel = "DIR", description = "A run folder (repeatable).")
  List<Path> runs;

  @Option(names = "--name", paramLabel = "LABEL", description = "Legend label per --run, in order.")
  List<String> names = new ArrayList<>();

  @Option(names = "--reference", paramLabel = "FILE.csv",
      description = "Reference curves: 'epoch,ema_loss' rows, or one curve per column after 'epoch' (repeatable).")
  List<Path> references = new ArrayList<>();

  @Option(names = "--reference-name", paramLabel = "LABEL",
      description = "Legend label per reference curve, in order (default: the column's name).")
  List<String> referenceNames = new ArrayList<>();

  @Option(names = "--at", split = ",", paramLabel = "STEPS",
      description = "Steps for the printed table (default: 0,100,200,1000,2000,5000).")
  List<Long> at = List.of(0L, 100L, 200L, 1000L, 2000L, 5000L);

  @Option(names = "--out", required = true, paramLabel = "FILE.png", description = "The chart.")
  Path out;

  @Option(names = "--overwrite", description = "Replace an existing chart.")
  boolean overwrite;

  @Mixin
  CommonOptions.Verbose verbose;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    if (names.size() > runs.size()) {
      throw UserError.usage("--name is given " + names.size() + " times for " + runs.size() + " --run folder"
          + (runs.size() == 1 ? "" : "s") + "; give at most one label per run, in order.");
    }
    if (references.isEmpty() && !referenceNames.isEmpty()) {
      throw UserError.usage("--reference-name labels the --reference curves; add --reference FILE.csv or drop "
          + "--reference-name.");
    }
    for (long step : at) {
      if (step < 0) {
        throw UserError.usage("--at takes steps of 0 or more, got " + step + ".");
      }
    }
    OutputPaths.requireCreatable(out);
    SampleFiles.checkWritable(overwrite, out);
    List<LossPlot.Curve> curves = new ArrayList<>();
    for (int i = 0; i < runs.size(); i++) {
      Path log = runs.get(i).resolve(RunLayout.TRAIN_LOG);
      if (!Files.exists(runs.get(i))) {
        throw new UserError("Run folder " + runs.get(i) + " does not exist.");
      }
      if (!Files.isRegularFile(log)) {
        throw new UserError(runs.get(i) + " has no " + RunLayout.TRAIN_LOG + ".");
      }
      List<TrainLog.Row> rows = TrainLog.read(log);
      curves.add(new LossPlot.Curve(i < names.size() ? names.get(i) : runs.get(i).getFileName().toString(),
          rows.stream().mapToLong(TrainLog.Row::step).toArray(),
          rows.stream().mapToDouble(TrainLog.Row::emaLoss).toArray()));
    }
    List<LossPlot.Curve> referenceCurves = new ArrayList<>();
    for (Path reference : references) {
      referenceCurves.addAll(readReference(reference));
    }
    if (referenceNames.size() > referenceCurves.size()) {
      throw UserError.usage("--reference-name gives " + referenceNames.size() + " labels for "
          + referenceCurves.size() + " reference curve" + (referenceCurves.size() == 1 ? "" : "s") + ".");
    }
    for (int i = 0; i < referenceCurves.size(); i++) {
      LossPlot.Curve c = referenceCurves.get(i);
      curves.add(i < referenceNames.size() ? new LossPlot.Curve(referenceNames.get(i), c.steps(), c.values()) : c);
    }
    OutputPaths.createParents(out);
    LossPlot.write(out, "EMA loss", curves.toArray(new LossPlot.Curve[0]));
    StringBuilder header = new StringBuilder(String.format("%-8s", "step"));
    curves.forEach(c -> header.append(String.format(" %14s", c.name())));
    System.out.println(header);
    for (long step : at) {
      StringBuilder line = new StringBuilder(String.format("%-8d", step));
      for (LossPlot.Curve c : curves) {
        int k = java.util.Arrays.binarySearch(c.steps(), step);
        line.append(k >= 0 ? String.format(" %14.4f", c.values()[k]) : String.format(" %14s", "-"));
      }
      System.out.println(line);
    }
    System.out.println("Wrote " + out + ".");
    return 0;
  }

  /** One curve per value column; the header line names them (a file without one holds 'epoch,ema_loss' rows). */
  private static List<LossPlot.Curve> readReference(Path file) throws IOException {
    if (Files.isDirectory(file)) {
      throw new UserError("Reference curve " + file + " is a folder, not a CSV file.");
    }
    if (!Files.isRegularFile(file)) {
      throw new UserError("Reference curve " + file + " does not exist.");
    }
    List<String> columns = List.of("ema_loss");
    List<Long> steps = new ArrayList<>();
    List<double[]> rows = new ArrayList<>();
    int lineNo = 0;
    for (String line : Files.readAllLines(file)) {
      lineNo++;
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      String[] c = line.split(",", -1);
      if (c[0].strip().equals("epoch")) {
        columns = java.util.Arrays.stream(c).skip(1).map(String::strip).toList();
        continue;
      }
      try {
        if (c.length != columns.size() + 1) {
          throw new IllegalArgumentException();
        }
        steps.add(Long.parseLong(c[0].strip()));
        // an empty cell: that curve has no value at this step (a run that stopped earlier)
        rows.add(java.util.Arrays.stream(c).skip(1)
            .mapToDouble(v -> v.isBlank() ? Double.NaN : Double.parseDouble(v.strip())).toArray());
      } catch (RuntimeException e) {
        throw new UserError(file + " line " + lineNo + ": expected 'epoch," + String.join(",", columns)
            + "', found '" + line + "'.");
      }
    }
    List<LossPlot.Curve> curves = new ArrayList<>();
    for (int k = 0; k < columns.size(); k++) {
      List<Long> at = new ArrayList<>();
      List<Double> values = new ArrayList<>();
      for (int i = 0; i < rows.size(); i++) {
        if (!Double.isNaN(rows.get(i)[k])) {
          at.add(steps.get(i));
          values.add(rows.get(i)[k]);
        }
      }
      curves.add(new LossPlot.Curve(columns.get(k), at.stream().mapToLong(Long::longValue).toArray(),
          values.stream().mapToDouble(Double::doubleValue).toArray()));
    }
    return curves;
  }
}
