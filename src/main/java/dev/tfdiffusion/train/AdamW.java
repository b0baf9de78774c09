package dev.tfdiffusion.train;

import dev.tfdiffusion.model.VariableStore.Param;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;

/**
 * {@code optax.adamw} as plain graph ops (tensorflow-framework has no AdamW and takes no tensor learning rate):
 *
 * <pre>
 *   m = b1 m + (1 - b1) g;   v = b2 v + (1 - b2) g^2;   k = step + 1
 *   p = p - lr (m / (1 - b1^k) / (sqrt(v / (1 - b2^k)) + eps) + wd p)
 * </pre>
 *
 * with optax's epsilon placement and decoupled weight decay on every parameter.
 */
final class AdamW {
  private final double beta1;
  private final double beta2;
  private final double epsilon;
  private final double weightDecay;

  /** The optimizer state of one parameter, for checkpoints. */
  record Slots(Variable<TFloat32> m, Variable<TFloat32> v) {}

  private final List<Slots> slots = new ArrayList<>();

  /**
   * Creates the m and v slots of {@code params}. Call this before the gradients are built: TF Java's name scopes scan
   * the whole graph on each new sub-scope, which is slow once the second-order graph exists.
   */
  AdamW(Ops tf, List<Param<TFloat32>> params, double beta1, double beta2, double epsilon, double weightDecay) {
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.epsilon = epsilon;
    this.weightDecay = weightDecay;
    // one flat scope, optimizer/<param.path>.m: a sub-scope per parameter would rescan the graph each time
    Ops optimizer = tf.withSubScope("optimizer");
    Ops init = optimizer.withInitScope();
    for (Param<TFloat32> p : params) {
      String flat = p.name().replace('/', '.');
      Operand<TFloat32> zeros = init.fill(init.constant(p.shape()), init.constant(0f));
      slots.add(new Slots(optimizer.withName(flat + ".m").variable(zeros),
          optimizer.withName(flat + ".v").variable(zeros)));
    }
  }

  List<Slots> slots() {
    return slots;
  }

  /** The update ops of one step; {@code step} is the number of updates done before this one. */
  List<Op> apply(Ops tf, List<Param<TFloat32>> params, List<Operand<TFloat32>> grads, Operand<TFloat32> lr,
                 Operand<TFloat64> step) {
    Ops s = tf.withSubScope("adamw");
    Operand<TFloat64> k = s.math.add(step, s.constant(1.0));
    Operand<TFloat32> correction1 = s.dtypes.cast(
        s.math.sub(s.constant(1.0), s.math.pow(s.constant(beta1), k)), TFloat32.class);
    Operand<TFloat32> correction2 = s.dtypes.cast(
        s.math.sub(s.constant(1.0), s.math.pow(s.constant(beta2), k)), TFloat32.class);
    Operand<TFloat32> b1 = s.constant((float) beta1);
    Operand<TFloat32> b2 = s.constant((float) beta2);
    Operand<TFloat32> oneMinusB1 = s.constant((float) (1 - beta1));
    Operand<TFloat32> oneMinusB2 = s.constant((float) (1 - beta2));
    Operand<TFloat32> eps = s.constant((float) epsilon);
    Operand<TFloat32> wd = s.constant((float) weightDecay);

    List<Op> updates = new ArrayList<>();
    for (int i = 0; i < params.size(); i++) {
      Param<TFloat32> p = params.get(i);
      Operand<TFloat32> g = grads.get(i);
      Variable<TFloat32> m = slots.get(i).m();
      Variable<TFloat32> v = slots.get(i).v();

      Operand<TFloat32> mNew = s.math.add(s.math.mul(b1, m), s.math.mul(oneMinusB1, g));
      Operand<TFloat32> vNew = s.math.add(s.math.mul(b2, v), s.math.mul(oneMinusB2, s.math.square(g)));
      Operand<TFloat32> mHat = s.math.div(mNew, correction1);
      Operand<TFloat32> vHat = s.math.div(vNew, correction2);
      Operand<TFloat32> direction = s.math.add(s.math.div(mHat, s.math.add(s.math.sqrt(vHat), eps)),
          s.math.mul(wd, p.read()));
      Operand<TFloat32> pNew = s.math.sub(p.read(), s.math.mul(lr, direction));
      updates.add(s.assign(m, mNew));
      updates.add(s.assign(v, vNew));
      updates.add(s.assign(p.variable(), pNew));
    }
    return updates;
  }
}
