package dev.tfdiffusion.train;

import dev.tfdiffusion.diffusion.GaussianDiffusion;
import dev.tfdiffusion.model.Layers;
import dev.tfdiffusion.model.NamedWeights;
import dev.tfdiffusion.model.UNet;
import dev.tfdiffusion.model.VariableStore.Param;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tensorflow.ConcreteFunction;
import org.tensorflow.DeviceSpec;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/**
 * Data parallelism inside the one training graph: the step's batch is split into shards, and each shard's loss terms
 * and second-order weight gradients come from one call of the same function, placed on the shard's device. A function
 * call's body runs on the call's device, so every op of a tower lands there, the gradient ops included (the C API
 * builds those without a device).
 *
 * <p>The loss has no batch-wide statistics, so with f_k = b_k / B the shards combine to the whole batch's terms
 * exactly (docs/distributed.md): main = Σ f_k main_k; the penalty, whose input gradients carry 1 / (B·H·W), is
 * Σ f_k³ penalty_k; and each tower differentiates f_k main_k + f_k³ penalty_k, so the gradients add up to the
 * single-device gradient up to the order of float additions.
 */
final class Towers {
  /** The whole batch's loss terms and the summed gradients, one per trained weight. */
  record Combined(DiffusionLoss.Terms<TFloat32> terms, List<Operand<TFloat32>> gradients) {}

  private Towers() {}

  static Combined build(Graph graph, Ops tf, UNet net, GaussianDiffusion diffusion, double penaltyWeight,
                        List<Param<TFloat32>> params, List<Param<TFloat32>> trained, RandomDraws draws,
                        List<DeviceSpec> devices) {
    Shape batchShape = draws.x0().shape();
    int batch = (int) batchShape.get(0);
    int n = devices.size();
    if (n > batch) {
      throw new IllegalArgumentException(n + " devices for a batch of " + batch);
    }
    long[] sizes = new long[n];
    for (int k = 0; k < n; k++) {
      sizes[k] = batch / n + (k < batch % n ? 1 : 0);
    }
    Ops split = tf.withSubScope("shards");
    Operand<TInt64> sizesOp = split.constant(sizes);
    Operand<TInt32> axis = split.constant(0);
    List<Output<TFloat32>> x0 = split.splitV(draws.x0(), sizesOp, axis, (long) n).output();
    List<Output<TInt32>> t = split.splitV(draws.t(), sizesOp, axis, (long) n).output();
    List<Output<TFloat32>> noise = split.splitV(draws.noise(), sizesOp, axis, (long) n).output();
    List<Output<TInt32>> labels = draws.labels() == null ? null
        : split.splitV(draws.labels(), sizesOp, axis, (long) n).output();

    Map<Long, ConcreteFunction> bySize = new HashMap<>();
    List<Operand<TFloat32>> mains = new ArrayList<>();
    List<Operand<TFloat32>> penalties = new ArrayList<>();
    List<List<Operand<TFloat32>>> grads = new ArrayList<>();
    for (int k = 0; k < n; k++) {
      long b = sizes[k];
      double f = (double) b / batch;
      ConcreteFunction tower = bySize.computeIfAbsent(b, size -> {
        ConcreteFunction fn = function(net, diffusion, penaltyWeight, params, trained, Shape.of(size, batchShape.get(1), batchShape.get(2), batchShape.get(3)), f);
        graph.attachFunction(fn);
        return fn;
      });
      Map<String, Operand<?>> in = new LinkedHashMap<>();
      for (int i = 0; i < params.size(); i++) {
        in.put(weightKey(i), params.get(i).read());
      }
      in.put("x0", x0.get(k));
      in.put("t", t.get(k));
      in.put("noise", noise.get(k));
      if (labels != null) {
        in.put("labels", labels.get(k));
      }
      Map<String, Operand<?>> out = tower.call(tf.withDevice(devices.get(k)).withSubScope("tower" + k), in);
      mains.add(cast(out.get("main")));
      penalties.add(cast(out.get("penalty")));
      List<Operand<TFloat32>> g = new ArrayList<>();
      for (int j = 0; j < trained.size(); j++) {
        g.add(cast(out.get(gradientKey(j))));
      }
      grads.add(g);
    }

    Ops c = tf.withSubScope("combine");
    Operand<TFloat32> main = scaledSum(c, mains, sizes, batch, 1);
    Operand<TFloat32> penalty = scaledSum(c, penalties, sizes, batch, 3);
    List<Operand<TFloat32>> gradients = new ArrayList<>();
    for (int j = 0; j < trained.size(); j++) {
      int column = j;
      gradients.add(c.math.addN(grads.stream().map(g -> g.get(column)).toList()));
    }
    return new Combined(new DiffusionLoss.Terms<>(main, penalty, c.math.add(main, penalty), null, null), gradients);
  }

  /** One tower: (every weight, a shard) -> (main, penalty, d(f main + f³ penalty)/d trained weight). */
  private static ConcreteFunction function(UNet net, GaussianDiffusion diffusion, double penaltyWeight,
                                           List<Param<TFloat32>> params, List<Param<TFloat32>> trained,
                                           Shape shard, double f) {
    return ConcreteFunction.create(ops -> {
      Signature.Builder s = Signature.builder("tower_" + shard.get(0));
      Map<String, Operand<TFloat32>> weights = new LinkedHashMap<>();
      List<Operand<TFloat32>> trainedInputs = new ArrayList<>();
      for (int i = 0; i < params.size(); i++) {
        Param<TFloat32> p = params.get(i);
        Placeholder<TFloat32> w = ops.placeholder(TFloat32.class, Placeholder.shape(p.shape()));
        weights.put(p.name(), w);
        s.input(weightKey(i), w);
        if (trained.contains(p)) {
          trainedInputs.add(w);
        }
      }
      Placeholder<TFloat32> x0 = ops.placeholder(TFloat32.class, Placeholder.shape(shard));
      Placeholder<TInt32> t = ops.placeholder(TInt32.class, Placeholder.shape(Shape.of(shard.get(0))));
      Placeholder<TFloat32> noise = ops.placeholder(TFloat32.class, Placeholder.shape(shard));
      s.input("x0", x0).input("t", t).input("noise", noise);
      Placeholder<TInt32> labels = null;
      if (net.conditional()) {
        labels = ops.placeholder(TInt32.class, Placeholder.shape(Shape.of(shard.get(0))));
        s.input("labels", labels);
      }

      Layers<TFloat32> layers = new Layers<>(ops.withSubScope("model"), TFloat32.class, new NamedWeights<>(weights));
      DiffusionLoss.Terms<TFloat32> terms = DiffusionLoss.build(layers, net, diffusion, x0, t, noise, labels,
          penaltyWeight);
      Operand<TFloat32> scaled = ops.math.add(ops.math.mul(ops.constant((float) f), terms.main()),
          ops.math.mul(ops.constant((float) (f * f * f)), terms.penalty()));
      List<Operand<TFloat32>> g = DiffusionLoss.gradients(layers, scaled, trainedInputs);
      s.output("main", terms.main()).output("penalty", terms.penalty());
      for (int j = 0; j < g.size(); j++) {
        if (g.get(j) == null) {
          throw new IllegalStateException("the loss does not depend on " + trained.get(j).name());
        }
        s.output(gradientKey(j), g.get(j));
      }
      return s.build();
    });
  }

  /** Σ (b_k / B)^power · term_k, with the factors in float32 as the towers apply them. */
  private static Operand<TFloat32> scaledSum(Ops c, List<Operand<TFloat32>> terms, long[] sizes, int batch,
                                             int power) {
    List<Operand<TFloat32>> scaled = new ArrayList<>();
    for (int k = 0; k < terms.size(); k++) {
      double f = Math.pow((double) sizes[k] / batch, power);
      scaled.add(c.math.mul(c.constant((float) f), terms.get(k)));
    }
    return c.math.addN(scaled);
  }

  private static String weightKey(int i) {
    return "w" + i;
  }

  private static String gradientKey(int j) {
    return "g" + j;
  }

  @SuppressWarnings("unchecked")
  private static Operand<TFloat32> cast(Operand<?> o) {
    return (Operand<TFloat32>) o;
  }
}
