package dev.tfdiffusion.sample;

import dev.tfdiffusion.RunLayout;
import dev.tfdiffusion.UserError;
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
  private final boolean ownsBundle;
  /** Deadline of every run in milliseconds; 0 for none. */
  private final long timeoutMs;

  private SavedModelSampler(SavedModelBundle bundle, int height, int width, boolean ownsBundle, long timeoutMs) {
    this.bundle = bundle;
    this.height = height;
    this.width = width;
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
    if (noise == null || noise.shape.numDimensions() != 4) {
      throw new UserError(dir + " has a 'sample' signature without a [N,H,W,1] 'noise' input.");
    }
    return new SavedModelSampler(bundle, (int) noise.shape.get(1), (int) noise.shape.get(2), owns, timeoutMs);
  }

  public int height() {
    return height;
  }

  public int width() {
    return width;
  }

  /** x_T for {@code count} images: standard normal values from {@code java.util.Random(seed)}. */
  public float[] noise(int count, long seed) {
    return noise(count, height, width, seed);
  }

  /** {@link #noise(int, long)} for images of {@code height x width}. */
  public static float[] noise(int count, int height, int width, long seed) {
    Random rng = new Random(seed);
    float[] x = new float[count * height * width];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) rng.nextGaussian();
    }
    return x;
  }

  /** Runs a 1000-step ancestral sampler (DDPM or the tutorial's) from {@code noise}. */
  public float[] sample(Sampler sampler, float[] noise, long seed) {
    if (sampler.step() != Sampler.Step.ANCESTRAL) {
      throw new IllegalArgumentException(sampler + " takes steps and eta: use sampleDdim");
    }
    int n = noise.length / (height * width);
    try (TFloat32 x = images(noise, n); TInt64 s = TInt64.scalarOf(seed)) {
      Map<String, Tensor> in = Map.of("noise", x, "seed", s);
      try (Outputs r = call(sampler.signature(), in)) {
        return floats(r, "images");
      }
    }
  }

  /** DDIM with {@code steps} evenly spaced timesteps and noise scale {@code eta} (0: deterministic). */
  public float[] sampleDdim(float[] noise, long seed, int steps, float eta) {
    int n = noise.length / (height * width);
    try (TFloat32 x = images(noise, n); TInt64 s = TInt64.scalarOf(seed); TInt32 k = TInt32.scalarOf(steps);
         TFloat32 e = TFloat32.scalarOf(eta)) {
      try (Outputs r = call(Signatures.SAMPLE_DDIM, Map.of("noise", x, "seed", s, "steps", k, "eta", e))) {
        return floats(r, "images");
      }
    }
  }

  /** The sampler's final images and the states entering {@code frames} evenly spaced timesteps. */
  public record Trajectory(float[] images, float[] states, int[] timesteps) {}

  /** {@code sampler}'s run from {@code noise} with its states entering {@code frames} evenly spaced timesteps. */
  public Trajectory trajectory(Sampler sampler, float[] noise, long seed, int frames) {
    if (sampler.trajectorySignature() == null) {
      throw new IllegalArgumentException(sampler + " records no trajectory");
    }
    int n = noise.length / (height * width);
    try (TFloat32 x = images(noise, n); TInt64 s = TInt64.scalarOf(seed); TInt32 k = TInt32.scalarOf(frames)) {
      Map<String, Tensor> in = Map.of("noise", x, "seed", s, "frames", k);
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
    try (TFloat32 x = images(xs, t.length); TInt32 tt = TInt32.vectorOf(t)) {
      try (Outputs r = call(Signatures.DENOISE, Map.of("x", x, "t", tt))) {
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
    return TFloat32.tensorOf(Shape.of(n, height, width, 1), DataBuffers.of(values, true, false));
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
