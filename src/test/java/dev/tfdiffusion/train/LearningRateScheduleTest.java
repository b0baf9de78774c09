package dev.tfdiffusion.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tfdiffusion.Golden;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat64;

/** The in-graph schedule against the tutorial's optax schedule (shared/reference/learning_rate.csv). */
class LearningRateScheduleTest {

  @Test
  void graphScheduleMatchesOptax() {
    List<Map<String, String>> golden = Golden.table("learning_rate.csv");
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat64> step = tf.placeholder(TFloat64.class, Placeholder.shape(Shape.scalar()));
      Operand<TFloat64> lr = new LearningRateSchedule(1e-4, 1000, 5000, 0.01).build(tf, step);
      try (Session s = new Session(g)) {
        for (Map<String, String> row : golden) {
          double expected = Double.parseDouble(row.get("learning_rate"));
          try (TFloat64 st = TFloat64.scalarOf(Double.parseDouble(row.get("step")));
               Result r = s.runner().feed(step, st).fetch(lr).run()) {
            double actual = ((TFloat64) r.get(0)).getDouble();
            assertEquals(expected, actual, 1e-12 * expected + 1e-20, "lr at step " + row.get("step"));
          }
        }
      }
    }
    assertEquals(true, golden.size() > 100);
  }
}
