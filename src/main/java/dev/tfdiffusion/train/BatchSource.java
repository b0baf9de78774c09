package dev.tfdiffusion.train;

import dev.tfdiffusion.config.TrainConfig;
import dev.tfdiffusion.data.Images;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/**
 * Where a step's batch x_0 (and a conditional model's labels) come from. The batch is the same either way: the
 * images at topK(uniform(seed, step), batch) of the training set, a function of the seed and the step.
 *
 * <ul>
 *   <li>{@link Path#RESIDENT}: the whole training set is copied once into a graph variable and the step gathers its
 *       batch there (the tutorial's way, and the fastest for small data);
 *   <li>{@link Path#STREAMED}: the set stays in the Java heap and each step's {@code run()} feeds just its batch; the
 *       same run also returns the next step's indices, so the host gathers that batch while nothing waits. For data
 *       too large to copy into the graph (MNIST, CIFAR-10), and chosen automatically there ({@link #pathFor}).
 * </ul>
 */
final class BatchSource {
  /** How the training images reach the step. */
  enum Path { RESIDENT, STREAMED }

  /** Training sets larger than this (in float32 bytes) stream their batches when a step takes fewer than all. */
  static final long STREAM_ABOVE_BYTES = 64L << 20;

  private final Path path;
  private final int batch;
  private final Shape batchShape;
  private final Operand<TFloat32> x0;
  private final Operand<TInt32> labels; // null for an unconditional model
  // resident
  private final Placeholder<TFloat32> imagesFeed;
  private final Placeholder<TInt32> labelsFeed;
  private final Op load;
  // streamed
  private final Operand<TInt32> indicesNow;
  private final org.tensorflow.op.core.Identity<TInt32> indicesNext;
  private Images host;
  private int[] pending; // the indices of the batch the next run feeds; null: ask the graph

  /** RESIDENT unless the step takes a part of a training set too large to copy into the graph. */
  static Path pathFor(Images.Shape data, int batch) {
    long bytes = 4L * data.count() * data.height() * data.width() * data.channels();
    return batch < data.count() && bytes > STREAM_ABOVE_BYTES ? Path.STREAMED : Path.RESIDENT;
  }

  /**
   * @param step the global step as this step reads it
   * @param conditional whether the model takes labels
   */
  BatchSource(Ops tf, TrainConfig config, Images.Shape data, int batch, boolean conditional, Path path,
              Operand<TInt64> step) {
    this.path = path;
    this.batch = batch;
    int n = data.count();
    Ops d = tf.withSubScope("data");
    batchShape = Shape.of(batch, data.height(), data.width(), data.channels());
    if (path == Path.STREAMED) {
      x0 = d.withName("batch_feed").placeholder(TFloat32.class, Placeholder.shape(batchShape));
      labels = conditional
          ? d.withName("batch_labels_feed").placeholder(TInt32.class, Placeholder.shape(Shape.of(batch))) : null;
      indicesNow = RandomDraws.batchIndices(d, config.seed(), step, n, batch);
      indicesNext = d.identity(RandomDraws.batchIndices(d, config.seed(), d.math.add(step, d.constant(1L)), n,
          batch));
      imagesFeed = null;
      labelsFeed = null;
      load = null;
      return;
    }
    indicesNow = null;
    indicesNext = null;
    Shape all = Shape.of(n, data.height(), data.width(), data.channels());
    Variable<TFloat32> images = d.withName("images").variable(all, TFloat32.class);
    imagesFeed = d.withName("images_feed").placeholder(TFloat32.class, Placeholder.shape(all));
    List<Op> loads = new ArrayList<>(List.of(d.withName("load_images").assign(images, imagesFeed)));
    Variable<TInt32> allLabels = null;
    if (conditional) {
      allLabels = d.withName("labels").variable(Shape.of(n), TInt32.class);
      labelsFeed = d.withName("labels_feed").placeholder(TInt32.class, Placeholder.shape(Shape.of(n)));
      loads.add(d.withName("load_labels").assign(allLabels, labelsFeed));
    } else {
      labelsFeed = null;
    }
    load = d.withControlDependencies(loads).withName("load_data").noOp();
    Ops r = tf.withSubScope("sample");
    if (batch == n) {
      x0 = r.identity(images);
      labels = allLabels;
    } else {
      Operand<TInt32> picked = RandomDraws.batchIndices(r, config.seed(), step, n, batch);
      x0 = r.gather(images, picked, r.constant(0));
      labels = allLabels == null ? null : r.gather(allLabels, picked, r.constant(0));
    }
  }

  /**
   * What must run before the step counter moves: the next step's indices read the counter, and a read of a variable
   * may alias its buffer, which the increment then changes in place.
   */
  List<Op> readsOfTheStep() {
    return indicesNext == null ? List.of() : List.of(indicesNext);
  }

  Path path() {
    return path;
  }

  /** This step's images [batch, H, W, C]. */
  Operand<TFloat32> x0() {
    return x0;
  }

  /** This step's labels [batch] before any is dropped; null for an unconditional model. */
  Operand<TInt32> labels() {
    return labels;
  }

  /** Copies the training set into the graph (resident), or keeps it for the steps to feed from (streamed). */
  void load(Session session, Images train) {
    pending = null;
    if (path == Path.STREAMED) {
      host = train;
      return;
    }
    Shape shape = Shape.of(train.count(), train.height(), train.width(), train.channels());
    try (TFloat32 t = TFloat32.tensorOf(shape, DataBuffers.of(train.pixels(), true, false));
         TInt32 y = labelsFeed == null ? null : TInt32.vectorOf(train.labels())) {
      Session.Runner runner = session.runner().feed(imagesFeed, t).addTarget(load);
      if (y != null) {
        runner.feed(labelsFeed, y);
      }
      runner.run().close();
    }
  }

  /** After a restore or a re-initialisation the global step may have moved: the next batch is asked for again. */
  void forgetPending() {
    pending = null;
  }

  /** The tensors one run feeds; closing frees them. */
  static final class Feed implements AutoCloseable {
    private final List<Tensor> tensors = new ArrayList<>();
    private int nextIndices = -1;

    @Override
    public void close() {
      tensors.forEach(Tensor::close);
    }
  }

  /**
   * Feeds the current step's batch to {@code runner} (streamed; nothing when resident) and, for a run that takes the
   * step, also fetches the next step's indices as its fetch number {@code nextAt} (-1 for a run that does not take
   * the step), which {@link #advanced} then keeps.
   */
  Feed feed(Session session, Session.Runner runner, int nextAt) {
    Feed feed = new Feed();
    if (path == Path.RESIDENT) {
      return feed;
    }
    if (pending == null) {
      try (Result r = session.runner().fetch(indicesNow).run()) {
        pending = ints((TInt32) r.get(0));
      }
    }
    float[] pixels = new float[batch * host.pixelsPerImage()];
    int[] y = new int[batch];
    int per = host.pixelsPerImage();
    for (int k = 0; k < batch; k++) {
      System.arraycopy(host.pixels(), pending[k] * per, pixels, k * per, per);
      y[k] = host.labels()[pending[k]];
    }
    TFloat32 images = TFloat32.tensorOf(batchShape, DataBuffers.of(pixels, true, false));
    feed.tensors.add(images);
    runner.feed(x0, images);
    if (labels != null) {
      TInt32 t = TInt32.vectorOf(y);
      feed.tensors.add(t);
      runner.feed(labels, t);
    }
    if (nextAt >= 0) {
      feed.nextIndices = nextAt;
      runner.fetch(indicesNext);
    }
    return feed;
  }

  /** After a successful advancing run: the next step's batch is the one the run named. */
  void advanced(Feed feed, Result r) {
    if (feed.nextIndices >= 0) {
      pending = ints((TInt32) r.get(feed.nextIndices));
    }
  }

  private static int[] ints(TInt32 t) {
    int[] out = new int[(int) t.size()];
    t.copyTo(DataBuffers.of(out, false, false));
    return out;
  }
}
