package dev.tfdiffusion.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.tfdiffusion.RunLayout;
import dev.tfdiffusion.UserError;
import dev.tfdiffusion.util.FileTrees;
import dev.tfdiffusion.util.Pin;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The checkpoints of a run, {@code <run>/checkpoints/step-NNNNNNNN/}: TensorFlow's {@code ckpt.index} and
 * {@code ckpt.data-*} files written by the graph's SaveV2 op, and {@code state.json} (step, EMA loss, elapsed time and
 * a SHA-256 of every file). A checkpoint is written under a temporary name and renamed into place, so a crash never
 * leaves a half-written one under a real name; one whose files do not match its checksums is skipped on resume.
 */
public final class Checkpoints {
  /** File prefix of the TensorFlow checkpoint inside each checkpoint folder. */
  public static final String PREFIX = "ckpt";
  public static final String STATE = "state.json";
  private static final Pattern NAME = Pattern.compile("step-(\\d{8})");
  private static final ObjectMapper JSON = new ObjectMapper()
      .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
      .enable(SerializationFeature.INDENT_OUTPUT);

  /** What a checkpoint records besides the tensors. */
  public record State(long step, double emaLoss, double elapsedSeconds, Map<String, String> sha256) {}

  /** A checkpoint that passed its checks. */
  public record Checkpoint(Path dir, State state) {
    public String prefix() {
      return dir.resolve(PREFIX).toString();
    }
  }

  /** A checkpoint held against pruning while it is read (by export, or by anything else outside the training run). */
  public record Pinned(Checkpoint checkpoint, Pin pin) implements AutoCloseable {
    @Override
    public void close() throws IOException {
      pin.close();
    }
  }

  private final Path root;
  private final int keep;

  public Checkpoints(Path runDir, int keep) {
    this.root = runDir.resolve(RunLayout.CHECKPOINTS);
    this.keep = keep;
  }

  public Path root() {
    return root;
  }

  /** The folder name of the checkpoint at {@code step}: {@code step-NNNNNNNN}. */
  public static String dirName(long step) {
    return String.format("step-%08d", step);
  }

  /**
   * Writes a checkpoint: {@code saver} receives the prefix to hand to the SaveV2 op. Keeps only the newest
   * {@code keep} checkpoints afterwards.
   */
  public Checkpoint write(long step, double emaLoss, double elapsedSeconds, Consumer<String> saver) {
    try {
      Files.createDirectories(root);
      Path tmp = root.resolve(".tmp-" + dirName(step));
      FileTrees.delete(tmp);
      Files.createDirectories(tmp);
      saver.accept(tmp.resolve(PREFIX).toString());
      pauseForFaultInjection();
      Map<String, String> sums = new LinkedHashMap<>();
      try (Stream<Path> files = Files.list(tmp)) {
        for (Path f : files.sorted().toList()) {
          sums.put(f.getFileName().toString(), FileTrees.sha256(f));
          FileTrees.fsync(f);
        }
      }
      State state = new State(step, emaLoss, elapsedSeconds, sums);
      Path stateFile = tmp.resolve(STATE);
      Files.writeString(stateFile, JSON.writeValueAsString(state) + "\n");
      FileTrees.fsync(stateFile);
      Path target = root.resolve(dirName(step));
      FileTrees.delete(target);
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
      FileTrees.fsync(root);
      prune();
      return new Checkpoint(target, state);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write checkpoint for step " + step + " in " + root, e);
    }
  }

  /**
   * Tests kill a training process while a checkpoint is half written; this environment variable (milliseconds)
   * holds the writer between the tensors and {@code state.json} so that they can. Unset in normal use.
   */
  public static final String PAUSE_ENV = "TF_DIFFUSION_TEST_CHECKPOINT_PAUSE_MS";

  private static void pauseForFaultInjection() {
    String pause = System.getenv(PAUSE_ENV);
    if (pause != null && !pause.isBlank()) {
      try {
        Thread.sleep(Long.parseLong(pause.strip()));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * The newest complete checkpoint, with a note for each one skipped as damaged. For the training run itself, which
   * is the only one that prunes (it holds the run's lock).
   */
  public Optional<Checkpoint> latest(Consumer<String> warnings) {
    for (Path dir : listNewestFirst()) {
      Optional<String> problem = verify(dir);
      if (problem.isEmpty()) {
        return Optional.of(new Checkpoint(dir, readState(dir)));
      }
      warnings.accept(skipped(dir, problem.get()));
    }
    return Optional.empty();
  }

  /**
   * As {@link #latest}, for readers beside a training run: the checkpoint is pinned before it is verified, so the run
   * cannot prune it until the caller closes it; one pruned while we looked is passed over.
   */
  public Optional<Pinned> latestPinned(Consumer<String> warnings) {
    for (Path dir : listNewestFirst()) {
      Optional<Pin> pin = pin(dir);
      if (pin.isEmpty()) {
        continue;
      }
      Optional<String> problem = verify(dir);
      if (problem.isEmpty()) {
        return Optional.of(new Pinned(new Checkpoint(dir, readState(dir)), pin.get()));
      }
      unpin(pin.get());
      warnings.accept(skipped(dir, problem.get()));
    }
    return Optional.empty();
  }

  private static String skipped(Path dir, String problem) {
    return "Skipping damaged checkpoint " + dir + ": " + problem + "; falling back to the previous one.";
  }

  /** The checkpoint in folder {@code dir}, pinned, if it passes its checks; otherwise a one-sentence error. */
  public static Pinned open(Path dir) {
    if (!Files.isDirectory(dir)) {
      throw new UserError("Checkpoint folder " + dir + " does not exist.");
    }
    Pin pin = pin(dir).orElseThrow(() -> new UserError("Checkpoint " + dir + " was removed by its training run "
        + "(--keep-checkpoints) as it was opened; choose a newer one, or the run folder for its newest."));
    Optional<String> problem = verify(dir);
    if (problem.isPresent()) {
      unpin(pin);
      throw new UserError("Checkpoint " + dir + " cannot be used: " + problem.get() + ".");
    }
    return new Pinned(new Checkpoint(dir, readState(dir)), pin);
  }

  private static Optional<Pin> pin(Path dir) {
    try {
      return Pin.forReading(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot pin checkpoint " + dir, e);
    }
  }

  private static void unpin(Pin pin) {
    try {
      pin.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  List<Path> listNewestFirst() {
    if (!Files.isDirectory(root)) {
      return List.of();
    }
    try (Stream<Path> dirs = Files.list(root)) {
      return dirs.filter(p -> NAME.matcher(p.getFileName().toString()).matches())
          .sorted(Comparator.comparing((Path p) -> p.getFileName().toString()).reversed())
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Why {@code dir} cannot be restored, if it cannot. */
  public static Optional<String> verify(Path dir) {
    Path stateFile = dir.resolve(STATE);
    if (!Files.isRegularFile(stateFile)) {
      return Optional.of("it has no " + STATE);
    }
    State state;
    try {
      state = readState(dir);
    } catch (RuntimeException e) {
      return Optional.of(STATE + " is unreadable");
    }
    Matcher m = NAME.matcher(dir.getFileName().toString());
    if (!m.matches() || Long.parseLong(m.group(1)) != state.step()) {
      return Optional.of("its folder name does not match step " + state.step());
    }
    if (state.sha256() == null || state.sha256().isEmpty()) {
      return Optional.of("it lists no files");
    }
    for (Map.Entry<String, String> e : state.sha256().entrySet()) {
      Path f = dir.resolve(e.getKey());
      try {
        if (!Files.isRegularFile(f)) {
          return Optional.of(e.getKey() + " is missing");
        }
        if (!FileTrees.sha256(f).equals(e.getValue())) {
          return Optional.of(e.getKey() + " does not match its checksum");
        }
      } catch (IOException ex) {
        return Optional.of(e.getKey() + " is unreadable");
      }
    }
    return Optional.empty();
  }

  /** The {@code state.json} of checkpoint folder {@code dir}, unchecked (see {@link #verify}). */
  public static State readState(Path dir) {
    try {
      return JSON.readValue(dir.resolve(STATE).toFile(), State.class);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Old checkpoints are renamed out of the way before they are deleted, so none is ever seen half-deleted. One that a
   * reader has pinned stays until a later checkpoint finds it free.
   */
  private void prune() throws IOException {
    List<Path> all = listNewestFirst();
    for (int i = keep; i < all.size(); i++) {
      Optional<Pin> hold = Pin.forRemoval(all.get(i));
      if (hold.isEmpty()) {
        continue;
      }
      try (Pin removal = hold.get()) {
        Path trash = root.resolve(".trash-" + all.get(i).getFileName());
        FileTrees.delete(trash);
        Files.move(all.get(i), trash, StandardCopyOption.ATOMIC_MOVE);
        FileTrees.delete(trash);
      }
    }
  }

  /** Removes what an interrupted write or prune left behind (temporary and half-deleted folders). */
  public void removeLeftovers() throws IOException {
    if (!Files.isDirectory(root)) {
      return;
    }
    try (Stream<Path> dirs = Files.list(root)) {
      for (Path p : dirs.filter(p -> p.getFileName().toString().startsWith(".")).toList()) {
        FileTrees.delete(p);
      }
    }
  }

  /** Bytes one checkpoint of {@code parameters} float32 values with {@code copies} tensors each takes (about). */
  public static long estimateBytes(long parameters, int copies) {
    return parameters * 4L * copies + (1 << 20);
  }
}
