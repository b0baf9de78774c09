package dev.tfdiffusion.model;

import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.types.family.TFloating;

/**
 * Where the network's weights come from: variables when training, function arguments inside an in-graph sampler
 * loop. The network code asks for each weight by name, so the forward pass is the single description of the model.
 */
public interface WeightSource<T extends TFloating> {
  Operand<T> weight(String name, Shape shape, Init init);
}
