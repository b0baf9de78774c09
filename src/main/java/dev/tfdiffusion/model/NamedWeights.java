package dev.tfdiffusion.model;

import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.types.family.TFloating;

/**
 * Weights looked up by name, e.g. the arguments of a function body (which cannot capture graph variables), and
 * optionally tensors derived from them, computed elsewhere.
 */
public final class NamedWeights<T extends TFloating> implements WeightSource<T> {
  private final Map<String, Operand<T>> weights;
  private final Map<String, Operand<T>> derived;

  public NamedWeights(Map<String, Operand<T>> weights) {
    this(weights, Map.of());
  }

  /** @param derived {@link #derived} tensors by the name of the weight they are derived from */
  public NamedWeights(Map<String, Operand<T>> weights, Map<String, Operand<T>> derived) {
    this.weights = weights;
    this.derived = derived;
  }

  @Override
  public Operand<T> derived(Ops tf, String name, Operand<T> weight, Derivation<T> derive) {
    Operand<T> d = derived.get(name);
    return d != null ? d : derive.apply(tf, weight);
  }

  @Override
  public Operand<T> weight(String name, Shape shape, Init init) {
    Operand<T> w = weights.get(name);
    if (w == null) {
      throw new IllegalStateException("no weight named " + name);
    }
    if (!w.shape().equals(shape)) {
      throw new IllegalStateException("weight " + name + " has shape " + w.shape() + ", expected " + shape);
    }
    return w;
  }
}
