package dev.tfdiffusion.evaluate;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tfdiffusion.data.DigitsCsv;
import dev.tfdiffusion.data.Images;
import dev.tfdiffusion.model.Layers;
import dev.tfdiffusion.model.VariableStore;
import dev.tfdiffusion.model.VariableStore.Param;
import dev.tfdiffusion.checkpoint.CheckpointOps;
import dev.tfdiffusion.UserError;
import dev.tfdiffusion.util.FileTrees;
import dev.tfdiffusion.util.LockFile;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.op.math.Mean;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TType;

/**
 * The independent judge of samples: a small convolutional digit classifier (all ten classes of the bundled digits),
 * trained with TensorFlow Java on its own 80/20 split and cached, so evaluation needs it trained once per machine.
 * Its 64 penultimate features are the space of the Fréchet distance.
 *
 * <pre>
 *   conv3x3(16) relu -> conv3x3(32) relu -> maxpool 2x2 -> dense(64) relu [features] -> dense(10) [logits]
 * </pre>
 */
public final class Judge implements AutoCloseable {
  /** Bump when the architecture or training changes: the cache is keyed by it. */
  static final String VERSION = "judge-v1";
  static final double TEST_FRACTION = 0.2;
  static final long SPLIT_SEED = 2024;
  static final int STEPS = 400;
  static final double LEARNING_RATE = 3e-3;
  public static final int FEATURES = 64;
  public static final int CLASSES = 10;
  /** How long an evaluation waits for another one that is training the cached judge. */
  static final Duration CACHE_WAIT = Duration.ofMinutes(10);

  /** What the cache records beside the weights. */
  record Info(String version, double heldOutAccuracy, int trainImages, int testImages) {}

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Graph graph = new Graph();
  private final Session session;
  private final Placeholder<TFloat32> images;
  private final Operand<TFloat32> probabilities;
  private final Operand<TFloat32> features;
  private final Placeholder<TInt32> labels;
  private final Op trainStep;
  private final Operand<TFloat32> loss;
  private final CheckpointOps checkpoint;
  private double heldOutAccuracy;

  private Judge() {
    Ops tf = Ops.create(graph);
    images = tf.withName("images").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 8, 8, 1)));
    labels = tf.withName("labels").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1)));
    VariableStore<TFloat32> store = new VariableStore<>(tf.withSubScope("judge"), TFloat32.class, 7);
    Layers<TFloat32> l = new Layers<>(tf.withSubScope("judge"), TFloat32.class, store);
    Operand<TFloat32> h = tf.nn.relu(l.conv("conv1", images, 16, 3));
    h = tf.nn.relu(l.conv("conv2", h, 32, 3));
    h = l.maxPool2x2(h);
    h = tf.reshape(h, tf.constant(new long[] {-1, 4 * 4 * 32}));
    features = tf.withName("features").identity(tf.nn.relu(l.dense("dense1", h, FEATURES)));
    Operand<TFloat32> logits = l.dense("logits", features, CLASSES);
    probabilities = tf.withName("probabilities").nn.softmax(logits);

    Operand<TFloat32> oneHot = tf.oneHot(labels, tf.constant(CLASSES), tf.constant(1f), tf.constant(0f));
    loss = tf.math.mean(tf.nn.softmaxCrossEntropyWithLogits(logits, oneHot).loss(), tf.constant(0),
        Mean.keepDims(false));
    List<Param<TFloat32>> params = store.params();
    List<Operand<TFloat32>> grads = new ArrayList<>();
    tf.gradients(loss, params.stream().map(Param::read).toList()).forEach(g -> grads.add(cast(g)));

    // plain Adam on a counter-driven bias correction
    Variable<TFloat32> step = tf.withName("step").variable(tf.withInitScope().constant(0f));
    Operand<TFloat32> k = tf.math.add(step, tf.constant(1f));
    Operand<TFloat32> b1p = tf.math.pow(tf.constant(0.9f), k);
    Operand<TFloat32> b2p = tf.math.pow(tf.constant(0.999f), k);
    List<Op> updates = new ArrayList<>();
    Ops init = tf.withInitScope();
    for (int i = 0; i < params.size(); i++) {
      Param<TFloat32> p = params.get(i);
      Operand<TFloat32> zeros = init.fill(init.constant(p.shape()), init.constant(0f));
      Variable<TFloat32> m = tf.variable(zeros);
      Variable<TFloat32> v = tf.variable(zeros);
      updates.add(tf.train.applyAdam(p.variable(), m, v, b1p, b2p, tf.constant((float) LEARNING_RATE),
          tf.constant(0.9f), tf.constant(0.999f), tf.constant(1e-7f), grads.get(i)));
    }
    trainStep = tf.withControlDependencies(updates).assignAdd(step, tf.constant(1f));

    Map<String, Variable<? extends TType>> byName = new java.util.LinkedHashMap<>();
    params.forEach(p -> byName.put(p.name(), p.variable()));
    checkpoint = new CheckpointOps(tf, byName, true);
    session = new Session(graph);
    session.initialize();
  }

  @SuppressWarnings("unchecked")
  private static <T extends TType> Operand<T> cast(Operand<?> o) {
    return (Operand<T>) o;
  }

  @SuppressWarnings("unchecked")
  private static <T extends TType> Operand<T> cast(Output<?> o) {
    return (Operand<T>) o;
  }

  /**
   * The cached judge, trained (and cached) first if the cache has none. The cache is read and written under an
   * exclusive lock, so concurrent evaluations train it once and never see it half-written.
   */
  public static Judge load(Path cacheRoot, PrintStream log) throws IOException {
    Files.createDirectories(cacheRoot);
    Path lockFile = cacheRoot.resolve("." + VERSION + ".lock");
    try (LockFile lock = LockFile.exclusive(lockFile, CACHE_WAIT).orElseThrow(() -> new UserError("The digit "
        + "classifier's cache " + cacheRoot.resolve(VERSION) + " stayed locked by another process for "
        + CACHE_WAIT.toMinutes() + " minutes; try again when it has finished."))) {
      return loadLocked(cacheRoot, log);
    }
  }

  private static Judge loadLocked(Path cacheRoot, PrintStream log) throws IOException {
    Path dir = cacheRoot.resolve(VERSION);
    Path infoFile = dir.resolve("judge.json");
    Judge judge = new Judge();
    try {
      if (Files.isRegularFile(infoFile)) {
        try {
          Info info = JSON.readValue(infoFile.toFile(), Info.class);
          judge.restore(dir.resolve("ckpt").toString());
          judge.heldOutAccuracy = info.heldOutAccuracy();
          return judge;
        } catch (IOException | RuntimeException e) {
          log.println("The cached digit classifier in " + dir + " is unreadable; training it again.");
        }
      }
      log.println("Training the digit classifier that judges samples (once; cached in " + dir + ")...");
      Images.Split split = DigitsCsv.bundled().split(TEST_FRACTION, SPLIT_SEED);
      judge.train(split.train());
      judge.heldOutAccuracy = judge.accuracy(split.test());
      Path tmp = cacheRoot.resolve("." + VERSION + ".tmp");
      FileTrees.delete(tmp);
      Files.createDirectories(tmp);
      judge.checkpoint.save(judge.session, tmp.resolve("ckpt").toString());
      Files.writeString(tmp.resolve("judge.json"), JSON.writeValueAsString(new Info(VERSION,
          judge.heldOutAccuracy, split.train().count(), split.test().count())));
      FileTrees.delete(dir);
      Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
      return judge;
    } catch (IOException | RuntimeException e) {
      judge.close();
      throw e;
    }
  }

  private void restore(String path) {
    checkpoint.restore(session, path);
  }

  /** Full-batch Adam on {@code train}; returns the final loss. */
  double train(Images train) {
    double last = Double.NaN;
    try (TFloat32 x = tensor(train.pixels(), train.count()); TInt32 y = TInt32.vectorOf(train.labels())) {
      for (int i = 0; i < STEPS; i++) {
        try (Result r = session.runner().feed(images, x).feed(labels, y).addTarget(trainStep).fetch(loss).run()) {
          last = ((TFloat32) r.get(0)).getFloat();
        }
      }
    }
    return last;
  }

  /** Share of {@code test} classified correctly. */
  public double accuracy(Images test) {
    float[][] p = classify(test.pixels(), test.count()).probabilities();
    int correct = 0;
    for (int i = 0; i < test.count(); i++) {
      if (argmax(p[i]) == test.labels()[i]) {
        correct++;
      }
    }
    return (double) correct / test.count();
  }

  public double heldOutAccuracy() {
    return heldOutAccuracy;
  }

  /** Class probabilities and penultimate features per image. */
  public record Verdict(float[][] probabilities, double[][] features) {}

  public Verdict classify(float[] pixels, int n) {
    try (TFloat32 x = tensor(pixels, n);
         Result r = session.runner().feed(images, x).fetch(probabilities).fetch(features).run()) {
      TFloat32 p = (TFloat32) r.get(0);
      TFloat32 f = (TFloat32) r.get(1);
      float[][] probs = new float[n][CLASSES];
      double[][] feats = new double[n][FEATURES];
      for (int i = 0; i < n; i++) {
        for (int c = 0; c < CLASSES; c++) {
          probs[i][c] = p.getFloat(i, c);
        }
        for (int c = 0; c < FEATURES; c++) {
          feats[i][c] = f.getFloat(i, c);
        }
      }
      return new Verdict(probs, feats);
    }
  }

  static int argmax(float[] p) {
    int best = 0;
    for (int i = 1; i < p.length; i++) {
      if (p[i] > p[best]) {
        best = i;
      }
    }
    return best;
  }

  private static TFloat32 tensor(float[] pixels, int n) {
    return TFloat32.tensorOf(Shape.of(n, 8, 8, 1), DataBuffers.of(pixels, true, false));
  }

  /** {@code $XDG_CACHE_HOME/tf-diffusion}, else {@code ~/.cache/tf-diffusion}. */
  public static Path defaultCache() {
    String xdg = System.getenv("XDG_CACHE_HOME");
    Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
    return base.resolve("tf-diffusion");
  }

  @Override
  public void close() {
    session.close();
    graph.close();
  }
}
