package dev.tfdiffusion.model;

import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/**
 * Where the network's weights come from: variables when training, function arguments inside an in-graph sampler
 * loop. The network code asks for each weight by name, so the forward pass is the single description of the model.
 */
public interface WeightSource<T extends TFloating> {
  Operand<T> weight(String name, Shape shape, Init init);

  /**
   * {@code derive(tf, weight)}, a tensor computed from the weight {@code name} alone (such as a kernel laid out for a
   * matrix product). By default it is built where the network asks for it; a source that evaluates the network many
   * times over the same weights (a sampler loop) supplies it computed once instead. At most one per weight.
   */
  default Operand<T> derived(Ops tf, String name, Operand<T> weight, Derivation<T> derive) {
    return derive.apply(tf, weight);
  }

  /** A function of one weight alone; it builds only through the {@code tf} it is given (it may run in another graph). */
  @FunctionalInterface
  interface Derivation<T extends TFloating> {
    Operand<T> apply(Ops tf, Operand<T> weight);
  }
}
