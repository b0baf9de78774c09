package dev.tfdiffusion.config;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.tfdiffusion.UserError;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Every hyperparameter of a training run: the single source of truth. Each field is a {@code train} flag of the same
 * (kebab-case) name and is written to {@code config.json} beside the run.
 */
@JsonIgnoreProperties(value = {"tf-diffusion-version", "tensorflow-version", "checkpoint-step", "weights"})
public record TrainConfig(
    String preset,
    // data
    String digit,
    String data,
    boolean grayscale,
    int imageSize,
    double testFraction,
    long splitSeed,
    // model
    int features,
    int timeEmbedding,
    boolean conditional,
    int classes,
    double condDrop,
    // diffusion
    int diffusionSteps,
    double betaStart,
    double betaEnd,
    // optimisation
    int steps,
    int batchSize,
    double lr,
    int warmupSteps,
    double lrFinalFraction,
    double weightDecay,
    double adamBeta1,
    double adamBeta2,
    double adamEpsilon,
    double clipValue,
    double clipNorm,
    double penaltyWeight,
    boolean freezeBlocks,
    long seed,
    double emaDecay,
    // bookkeeping
    double lossEmaDecay,
    int logEvery,
    int sampleEvery,
    int checkpointEvery,
    int keepCheckpoints) {

  /** The largest --image-size. */
  public static final int MAX_IMAGE_SIZE = 512;
  /** The most --diffusion-steps: the schedules are arrays of this length, and sampling runs the U-Net this often. */
  public static final int MAX_DIFFUSION_STEPS = 100_000;

  /** All images of the data set rather than one digit. */
  public static final String ALL_DIGITS = "all";

  private static final ObjectMapper JSON = new ObjectMapper()
      .setPropertyNamingStrategy(PropertyNamingStrategies.KEBAB_CASE)
      .enable(SerializationFeature.INDENT_OUTPUT)
      .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
      .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES);

  /**
   * Fields added after config files were first written, with the value that reproduces what such a file meant: a
   * config.json without them (an older run, checkpoint or export) reads as an unconditional model of its data's
   * channels.
   */
  private static final Map<String, Object> ADDED_LATER = Map.of(
      "grayscale", false, "conditional", false, "classes", 0, "cond-drop", 0.1);

  /** The label to train on, or -1 for all digits. */
  public int digitLabel() {
    return ALL_DIGITS.equals(digit) ? -1 : Integer.parseInt(digit);
  }

  /** Checks that the values describe a run that can exist; throws a usage error naming the flag otherwise. */
  public TrainConfig validate() {
    positive("features", features);
    if (imageSize < 0 || imageSize == 1 || imageSize > MAX_IMAGE_SIZE) {
      throw UserError.usage("--image-size must be 0 (as stored) or between 2 and " + MAX_IMAGE_SIZE + ", got "
          + imageSize + ".");
    }
    positive("time-embedding", timeEmbedding);
    if (timeEmbedding % 2 != 0 || timeEmbedding < 4) {
      throw UserError.usage("--time-embedding must be an even number of at least 4, got " + timeEmbedding + ".");
    }
    if (diffusionSteps < 1 || diffusionSteps > MAX_DIFFUSION_STEPS) {
      throw UserError.usage("--diffusion-steps must be between 1 and " + MAX_DIFFUSION_STEPS + ", got "
          + diffusionSteps + ".");
    }
    positive("steps", steps);
    if (batchSize < 0) {
      throw UserError.usage("--batch-size must be 0 (the whole training set) or positive, got " + batchSize + ".");
    }
    if (!(lr > 0) || !Double.isFinite(lr)) {
      throw UserError.usage("--lr must be a positive number, got " + lr + ".");
    }
    if (warmupSteps < 0 || warmupSteps >= steps) {
      throw UserError.usage("--warmup-steps must be at least 0 and less than --steps (" + steps + "), got "
          + warmupSteps + ".");
    }
    fraction("lr-final-fraction", lrFinalFraction, true);
    fraction("test-fraction", testFraction, false);
    fraction("adam-beta1", adamBeta1, false);
    fraction("adam-beta2", adamBeta2, false);
    fraction("loss-ema-decay", lossEmaDecay, false);
    if (!(betaStart > 0 && betaStart <= betaEnd && betaEnd < 1)) {
      throw UserError.usage("--beta-start and --beta-end must satisfy 0 < beta-start <= beta-end < 1, got "
          + betaStart + " and " + betaEnd + ".");
    }
    nonNegative("weight-decay", weightDecay);
    nonNegative("penalty-weight", penaltyWeight);
    if (!(emaDecay >= 0 && emaDecay < 1)) {
      throw UserError.usage("--ema-decay must lie in [0, 1) (0 turns the weight average off), got " + emaDecay + ".");
    }
    if (!(adamEpsilon > 0) || !Double.isFinite(adamEpsilon)) {
      throw UserError.usage("--adam-epsilon must be positive, got " + adamEpsilon + ".");
    }
    if (!(clipValue > 0) || !(clipNorm > 0)) {
      throw UserError.usage("--clip-value and --clip-norm must be positive, got " + clipValue + " and " + clipNorm
          + ".");
    }
    if (classes < 0) {
      throw UserError.usage("--classes must be 0 (from the data's labels) or positive, got " + classes + ".");
    }
    if (classes > 0 && !conditional) {
      throw UserError.usage("--classes is the class count of a conditional model; add --conditional.");
    }
    if (conditional && !ALL_DIGITS.equals(digit)) {
      throw UserError.usage("--conditional learns every class of the data; drop --digit " + digit
          + " (or give --digit all).");
    }
    if (!(condDrop >= 0 && condDrop < 1)) {
      throw UserError.usage("--cond-drop must lie in [0, 1), got " + condDrop + ".");
    }
    positive("log-every", logEvery);
    if (sampleEvery < 0) {
      throw UserError.usage("--sample-every must be 0 (off) or positive, got " + sampleEvery + ".");
    }
    positive("checkpoint-every", checkpointEvery);
    positive("keep-checkpoints", keepCheckpoints);
    if (!ALL_DIGITS.equals(digit) && !digit.matches("[0-9]")) {
      throw UserError.usage("--digit must be one of 0..9 or 'all', got '" + digit + "'.");
    }
    return this;
  }

  private static void positive(String flag, long value) {
    if (value <= 0) {
      throw UserError.usage("--" + flag + " must be positive, got " + value + ".");
    }
  }

  private static void nonNegative(String flag, double value) {
    if (!(value >= 0) || !Double.isFinite(value)) {
      throw UserError.usage("--" + flag + " must be a number of at least 0, got " + value + ".");
    }
  }

  private static void fraction(String flag, double value, boolean closed) {
    boolean ok = closed ? value >= 0 && value <= 1 : value > 0 && value < 1;
    if (!ok) {
      throw UserError.usage("--" + flag + " must lie in " + (closed ? "[0, 1]" : "(0, 1)") + ", got " + value + ".");
    }
  }

  /** The config's fields by their flag names (kebab-case), in declaration order. */
  public static java.util.List<String> keys() {
    return java.util.Arrays.stream(TrainConfig.class.getRecordComponents())
        .map(c -> PropertyNamingStrategies.KebabCaseStrategy.INSTANCE.translate(c.getName())).toList();
  }

  /** A config from every field by its flag name (keys as in {@link #keys()}); all must be present. */
  public static TrainConfig of(Map<String, Object> fields) {
    return JSON.convertValue(fields, TrainConfig.class);
  }

  /** Every field by its flag name, in declaration order. */
  @SuppressWarnings("unchecked")
  public Map<String, Object> fields() {
    return new LinkedHashMap<>(JSON.convertValue(this, Map.class));
  }

  /** A copy with the named fields replaced (keys as in {@link #keys()}). */
  public TrainConfig with(Map<String, Object> overrides) {
    Map<String, Object> tree = fields();
    for (Map.Entry<String, Object> e : overrides.entrySet()) {
      if (!tree.containsKey(e.getKey())) {
        throw new IllegalArgumentException("no config field " + e.getKey());
      }
      tree.put(e.getKey(), e.getValue());
    }
    return JSON.convertValue(tree, TrainConfig.class);
  }

  public String toJson(Map<String, String> extra) {
    Map<String, Object> tree = fields();
    tree.putAll(extra);
    try {
      return JSON.writeValueAsString(tree) + "\n";
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  public static TrainConfig fromJson(String json, String source) {
    try {
      com.fasterxml.jackson.databind.JsonNode tree = JSON.readTree(json);
      if (tree instanceof com.fasterxml.jackson.databind.node.ObjectNode fields) {
        ADDED_LATER.forEach((key, value) -> {
          if (!fields.has(key)) {
            fields.set(key, JSON.valueToTree(value));
          }
        });
      }
      return JSON.treeToValue(tree, TrainConfig.class);
    } catch (IOException e) {
      String why = e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse("").strip();
      throw new UserError(source + " is not a valid training config: " + why + (why.endsWith(".") ? "" : "."));
    }
  }

  public static TrainConfig read(Path file) {
    if (Files.isDirectory(file)) {
      throw new UserError("Config file " + file + " is a folder, not a JSON file.");
    }
    try {
      return fromJson(Files.readString(file), file.toString());
    } catch (NoSuchFileException e) {
      throw new UserError("Config file " + file + " does not exist.");
    } catch (IOException e) {
      throw new UserError("Cannot read config file " + file + ": " + e.getMessage() + ".");
    }
  }
}
