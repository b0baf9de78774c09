package dev.tfdiffusion.serve;

import dev.tfdiffusion.UserError;
import dev.tfdiffusion.sample.SavedModelSampler;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.exceptions.TensorFlowException;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.RunOptions;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;

/**
 * One loaded version of a model: its SavedModel, its signatures exactly as saved (the metadata endpoint prints them),
 * and runs of a signature with a deadline. {@code Session} runs are thread-safe, so requests share one session.
 */
final class ServedModel implements AutoCloseable {
  private final long version;
  private final SavedModelBundle bundle;
  private final SortedMap<String, SignatureDef> signatures;
  private final SavedModelSampler sampler;
  private final long timeoutMs;

  private ServedModel(long version, Path dir, SavedModelBundle bundle, long timeoutMs) {
    this.timeoutMs = timeoutMs;
    this.version = version;
    this.bundle = bundle;
    this.signatures = Collections.unmodifiableSortedMap(new TreeMap<>(bundle.metaGraphDef().getSignatureDefMap()));
    SavedModelSampler images;
    try {
      images = SavedModelSampler.over(bundle, dir, timeoutMs);
    } catch (UserError notOurs) {
      images = null; // any SavedModel can be served; only tf-diffusion's have the image endpoints
    }
    this.sampler = images;
  }

  /**
   * Loads the SavedModel in {@code dir} (tag "serve") as {@code version}, or explains in one sentence why not;
   * every run gets the deadline {@code timeoutMs}.
   */
  static ServedModel load(Path dir, long version, ConfigProto config, long timeoutMs) {
    SavedModelBundle bundle;
    try {
      bundle = SavedModelBundle.loader(dir.toString()).withTags(SavedModelBundle.DEFAULT_TAG).withConfigProto(config)
          .load();
    } catch (TensorFlowException | IllegalArgumentException e) {
      String why = e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse("").strip();
      throw new UserError("Cannot load the SavedModel in " + dir + ": " + why, UserError.FAILURE, e);
    }
    return new ServedModel(version, dir, bundle, timeoutMs);
  }

  /** The sampler behind the image endpoints, if this is a tf-diffusion model. */
  Optional<SavedModelSampler> sampler() {
    return Optional.ofNullable(sampler);
  }

  long version() {
    return version;
  }

  /** Every signature by key, in key order, as the SavedModel holds it. */
  SortedMap<String, SignatureDef> signatures() {
    return signatures;
  }

  /** The tensors a run returns, keyed by the signature's output keys; closing it frees them. */
  static final class Outputs implements AutoCloseable {
    private final Result result;
    private final SortedMap<String, Tensor> tensors;

    private Outputs(Result result, SortedMap<String, Tensor> tensors) {
      this.result = result;
      this.tensors = Collections.unmodifiableSortedMap(tensors);
    }

    SortedMap<String, Tensor> tensors() {
      return tensors;
    }

    @Override
    public void close() {
      result.close();
    }
  }

  /**
   * Runs signature {@code key} on {@code inputs} (keyed by its input keys, every one present), fetching every
   * output, as TensorFlow Serving's REST predict does. TensorFlow cancels the run after the model's deadline
   * ({@code RunOptions.timeout_in_ms}) and reports DEADLINE_EXCEEDED.
   */
  Outputs run(String key, Map<String, Tensor> inputs) {
    SignatureDef def = signatures.get(key);
    Session.Runner runner = bundle.session().runner();
    for (Map.Entry<String, TensorInfo> in : def.getInputsMap().entrySet()) {
      runner.feed(in.getValue().getName(), inputs.get(in.getKey()));
    }
    List<String> keys = new TreeMap<>(def.getOutputsMap()).keySet().stream().toList();
    keys.forEach(k -> runner.fetch(def.getOutputsMap().get(k).getName()));
    runner.setOptions(RunOptions.newBuilder().setTimeoutInMs(timeoutMs).build());
    Result result = runner.run();
    SortedMap<String, Tensor> byKey = new TreeMap<>();
    for (int i = 0; i < keys.size(); i++) {
      byKey.put(keys.get(i), result.get(i));
    }
    return new Outputs(result, byKey);
  }

  @Override
  public void close() {
    bundle.close();
  }
}
