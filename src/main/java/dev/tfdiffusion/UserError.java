package dev.tfdiffusion;

/**
 * A problem the user can fix (bad file, impossible flag): the CLI prints its message as one sentence, without a stack
 * trace, and exits with {@link #exitCode()}.
 */
public class UserError extends RuntimeException {
  /** Exit code for bad command-line usage, as picocli uses it. */
  public static final int USAGE = 2;
  /** Exit code for bad input files and failed runs. */
  public static final int FAILURE = 1;

  private final int exitCode;

  public UserError(String message) {
    this(message, FAILURE, null);
  }

  public UserError(String message, int exitCode) {
    this(message, exitCode, null);
  }

  public UserError(String message, int exitCode, Throwable cause) {
    super(message, cause);
    this.exitCode = exitCode;
  }

  public static UserError usage(String message) {
    return new UserError(message, USAGE);
  }

  public int exitCode() {
    return exitCode;
  }
}
