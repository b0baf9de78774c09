package dev.tfdiffusion.train;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.summary.SummaryWriter;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.TString;
import org.tensorflow.types.TUint8;

/**
 * TensorBoard from the graph's own summary ops: a file writer resource, scalar summaries that run inside each training
 * step, an image summary of a sample grid (run every {@code --sample-every} steps) and the graph itself (run once).
 * The files land in {@code <run>/tensorboard/} ({@code tensorboard --logdir graphs/}).
 */
final class Summaries {
  private final Operand<?> writer;
  private final Placeholder<TString> logdir;
  private final Op open;
  private final Op flush;
  private final Op close;
  private final Placeholder<TString> graphDef;
  private final Op writeGraph;
  private Op writeImages;

  Summaries(Ops tf) {
    Ops s = tf.withSubScope("summaries");
    writer = s.summary.summaryWriter(SummaryWriter.sharedName("tf_diffusion"));
    logdir = s.withName("logdir").placeholder(TString.class, Placeholder.shape(Shape.scalar()));
    open = s.summary.createSummaryFileWriter(writer, logdir, s.constant(100), s.constant(30_000),
        s.constant(".v2"));
    flush = s.summary.flushSummaryWriter(writer);
    close = s.summary.closeSummaryWriter(writer);
    graphDef = s.withName("graph_def").placeholder(TString.class, Placeholder.shape(Shape.scalar()));
    writeGraph = s.summary.writeGraphSummary(writer, s.constant(0L), graphDef);
  }

  /** Scalar summaries at {@code step}, to run with the training step. */
  List<Op> scalars(Ops tf, Operand<TInt64> step, Map<String, Operand<TFloat32>> values) {
    Ops s = tf.withSubScope("summaries");
    List<Op> ops = new ArrayList<>();
    values.forEach((tag, value) -> ops.add(s.summary.writeScalarSummary(writer, step, s.constant(tag), value)));
    return ops;
  }

  /** An image summary of {@code images} [n*n, H, W, C] tiled into one n x n grid, values clipped to [0, 1]. */
  void images(Ops tf, Operand<TInt64> step, Operand<TFloat32> images, int n, long height, long width, int channels) {
    Ops s = tf.withSubScope("summaries");
    Operand<TFloat32> tiles = s.reshape(s.clipByValue(images, s.constant(0f), s.constant(1f)),
        s.constant(new long[] {n, n, height, width, channels}));
    Operand<TFloat32> grid = s.reshape(s.linalg.transpose(tiles, s.constant(new int[] {0, 2, 1, 3, 4})),
        s.constant(new long[] {1, n * height, n * width, channels}));
    byte[] white = new byte[channels];
    java.util.Arrays.fill(white, (byte) 255);
    Operand<TUint8> badColor = s.constant(TUint8.class, Shape.of(channels),
        org.tensorflow.ndarray.buffer.DataBuffers.of(white));
    writeImages = s.summary.writeImageSummary(writer, step, s.constant("samples"), grid, badColor);
  }

  /** Opens a new event file in {@code dir}. */
  void open(Session session, String dir) {
    try (TString d = TString.scalarOf(dir)) {
      session.runner().feed(logdir, d).addTarget(open).run().close();
    }
  }

  /** Writes a serialized GraphDef (TensorBoard's graph view). */
  void writeGraph(Session session, byte[] graph) {
    try (TString g = TString.tensorOfBytes(org.tensorflow.ndarray.NdArrays.scalarOfObject(graph))) {
      session.runner().feed(graphDef, g).addTarget(writeGraph).run().close();
    }
  }

  void writeImages(Session session) {
    if (writeImages != null) {
      session.runner().addTarget(writeImages).run().close();
    }
  }

  void flush(Session session) {
    session.runner().addTarget(flush).run().close();
  }

  void close(Session session) {
    session.runner().addTarget(close).run().close();
  }
}
