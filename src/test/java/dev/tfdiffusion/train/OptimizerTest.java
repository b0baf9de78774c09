package dev.tfdiffusion.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.tfdiffusion.model.Init;
import dev.tfdiffusion.model.VariableStore;
import dev.tfdiffusion.model.VariableStore.Param;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;

/** Clipping and AdamW against optax's formulas evaluated by hand in float64. */
class OptimizerTest {

  @Test
  void clipsElementwiseThenByGlobalNorm() {
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      List<Operand<TFloat32>> grads = List.of(tf.constant(new float[] {0.5f, -0.1f}), tf.constant(new float[] {0.2f}));
      List<Operand<TFloat32>> clipped = GradientClipping.byValue(tf, grads, 0.3);
      Operand<TFloat32> norm = GradientClipping.globalNorm(tf, clipped);
      List<Operand<TFloat32>> out = GradientClipping.byGlobalNorm(tf, clipped, norm, 0.25);
      try (Result r = s.runner().fetch(norm).fetch(out.get(0)).fetch(out.get(1)).run()) {
        double n = Math.sqrt(0.3 * 0.3 + 0.1 * 0.1 + 0.2 * 0.2);
        assertEquals(n, ((TFloat32) r.get(0)).getFloat(), 1e-6);
        assertEquals(0.3 * 0.25 / n, ((TFloat32) r.get(1)).getFloat(0), 1e-6);
        assertEquals(-0.1 * 0.25 / n, ((TFloat32) r.get(1)).getFloat(1), 1e-6);
        assertEquals(0.2 * 0.25 / n, ((TFloat32) r.get(2)).getFloat(0), 1e-6);
      }
      // under the limit nothing changes
      Operand<TFloat32> small = GradientClipping.byGlobalNorm(tf, grads, tf.constant(0.1f), 0.25).get(1);
      try (Result r = s.runner().fetch(small).run()) {
        assertEquals(0.2f, ((TFloat32) r.get(0)).getFloat(0));
      }
    }
  }

  @Test
  void adamwMatchesOptaxOverSeveralSteps() {
    double lr = 0.01;
    double b1 = 0.9;
    double b2 = 0.999;
    double eps = 1e-8;
    double wd = 0.05;
    double[][] gradients = {{0.3, -0.2, 1e-9}, {-0.1, 0.25, 0.0}, {0.05, 0.05, -0.3}};
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      VariableStore<TFloat32> store = new VariableStore<>(tf, TFloat32.class, 1);
      store.weight("w", Shape.of(3), Init.ONES);
      List<Param<TFloat32>> params = store.params();
      AdamW adamw = new AdamW(tf, params, b1, b2, eps, wd);
      Placeholder<TFloat32> grad = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(3)));
      Placeholder<TFloat64> step = tf.placeholder(TFloat64.class, Placeholder.shape(Shape.scalar()));
      List<Op> updates = adamw.apply(tf, params, List.of(grad), tf.constant((float) lr), step, new ArrayList<>());
      try (Session s = new Session(g)) {
        s.initialize();
        double[] p = {1, 1, 1};
        double[] m = new double[3];
        double[] v = new double[3];
        for (int k = 0; k < gradients.length; k++) {
          try (TFloat32 gt = TFloat32.vectorOf(toFloats(gradients[k])); TFloat64 st = TFloat64.scalarOf(k)) {
            Session.Runner r = s.runner().feed(grad, gt).feed(step, st);
            updates.forEach(r::addTarget);
            r.run().close();
          }
          // optax: scale_by_adam, add_decayed_weights, scale_by_learning_rate (count k + 1 after the increment)
          for (int i = 0; i < 3; i++) {
            double gi = gradients[k][i];
            m[i] = b1 * m[i] + (1 - b1) * gi;
            v[i] = b2 * v[i] + (1 - b2) * gi * gi;
            double mHat = m[i] / (1 - Math.pow(b1, k + 1));
            double vHat = v[i] / (1 - Math.pow(b2, k + 1));
            p[i] -= lr * (mHat / (Math.sqrt(vHat) + eps) + wd * p[i]);
          }
          try (Result r = s.runner().fetch(params.get(0).variable()).run()) {
            TFloat32 actual = (TFloat32) r.get(0);
            for (int i = 0; i < 3; i++) {
              assertEquals(p[i], actual.getFloat(i), 2e-6, "step " + k + " element " + i);
            }
          }
        }
      }
    }
  }

  private static float[] toFloats(double[] d) {
    float[] f = new float[d.length];
    for (int i = 0; i < d.length; i++) {
      f[i] = (float) d[i];
    }
    return f;
  }
}
