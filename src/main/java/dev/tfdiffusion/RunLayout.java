package dev.tfdiffusion;

/**
 * The names of what a run folder and an exported model hold, each written once (README's "Output layout" shows the
 * tree; graphs/README.md describes each file).
 */
public final class RunLayout {
  /** Every hyperparameter of the run (in a run folder and in its SavedModel). */
  public static final String CONFIG = "config.json";
  public static final String TRAIN_LOG = "train_log.csv";
  public static final String LOSS_PNG = "loss.png";
  public static final String TRAINING_IMAGES_PNG = "training_images.png";
  public static final String CHECKPOINTS = "checkpoints";
  public static final String TENSORBOARD = "tensorboard";
  public static final String SAVED_MODEL = "saved_model";
  /** The SavedModel's graph: its presence tells a SavedModel folder. */
  public static final String SAVED_MODEL_PB = "saved_model.pb";
  public static final String SAMPLES_PNG = "samples.png";
  public static final String REVERSE_GIF = "reverse.gif";
  public static final String RECONSTRUCT_PNG = "reconstruct.png";
  public static final String FORWARD_REVERSE_PNG = "forward_reverse.png";
  /** evaluate's report, beside the model folder. */
  public static final String EVALUATION_JSON = "evaluation.json";
  /** The run folder's writer lock ({@code util.RunLock}). */
  public static final String LOCK = ".tf-diffusion.lock";

  private RunLayout() {}
}
