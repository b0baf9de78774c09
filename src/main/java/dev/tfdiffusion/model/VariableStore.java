package dev.tfdiffusion.model;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.family.TFloating;

/**
 * Creates one graph variable per weight the network asks for, initialised in the graph by its {@link WeightInit}
 * (random ones from a stateless op seeded by the run seed and the weight's name, so a weight's start value does not
 * depend on build order).
 */
public final class VariableStore<T extends TFloating> implements WeightSource<T> {

  /** A trainable weight: its variable, and the read of it that the forward pass uses. */
  public record Param<T extends TFloating>(String name, Shape shape, Init init, Variable<T> variable,
                                           Operand<T> read, Operand<T> initial) {
    /**
     * Whether the tutorial's optimizer trains it: the blocks it builds in closures are invisible to Flax NNX. The
     * class embedding, which the tutorial does not have, is a direct attribute like the time MLP, so it counts.
     */
    public boolean trainedByTheTutorial() {
      String b = block();
      return b.startsWith("time_mlp") || b.startsWith("time_proj") || b.equals("final_norm")
          || b.equals("final_conv") || b.equals(UNet.CLASS_EMBEDDING);
    }

    /** The top-level block the weight belongs to, e.g. {@code down_conv1}. */
    public String block() {
      int slash = name.indexOf('/');
      return slash < 0 ? name : name.substring(0, slash);
    }

    public long size() {
      return shape.size();
    }
  }

  private final Ops tf;
  private final Class<T> type;
  private final long seed;
  private final Map<String, Param<T>> params = new LinkedHashMap<>();
  private final Map<String, Ops> scopes = new java.util.HashMap<>();
  private final boolean initialise;

  /** Variables initialised as Flax does, from {@code seed}. */
  public VariableStore(Ops tf, Class<T> type, long seed) {
    this(tf, type, seed, true);
  }

  private VariableStore(Ops tf, Class<T> type, long seed, boolean initialise) {
    this.tf = tf;
    this.type = type;
    this.seed = seed;
    this.initialise = initialise;
  }

  /** Variables without initialisers, for graphs that restore every weight from a checkpoint. */
  public static <T extends TFloating> VariableStore<T> restoredOnly(Ops tf, Class<T> type) {
    return new VariableStore<>(tf, type, 0, false);
  }

  @Override
  public Operand<T> weight(String name, Shape shape, Init init) {
    Param<T> existing = params.get(name);
    if (existing != null) {
      if (!existing.shape().equals(shape)) {
        throw new IllegalStateException("weight " + name + " asked for as " + shape + " and " + existing.shape());
      }
      return existing.read();
    }
    Ops scoped = scopeOf(name);
    String leaf = name.substring(name.lastIndexOf('/') + 1);
    Operand<T> initial = initialise ? initialValue(name, shape, init) : null;
    Variable<T> variable = initialise
        ? scoped.withName(leaf).variable(initial)
        : scoped.withName(leaf).variable(shape, type);
    Operand<T> read = scoped.withName(leaf + "_read").identity(variable);
    params.put(name, new Param<>(name, shape, init, variable, read, initial));
    return read;
  }

  private Operand<T> initialValue(String name, Shape shape, Init init) {
    Ops i = scopeOf(name).withInitScope();
    return WeightInit.<T>of(init, shape, seed, name).call(i, i.constant(shape), type);
  }

  /**
   * Ops whose names nest under the weight's path ({@code a/b/kernel} -> scope {@code a/b}). Cached: each new TF Java
   * sub-scope scans every op of the graph.
   */
  private Ops scopeOf(String name) {
    int slash = name.lastIndexOf('/');
    if (slash < 0) {
      return tf;
    }
    String path = name.substring(0, slash);
    Ops cached = scopes.get(path);
    if (cached == null) {
      cached = scopeOf(path).withSubScope(path.substring(path.lastIndexOf('/') + 1));
      scopes.put(path, cached);
    }
    return cached;
  }

  public List<Param<T>> params() {
    return Collections.unmodifiableList(new ArrayList<>(params.values()));
  }

  public long parameterCount() {
    return params.values().stream().mapToLong(Param::size).sum();
  }
}
