package dev.tfdiffusion.cli;

import dev.tfdiffusion.UserError;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code java -jar tf-diffusion.jar <command>}: the command-line entry point. */
@Command(name = "tf-diffusion",
    mixinStandardHelpOptions = true,
    versionProvider = Versions.class,
    description = "Trains the JAX tutorial's diffusion model on 8x8 digits as one static TensorFlow Java graph.",
    subcommands = {TrainCommand.class, SampleCommand.class, ExportCommand.class, EvaluateCommand.class,
        SummaryCommand.class, BenchCommand.class, PlotLossCommand.class, DevicesCommand.class, WorkerCommand.class,
        ServeCommand.class,
        CommandLine.HelpCommand.class,
        AutoComplete.GenerateCompletion.class})
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
    Main main = new Main();
    CommandLine cli = new CommandLine(main);
    Hyperparameters.showPresetDefaults(cli.getSubcommands().get("train"));
    manPageStyle(cli);
    cli.setErr(err);
    cli.setExecutionExceptionHandler(Main::handleFailure);
    cli.setParameterExceptionHandler(Main::handleUsageError);
    Numbers.register(cli);
    // every command's --version prints the program's versions (picocli's default for subcommands prints nothing)
    shareVersion(cli, cli.getCommandSpec().versionProvider());
    cli.setExecutionStrategy(Main::strict);
    try {
      return cli.execute(args);
    } finally {
      main.afterExit.forEach(CountDownLatch::countDown);
    }
  }

  /** Gives every subcommand, at any depth (bench serve), the program's version provider. */
  private static void shareVersion(CommandLine command, CommandLine.IVersionProvider versions) {
    for (CommandLine sub : command.getSubcommands().values()) {
      if (sub.getCommandSpec().optionsMap().containsKey("--version")) {
        sub.getCommandSpec().versionProvider(versions);
      }
      shareVersion(sub, versions);
    }
  }

  /** Latches counted down once the command has ended and printed its error, if any (see {@link TrainCommand}). */
  private final List<CountDownLatch> afterExit = new ArrayList<>();

  void releaseAfterExit(CountDownLatch latch) {
    afterExit.add(latch);
  }

  @Override
  public void run() {
    throw new CommandLine.ParameterException(new CommandLine(this), "Missing command: choose one of train, sample, "
        + "export, evaluate, summary, bench, plot-loss, devices, worker.");
  }

  /** Every command's --help laid out like a man page: NAME, SYNOPSIS, DESCRIPTION, OPTIONS, EXIT STATUS. */
  static void manPageStyle(CommandLine cli) {
    CommandLine.Model.UsageMessageSpec u = cli.getCommandSpec().usageMessage();
    String[] description = u.description();
    String summary = description.length > 0 ? description[0] : "";
    int dot = summary.indexOf(". ");
    Map<String, String> exitCodes = new LinkedHashMap<>();
    exitCodes.put(" 0", "success");
    exitCodes.put(" 1", "failure: bad input file or model, diverged run, full disk");
    exitCodes.put(" 2", "usage error: unknown or impossible option");
    u.headerHeading("NAME%n")
        .header("  " + cli.getCommandSpec().qualifiedName("-") + " - "
            + (dot > 0 ? summary.substring(0, dot + 1) : summary))
        .synopsisHeading("%nSYNOPSIS%n  ")
        .descriptionHeading("%nDESCRIPTION%n")
        .parameterListHeading("%nPARAMETERS%n")
        .optionListHeading("%nOPTIONS%n")
        .commandListHeading("%nCOMMANDS%n")
        .exitCodeListHeading("%nEXIT STATUS%n")
        .exitCodeList(exitCodes)
        .footerHeading("%nSEE ALSO%n")
        .footer("  README.md of tf-diffusion; 'tf-diffusion <command> --help' for each command.");
    for (CommandLine sub : cli.getSubcommands().values()) {
      manPageStyle(sub);
    }
  }

  /**
   * picocli lets help commands (help, generate-completion) ignore arguments they do not know; here they are usage
   * errors as everywhere else, so a mistyped option is never silently dropped.
   */
  private static int strict(CommandLine.ParseResult parsed) {
    CommandLine.ParseResult leaf = parsed;
    while (leaf.subcommand() != null) {
      leaf = leaf.subcommand();
    }
    if (!leaf.unmatched().isEmpty() && !leaf.commandSpec().parser().unmatchedArgumentsAllowed()) {
      throw new CommandLine.UnmatchedArgumentException(leaf.commandSpec().commandLine(), leaf.unmatched());
    }
    return new CommandLine.RunLast().execute(parsed);
  }

  private static int handleUsageError(CommandLine.ParameterException e, String[] args) {
    PrintWriter err = e.getCommandLine().getErr();
    String message = e.getMessage().strip();
    // picocli's own sentences ("Missing required option: '--model=DIR'") end without a period
    err.println(message.endsWith(".") ? message : message + ".");
    CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
    err.println("Run '" + e.getCommandLine().getCommandSpec().qualifiedName() + " --help' for the options.");
    err.flush();
    return UserError.USAGE;
  }

  private static int handleFailure(Exception e, CommandLine cmd, CommandLine.ParseResult parsed) {
    PrintWriter err = cmd.getErr();
    // --verbose belongs to the subcommand: look for it in the innermost parse result, not the top-level one
    CommandLine.ParseResult leaf = parsed;
    while (leaf.subcommand() != null) {
      leaf = leaf.subcommand();
    }
    boolean verbose = leaf.hasMatchedOption("--verbose");
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
