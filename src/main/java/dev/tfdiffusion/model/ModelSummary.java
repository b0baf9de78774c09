package dev.tfdiffusion.model;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * A Keras-style table of the U-Net: each top-level block with its output shape and the parameter count of its
 * variables, read back from a freshly built graph (the VariableV2 ops' shapes), so it counts what training trains.
 */
public final class ModelSummary {
  /** One table row. */
  public record Row(String block, String outputShape, long parameters) {}

  /**
   * A training step with the gradient penalty costs about six forward passes of multiply-adds: the forward pass, the
   * input gradient (one more), and the gradient of both with respect to the weights (two each).
   */
  public static final int TRAIN_STEP_FORWARD_PASSES = 6;

  private final List<Row> rows;
  private final long total;
  private final UNet net;
  private final long multiplyAdds;

  private ModelSummary(UNet net, List<Row> rows, long total, long multiplyAdds) {
    this.net = net;
    this.rows = rows;
    this.total = total;
    this.multiplyAdds = multiplyAdds;
  }

  /** Useful floating-point operations (2 per multiply-add) of one forward pass of one image. */
  public long forwardFlopsPerImage() {
    return 2 * multiplyAdds;
  }

  /** Useful FLOPs of one training step on {@code batch} images (see {@link #TRAIN_STEP_FORWARD_PASSES}). */
  public double trainStepFlops(int batch) {
    return (double) TRAIN_STEP_FORWARD_PASSES * forwardFlopsPerImage() * batch;
  }

  public static ModelSummary of(int features, int timeEmbedding, int height, int width) {
    return of(UNet.forImages(features, timeEmbedding, height, width));
  }

  /** The blocks of {@code net}: a conditional model's class embedding is a row of its own. */
  public static ModelSummary of(UNet net) {
    int height = net.height();
    int width = net.width();
    Map<String, String> shapes = new LinkedHashMap<>();
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      VariableStore<TFloat32> store = new VariableStore<>(tf.withSubScope("model"), TFloat32.class, 0);
      Layers<TFloat32> l = new Layers<>(tf.withSubScope("model"), TFloat32.class, store)
          .tracing((block, shape) -> shapes.put(block, format(shape)));
      net.apply(l, tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, height, width, net.channels()))),
          tf.placeholder(TInt32.class, Placeholder.shape(Shape.of(-1))),
          tf.placeholder(TInt32.class, Placeholder.shape(Shape.of(-1))));

      Map<String, Long> counts = new LinkedHashMap<>();
      long total = 0;
      for (Iterator<GraphOperation> it = g.operations(); it.hasNext(); ) {
        GraphOperation op = it.next();
        if (!op.type().equals("VariableV2")) {
          continue;
        }
        long size = op.output(0).shape().size();
        String path = op.name().substring("model/".length());
        counts.merge(path.substring(0, path.indexOf('/')), size, Long::sum);
        total += size;
      }
      List<Row> rows = new ArrayList<>();
      for (Map.Entry<String, String> e : shapes.entrySet()) {
        rows.add(new Row(e.getKey(), e.getValue(), counts.getOrDefault(e.getKey(), 0L)));
      }
      return new ModelSummary(net, rows, total, l.multiplyAdds());
    }
  }

  private static String format(Shape s) {
    StringBuilder b = new StringBuilder("(");
    for (int i = 0; i < s.numDimensions(); i++) {
      b.append(i > 0 ? ", " : "").append(s.get(i) < 0 ? "None" : String.valueOf(s.get(i)));
    }
    return b.append(")").toString();
  }

  public List<Row> rows() {
    return rows;
  }

  public long totalParameters() {
    return total;
  }

  public String table() {
    StringBuilder b = new StringBuilder();
    b.append(String.format("U-Net, features %d, time embedding %d, input (None, %d, %d, %d)%s%n", net.features(),
        net.timeEmbedding(), net.height(), net.width(), net.channels(),
        net.conditional() ? ", " + net.classes() + " classes (+ 1 for no class)" : ""));
    String line = "-".repeat(64) + "\n";
    b.append(line).append(String.format("%-22s %-24s %16s%n", "Block", "Output shape", "Parameters")).append(line);
    for (Row r : rows) {
      b.append(String.format("%-22s %-24s %,16d%n", r.block(), r.outputShape(), r.parameters()));
    }
    b.append(line).append(String.format("Total parameters: %,d%n", total));
    b.append(String.format("Forward FLOPs per image: %,d (useful multiply-adds x 2, padding excluded)%n",
        forwardFlopsPerImage()));
    b.append(String.format("Training step FLOPs at batch 172: %.2f G (%d forward passes: forward, input gradient, "
        + "and their weight gradients)%n", trainStepFlops(172) / 1e9, TRAIN_STEP_FORWARD_PASSES));
    return b.toString();
  }
}
