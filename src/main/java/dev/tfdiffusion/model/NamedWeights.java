package dev.tfdiffusion.model;

import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.types.family.TFloating;

/** Weights looked up by name, e.g. the arguments of a function body (which cannot capture graph variables). */
public final class NamedWeights<T extends TFloating> implements WeightSource<T> {
  private final Map<String, Operand<T>> weights;

  public NamedWeights(Map<String, Operand<T>> weights) {
    this.weights = weights;
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
