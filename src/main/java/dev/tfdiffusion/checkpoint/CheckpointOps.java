package dev.tfdiffusion.checkpoint;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.op.train.Restore;
import org.tensorflow.types.TString;
import org.tensorflow.types.family.TType;

/**
 * SaveV2/RestoreV2 ops for named variables, built with the rest of a graph (before its first run): TensorFlow's own
 * checkpoint format ({@code <prefix>.index}, {@code <prefix>.data-*}), under names chosen here rather than op names.
 */
public final class CheckpointOps {
  private final Placeholder<TString> prefix;
  private final Op save;
  private final Op restore;

  /**
   * @param variables checkpoint name -> variable; the same variable may appear under several names
   * @param withSave also build the save op (restore-only graphs skip it)
   */
  public CheckpointOps(Ops tf, Map<String, Variable<? extends TType>> variables, boolean withSave) {
    Ops c = tf.withSubScope("checkpoint");
    prefix = c.withName("prefix").placeholder(TString.class, Placeholder.shape(Shape.scalar()));
    Operand<TString> names = c.array(variables.keySet().toArray(new String[0]));
    String[] empty = new String[variables.size()];
    Arrays.fill(empty, "");
    Operand<TString> slices = c.array(empty);
    save = withSave ? c.withName("save").train.save(prefix, names, slices, new ArrayList<>(variables.values()))
        : null;
    List<Class<? extends TType>> types = new ArrayList<>();
    variables.values().forEach(v -> types.add(v.type()));
    Restore restored = c.train.restore(prefix, names, slices, types);
    List<Op> assigns = new ArrayList<>();
    int k = 0;
    for (Variable<? extends TType> v : variables.values()) {
      assigns.add(assign(c, v, restored.tensors().get(k++)));
    }
    restore = c.withControlDependencies(assigns).withName("restore").noOp();
  }

  @SuppressWarnings("unchecked")
  private static <T extends TType> Op assign(Ops tf, Variable<T> variable, Output<?> value) {
    return tf.assign(variable, (Operand<T>) value);
  }

  /** Writes every variable to {@code path}.index/.data-*. */
  public void save(Session session, String path) {
    try (TString p = TString.scalarOf(path)) {
      session.runner().feed(prefix, p).addTarget(save).run().close();
    }
  }

  /** Reads every variable back from {@code path}. */
  public void restore(Session session, String path) {
    try (TString p = TString.scalarOf(path)) {
      session.runner().feed(prefix, p).addTarget(restore).run().close();
    }
  }
}
