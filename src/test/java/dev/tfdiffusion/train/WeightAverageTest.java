package dev.tfdiffusion.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tfdiffusion.model.Init;
import dev.tfdiffusion.model.VariableStore;
import dev.tfdiffusion.model.VariableStore.Param;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;

/** The weights' moving average against a hand-computed example. */
class WeightAverageTest {

  @Test
  void warmedUpAverageOfAKnownSequence() {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      VariableStore<TFloat32> store = new VariableStore<>(tf, TFloat32.class, 1);
      store.weight("w", Shape.of(1), Init.ONES);
      List<Param<TFloat32>> params = store.params();
      WeightAverage ema = new WeightAverage(tf, params, 0.5);
      Placeholder<TFloat32> next = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(1)));
      Placeholder<TFloat64> step = tf.placeholder(TFloat64.class, Placeholder.shape(Shape.scalar()));
      Op set = tf.assign(params.get(0).variable(), next);
      List<Op> update = ema.apply(tf, params, new ArrayList<>(List.of(set)), step);
      try (Session s = new Session(g)) {
        s.initialize();
        // weights after steps 0, 1, 2, 3: 3, 5, 5, 9; the average starts at the initial weight 1
        // d_0 = min(0.5, 1/10) = 0.1:   ema = 0.1 * 1   + 0.9 * 3 = 2.8
        // d_1 = min(0.5, 2/11) = 2/11:  ema = 2/11 * 2.8 + 9/11 * 5 = 4.6
        // d_2 = min(0.5, 3/12) = 0.25:  ema = 0.25 * 4.6 + 0.75 * 5 = 4.9
        // d_3 = min(0.5, 4/13) = 4/13:  ema = 4/13 * 4.9 + 9/13 * 9 = 7.738461...
        float[] weights = {3, 5, 5, 9};
        double[] expected = {2.8, 4.6, 4.9, (4.0 / 13) * 4.9 + (9.0 / 13) * 9};
        for (int k = 0; k < weights.length; k++) {
          try (TFloat32 w = TFloat32.vectorOf(weights[k]); TFloat64 st = TFloat64.scalarOf(k)) {
            Session.Runner r = s.runner().feed(next, w).feed(step, st);
            update.forEach(r::addTarget);
            r.run().close();
          }
          try (Result r = s.runner().fetch(ema.averages().get(0)).run()) {
            assertEquals(expected[k], ((TFloat32) r.get(0)).getFloat(0), 1e-5, "after step " + k);
          }
          assertEquals(k == 0 ? 0.1 : k == 1 ? 2.0 / 11 : k == 2 ? 0.25 : 4.0 / 13, WeightAverage.decayAt(0.5, k),
              1e-12);
        }
      }
    }
  }
}
