package dev.tfdiffusion.diffusion;

import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * Classifier-free guidance (Ho and Salimans 2022) for a conditional model: the noise prediction becomes
 *
 * <pre>
 *   eps = eps(x, t, none) + w (eps(x, t, c) - eps(x, t, none))
 * </pre>
 *
 * with both predictions from one network call on the batch doubled. w = 0 is the unconditional model, w = 1 the
 * conditional one, larger w trades variety for likeness to the class.
 *
 * @param labels the class asked for per image [N] (the label {@code noClass} asks for none)
 * @param weight w, a float32 scalar
 * @param noClass the label the model was trained to read as "no class"
 */
public record Guidance(Operand<TInt32> labels, Operand<TFloat32> weight, int noClass) {

  /** The batch the network sees: the images twice, first with their labels, then with "no class". */
  record Doubled(Operand<TFloat32> x, Operand<TInt32> labels) {}

  static Doubled doubled(Ops f, Operand<TFloat32> x, Operand<TInt32> labels, int noClass) {
    Operand<TInt32> axis = f.constant(0);
    Operand<TInt32> none = f.fill(f.shape(labels), f.constant(noClass));
    return new Doubled(f.concat(List.of(x, x), axis), f.concat(List.of(labels, none), axis));
  }

  /** eps_u + w (eps_c - eps_u) from the doubled batch's prediction [eps_c; eps_u]. */
  static Operand<TFloat32> combine(Ops f, Operand<TFloat32> both, Operand<TFloat32> w) {
    List<Operand<TFloat32>> halves = f.split(f.constant(0), both, 2L).output().stream()
        .map(o -> (Operand<TFloat32>) o).toList();
    Operand<TFloat32> conditional = halves.get(0);
    Operand<TFloat32> unconditional = halves.get(1);
    return f.math.add(unconditional, f.math.mul(w, f.math.sub(conditional, unconditional)));
  }
}
