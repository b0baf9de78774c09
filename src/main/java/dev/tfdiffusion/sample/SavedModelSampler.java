package dev.tfdiffusion.sample;

import dev.tfdiffusion.RunLayout;
import dev.tfdiffusion.UserError;
import dev.tfdiffusion.config.TrainConfig;
import dev.tfdiffusion.util.Compute;
import dev.tfdiffusion.util.Folders;
import dev.tfdiffusion.util.SessionOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeSet;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.Signature;
import org.tensorflow.Tensor;
import org.tensorflow.exceptions.TensorFlowException;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.proto.RunOptions;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/**
 * A tf-diffusion SavedModel, loaded with {@code SavedModelBundle.load} and used only through its signatures: this
 * package never builds the network (it does not depend on the model code).
 */
public final class SavedModelSampler implements AutoCloseable {
  private static final int RELOADS = 3;
  private final SavedModelBundle bundle;
  private final int height;
  private final int width;
  private final int channels;
  /** A conditional model's class count; 0 for an unconditional one. */
  private final int classes;
  private final boolean ownsBundle;
  /** Deadline of every run in milliseconds; 0 for none. */
  private final long timeoutMs;

  private SavedModelSampler(SavedModelBundle bundle, int height, int width, int channels, int classes,
                            boolean ownsBundle, long timeoutMs) {
    this.bundle = bundle;
    this.height = height;
    this.width = width;
    this.channels = channels;
    this.classes = classes;
    this.ownsBundle = ownsBundle;
    this.timeoutMs = timeoutMs;
  }

  /**
   * A sampler over a bundle loaded elsewhere (a server's), whose runs TensorFlow cancels after {@code timeoutMs}
   * (DEADLINE_EXCEEDED); closing it leaves the bundle open. Fails with one sentence unless {@code where} holds a
   * tf-diffusion model.
   */
  public static SavedModelSampler over(SavedModelBundle bundle, Path where, long timeoutMs) {
    return checked(bundle, where, false, timeoutMs);
  }

  /** Opens {@code dir}, or explains in one sentence why it is not a usable tf-diffusion model. */
  public static SavedModelSampler open(Path dir) {
    return open(dir, Compute.DEFAULT);
  }

  /** As {@link #open(Path)}, computing the signatures as {@code compute} says (XLA, precision). */
  public static SavedModelSampler open(Path dir, Compute compute) {
    requireSavedModelFolder(dir);
    // export swaps a new model in whole; one swapped in while we read is read again, so we never mix the two
    for (int attempt = 1; ; attempt++) {
      Optional<Object> before = Folders.identity(dir);
      SavedModelSampler model;
      try {
        model = load(dir, compute);
      } catch (UserError e) {
        if (attempt < RELOADS && !Folders.identity(dir).equals(before)) {
          continue;
        }
        throw e;
      }
      if (attempt >= RELOADS || Folders.identity(dir).equals(before)) {
        return model; // once loaded, the model lives in memory: later swaps do not touch it
      }
      model.close();
    }
  }

  /** Fails with one sentence unless {@code dir} is a folder holding a saved_model.pb (cheap: loads nothing). */
  public static void requireSavedModelFolder(Path dir) {
    if (!Files.exists(dir)) {
      throw new UserError("Model folder " + dir + " does not exist.");
    }
    if (!Files.isDirectory(dir)) {
      throw new UserError(dir + " is a file, not a SavedModel folder.");
    }
    if (!Files.isRegularFile(dir.resolve(RunLayout.SAVED_MODEL_PB))) {
      Path inside = dir.resolve(RunLayout.SAVED_MODEL);
      String hint = Files.isDirectory(inside) ? " (did you mean " + inside + "?)" : "";
      throw new UserError(dir + " is not a SavedModel: it has no saved_model.pb" + hint + ".");
    }
  }

  private static SavedModelSampler load(Path dir, Compute compute) {
    SavedModelBundle bundle;
    try {
      bundle = SavedModelBundle.loader(dir.toString()).withTags(SavedModelBundle.DEFAULT_TAG)
          .withConfigProto(SessionOptions.create(compute, 0)).load();
    } catch (TensorFlowException | IllegalArgumentException e) {
      String why = e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse("").strip();
      throw new UserError("Cannot load the SavedModel in " + dir + ": " + why, UserError.FAILURE, e);
    }
    try {
      return checked(bundle, dir, true, 0);
    } catch (RuntimeException e) {
      bundle.close();
      throw e;
    }
  }

  private static SavedModelSampler checked(SavedModelBundle bundle, Path dir, boolean owns, long timeoutMs) {
    Map<String, Signature> byKey = new HashMap<>();
    bundle.signatures().forEach(s -> byKey.put(s.key(), s));
    for (String key : Signatures.ALL) {
      if (!byKey.containsKey(key)) {
        throw new UserError(dir + " has no '" + key + "' signature, so it was not exported by tf-diffusion "
            + "(its signatures: " + String.join(", ", new TreeSet<>(byKey.keySet())) + ").");
      }
    }
    Signature.TensorDescription noise = byKey.get(Signatures.SAMPLE).getInputs().get("noise");
    if (noise == null || noise.shape.numDimensions() != 4
        || (noise.shape.get(3) != 1 && noise.shape.get(3) != 3)) {
      throw new UserError(dir + " has a 'sample' signature without a [N,H,W,C] 'noise' input of 1 or 3 channels.");
    }
    int classes = 0;
    if (byKey.get(Signatures.SAMPLE).getInputs().containsKey(Signatures.LABELS)) {
      classes = classesOf(dir);
    }
    return new SavedModelSampler(bundle, (int) noise.shape.get(1), (int) noise.shape.get(2),
        (int) noise.shape.get(3), classes, owns, timeoutMs);
  }

  /** A conditional model's class count, from the config.json export writes beside the graph. */
  private static int classesOf(Path dir) {
    Path config = dir.resolve(RunLayout.CONFIG);
    int classes = Files.isRegularFile(config) ? TrainConfig.read(config).classes() : 0;
    if (classes < 1) {
      throw new UserError(dir + " is a conditional model without its class count: its " + RunLayout.CONFIG
          + " is missing or has no classes.");
    }
    return classes;
  }

  public int height() {
    return height;
  }

  public int width() {
    return width;
  }

  public int channels() {
    return channels;
  }

  /** Values per image: height * width * channels. */
  public int pixelsPerImage() {
    return height * width * channels;
  }

  /** Whether the model takes class labels (and guidance). */
  public boolean conditional() {
    return classes > 0;
  }

  /** A conditional model's class count; 0 for an unconditional one. */
  public int classes() {
    return classes;
  }

  /** Labels 0,0,..,1,1,.. : {@code perClass} images of each of {@code classes} in turn (a grid row per class). */
  public static int[] labelsPerClass(int classes, int perClass) {
    int[] labels = new int[classes * perClass];
    for (int i = 0; i < labels.length; i++) {
      labels[i] = i / perClass;
    }
    return labels;
  }

  /**
   * The condition asking for {@code labels} with the default guidance on a conditional model; null (no condition)
   * on an unconditional one, or when {@code labels} is null.
   */
  public Condition guidedTo(int[] labels) {
    return conditional() && labels != null ? new Condition(labels, (float) Signatures.DEFAULT_GUIDANCE) : null;
  }

  /** x_T for {@code count} images: standard normal values from {@code java.util.Random(seed)}. */
  public float[] noise(int count, long seed) {
    return noise(count, pixelsPerImage(), seed);
  }

  /** {@link #noise(int, long)} for images of {@code pixels} values each. */
  public static float[] noise(int count, int pixels, long seed) {
    Random rng = new Random(seed);
    float[] x = new float[count * pixels];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) rng.nextGaussian();
    }
    return x;
  }

  /**
   * What a conditional model is asked for: a class per image (0 .. classes-1, or classes for none) and the guidance
   * weight w ({@link Signatures#DEFAULT_GUIDANCE} unless told otherwise).
   */
  public record Condition(int[] labels, float guidance) {
    /** The same condition for the images {@code from} (inclusive) to {@code to} (exclusive) only. */
    public Condition range(int from, int to) {
      return new Condition(java.util.Arrays.copyOfRange(labels, from, to), guidance);
    }
  }

  /** Runs a 1000-step ancestral sampler (DDPM or the tutorial's) from {@code noise}. */
  public float[] sample(Sampler sampler, float[] noise, long seed) {
    return sample(sampler, noise, seed, null);
  }

  /** As {@link #sample(Sampler, float[], long)}, guided to {@code condition} (null: an unconditional model). */
  public float[] sample(Sampler sampler, float[] noise, long seed, Condition condition) {
    if (sampler.step() != Sampler.Step.ANCESTRAL) {
      throw new IllegalArgumentException(sampler + " takes steps and eta: use sampleDdim");
    }
    int n = noise.length / pixelsPerImage();
    try (TFloat32 x = images(noise, n); TInt64 s = TInt64.scalarOf(seed); Conditioned c = conditioned(condition, n)) {
      Map<String, Tensor> in = c.with(Map.of("noise", x, "seed", s));
      try (Outputs r = call(sampler.signature(), in)) {
        return floats(r, "images");
      }
    }
  }

  /** DDIM with {@code steps} evenly spaced timesteps and noise scale {@code eta} (0: deterministic). */
  public float[] sampleDdim(float[] noise, long seed, int steps, float eta) {
    return sampleDdim(noise, seed, steps, eta, null);
  }

  /** As {@link #sampleDdim(float[], long, int, float)}, guided to {@code condition} (null: unconditional). */
  public float[] sampleDdim(float[] noise, long seed, int steps, float eta, Condition condition) {
    int n = noise.length / pixelsPerImage();
    try (TFloat32 x = images(noise, n); TInt64 s = TInt64.scalarOf(seed); TInt32 k = TInt32.scalarOf(steps);
         TFloat32 e = TFloat32.scalarOf(eta); Conditioned c = conditioned(condition, n)) {
      Map<String, Tensor> in = c.with(Map.of("noise", x, "seed", s, "steps", k, "eta", e));
      try (Outputs r = call(Signatures.SAMPLE_DDIM, in)) {
        return floats(r, "images");
      }
    }
  }

  /** A condition's tensors, fed beside a signature's other inputs (none for an unconditional call). */
  private record Conditioned(TInt32 labels, TFloat32 guidance) implements AutoCloseable {
    Map<String, Tensor> with(Map<String, Tensor> inputs) {
      if (labels == null) {
        return inputs;
      }
      Map<String, Tensor> all = new HashMap<>(inputs);
      all.put(Signatures.LABELS, labels);
      all.put(Signatures.GUIDANCE, guidance);
      return all;
    }

    @Override
    public void close() {
      if (labels != null) {
        labels.close();
        guidance.close();
      }
    }
  }

  private Conditioned conditioned(Condition condition, int n) {
    if (conditional() != (condition != null)) {
      throw new IllegalArgumentException(conditional() ? "this conditional model needs labels"
          : "this model is unconditional: it takes no labels");
    }
    if (condition == null) {
      return new Conditioned(null, null);
    }
    if (condition.labels().length != n) {
      throw new IllegalArgumentException(condition.labels().length + " labels for " + n + " images");
    }
    return new Conditioned(TInt32.vectorOf(condition.labels()), TFloat32.scalarOf(condition.guidance()));
  }

  /** The sampler's final images and the states entering {@code frames} evenly spaced timesteps. */
  public record Trajectory(float[] images, float[] states, int[] timesteps) {}

  /** {@code sampler}'s run from {@code noise} with its states entering {@code frames} evenly spaced timesteps. */
  public Trajectory trajectory(Sampler sampler, float[] noise, long seed, int frames) {
    return trajectory(sampler, noise, seed, frames, null);
  }

  /** As {@link #trajectory(Sampler, float[], long, int)}, guided to {@code condition} (null: unconditional). */
  public Trajectory trajectory(Sampler sampler, float[] noise, long seed, int frames, Condition condition) {
    if (sampler.trajectorySignature() == null) {
      throw new IllegalArgumentException(sampler + " records no trajectory");
    }
    int n = noise.length / pixelsPerImage();
    try (TFloat32 x = images(noise, n); TInt64 s = TInt64.scalarOf(seed); TInt32 k = TInt32.scalarOf(frames);
         Conditioned c = conditioned(condition, n)) {
      Map<String, Tensor> in = c.with(Map.of("noise", x, "seed", s, "frames", k));
      try (Outputs r = call(sampler.trajectorySignature(), in)) {
        TInt32 times = (TInt32) r.get("timesteps");
        int[] t = new int[(int) times.size()];
        times.copyTo(DataBuffers.of(t, false, false));
        return new Trajectory(floats(r, "images"), floats(r, "states"), t);
      }
    }
  }

  /** q(x_t | x_0): the forward process at timesteps {@code t} (one per image). */
  public float[] forwardNoise(float[] x0, int[] t, long seed) {
    try (TFloat32 x = images(x0, t.length); TInt32 tt = TInt32.vectorOf(t); TInt64 s = TInt64.scalarOf(seed)) {
      try (Outputs r = call(Signatures.FORWARD_NOISE, Map.of("x0", x, "t", tt, "seed", s))) {
        return floats(r, "x_t");
      }
    }
  }

  /** The denoiser: eps_hat = model(x, t). */
  public float[] denoise(float[] xs, int[] t) {
    return denoise(xs, t, null);
  }

  /** The denoiser eps_hat = model(x, t, labels) of a conditional model (labels null: an unconditional one). */
  public float[] denoise(float[] xs, int[] t, int[] labels) {
    try (TFloat32 x = images(xs, t.length); TInt32 tt = TInt32.vectorOf(t);
         TInt32 l = labels == null ? null : TInt32.vectorOf(labels)) {
      Map<String, Tensor> in = new HashMap<>(Map.of("x", x, "t", tt));
      if (l != null) {
        in.put(Signatures.LABELS, l);
      }
      try (Outputs r = call(Signatures.DENOISE, in)) {
        return floats(r, "eps");
      }
    }
  }

  /** A run's output tensors by output key; closing it frees them. */
  private record Outputs(Result result, Map<String, Tensor> byKey) implements AutoCloseable {
    Tensor get(String key) {
      Tensor t = byKey.get(key);
      if (t == null) {
        throw new IllegalStateException("no output " + key);
      }
      return t;
    }

    @Override
    public void close() {
      result.close();
    }
  }

  /** Runs {@code signature}; with a deadline through the session's run options (a signature call takes none). */
  private Outputs call(String signature, Map<String, Tensor> inputs) {
    if (timeoutMs == 0) {
      Result r = bundle.function(signature).call(inputs);
      Map<String, Tensor> byKey = new HashMap<>();
      r.forEach(e -> byKey.put(e.getKey(), e.getValue()));
      return new Outputs(r, byKey);
    }
    Signature sig = bundle.function(signature).signature();
    Session.Runner runner = bundle.session().runner();
    sig.getInputs().forEach((key, d) -> runner.feed(d.name, inputs.get(key)));
    List<String> keys = List.copyOf(new TreeSet<>(sig.outputNames()));
    keys.forEach(key -> runner.fetch(sig.getOutputs().get(key).name));
    Result r = runner.setOptions(RunOptions.newBuilder().setTimeoutInMs(timeoutMs).build()).run();
    Map<String, Tensor> byKey = new HashMap<>();
    for (int i = 0; i < keys.size(); i++) {
      byKey.put(keys.get(i), r.get(i));
    }
    return new Outputs(r, byKey);
  }

  private TFloat32 images(float[] values, int n) {
    return TFloat32.tensorOf(Shape.of(n, height, width, channels), DataBuffers.of(values, true, false));
  }

  private static float[] floats(Outputs r, String name) {
    TFloat32 t = (TFloat32) r.get(name);
    float[] out = new float[(int) t.size()];
    t.copyTo(DataBuffers.of(out, false, false));
    return out;
  }

  /** Signature names of the loaded model (for messages). */
  public List<String> signatureNames() {
    return bundle.signatures().stream().map(Signature::key).sorted().toList();
  }

  @Override
  public void close() {
    if (ownsBundle) {
      bundle.close();
    }
  }
}
