package dev.tfdiffusion.train;

import dev.tfdiffusion.diffusion.GaussianDiffusion;
import dev.tfdiffusion.model.Layers;
import dev.tfdiffusion.model.UNet;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Gradients;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TFloating;

/**
 * The tutorial's {@code loss_fn}: an SNR-weighted noise-prediction error plus a penalty on the input gradient of the
 * mean prediction, both from the same forward pass.
 *
 * <pre>
 *   x_t     = sqrt(abar_t) x_0 + sqrt(1 - abar_t) noise
 *   snr     = sqrt(abar_t) / sqrt(1 - abar_t)          (the tutorial's "snr": the square root of the usual one)
 *   main    = mean(snr / (1 + snr) * (noise - eps_hat)^2)
 *   penalty = weight * mean((d mean(eps_hat) / d x_t)^2)
 * </pre>
 */
public final class DiffusionLoss {
  private DiffusionLoss() {}

  /** The two loss terms, their sum, and the network's input x_t and prediction eps_hat = model(x_t, t). */
  public record Terms<T extends TFloating>(Operand<T> main, Operand<T> penalty, Operand<T> total, Operand<T> noisy,
                                           Operand<T> prediction) {}

  /** @param labels the batch's class labels for a conditional model (null for an unconditional one) */
  public static <T extends TFloating> Terms<T> build(Layers<T> l, UNet net, GaussianDiffusion diffusion,
                                                     Operand<T> x0, Operand<TInt32> t, Operand<T> noise,
                                                     Operand<TInt32> labels, double penaltyWeight) {
    Ops tf = l.tf().withSubScope("loss");
    Operand<T> noisy = diffusion.qSample(tf, x0, t, noise);
    Operand<T> predicted = net.apply(l, noisy, t, labels);
    Operand<T> weights = diffusion.lossWeight(tf, t, x0.type());
    Operand<T> main = mean(tf, tf.math.mul(weights, tf.math.square(tf.math.sub(noise, predicted))));

    // d mean(eps_hat) / d x_t, seeded with the constant 1/numel instead of differentiating a Mean (and without the
    // OnesLike TF would insert, which has no gradient of its own).
    Shape shape = predicted.shape();
    if (shape.hasUnknownDimension()) {
      throw new IllegalArgumentException("the training batch needs a static shape, got " + shape);
    }
    Operand<T> seed = tf.fill(tf.constant(shape.asArray()), l.constant(1.0 / shape.size()));
    Gradients inputGradient = tf.gradients(predicted, List.of(noisy), Gradients.dx(List.of(seed)));
    Operand<T> grad = inputGradient.dy(0);
    Operand<T> penalty = tf.math.mul(l.constant(penaltyWeight), mean(tf, tf.math.square(grad)));

    return new Terms<>(main, penalty, tf.math.add(main, penalty), noisy, predicted);
  }

  /** Mean over all axes of a rank-4 tensor. */
  static <T extends TFloating> Operand<T> mean(Ops tf, Operand<T> x) {
    return tf.math.mean(x, tf.constant(new int[] {0, 1, 2, 3}));
  }

  /**
   * d y / d params for a scalar {@code y}, seeded explicitly (see above). Entries are null for parameters y does not
   * depend on.
   */
  public static <T extends TFloating> List<Operand<T>> gradients(Layers<T> l, Operand<T> y, List<Operand<T>> params) {
    Gradients g = l.tf().gradients(y, params, Gradients.dx(List.of(l.constant(1.0))));
    java.util.ArrayList<Operand<T>> out = new java.util.ArrayList<>();
    for (int i = 0; i < params.size(); i++) {
      out.add(g.dy(i));
    }
    return out;
  }
}
