package dev.tfdiffusion.cli;

import dev.tfdiffusion.UserError;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code java -jar tf-diffusion.jar <command>}: the command-line entry point. */
@Command(name = "tf-diffusion",
    mixinStandardHelpOptions = true,
    versionProvider = Versions.class,
    description = "Trains the JAX tutorial's diffusion model on 8x8 digits as one static TensorFlow Java graph.",
    subcommands = {TrainCommand.class, SampleCommand.class, ExportCommand.class, EvaluateCommand.class,
        SummaryCommand.class, BenchCommand.class, DevicesCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

  public static void main(String[] args) {
    if (!java.util.Arrays.asList(args).contains("--verbose")) {
      NativeLogs.quiet();
    }
    System.exit(run(args));
  }

  /** Runs the CLI and returns its exit code (tests call this instead of {@link #main}). */
  public static int run(String... args) {
    return run(new PrintWriter(System.err, true), args);
  }

  /** As {@link #run(String...)}, with error messages going to {@code err}. */
  public static int run(PrintWriter err, String... args) {
    CommandLine cli = new CommandLine(new Main());
    cli.setErr(err);
    cli.setExecutionExceptionHandler(Main::handleFailure);
    cli.setParameterExceptionHandler(Main::handleUsageError);
    return cli.execute(args);
  }

  @Override
  public void run() {
    throw new CommandLine.ParameterException(new CommandLine(this), "Missing command: choose one of train, sample, export, evaluate, summary, bench, devices.");
  }

  private static int handleUsageError(CommandLine.ParameterException e, String[] args) {
    PrintWriter err = e.getCommandLine().getErr();
    err.println(e.getMessage());
    CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
    err.println("Run '" + e.getCommandLine().getCommandSpec().qualifiedName() + " --help' for the options.");
    err.flush();
    return UserError.USAGE;
  }

  private static int handleFailure(Exception e, CommandLine cmd, CommandLine.ParseResult parsed) {
    PrintWriter err = cmd.getErr();
    boolean verbose = parsed.hasMatchedOption("--verbose");
    if (e instanceof UserError u) {
      err.println(u.getMessage());
      if (verbose && u.getCause() != null) {
        u.getCause().printStackTrace(err);
      }
      err.flush();
      return u.exitCode();
    }
    String what = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    err.println("Error: " + what + (verbose ? "" : " (run with --verbose for details)"));
    if (verbose) {
      e.printStackTrace(err);
    }
    err.flush();
    return UserError.FAILURE;
  }
}
