package dev.tfdiffusion.train;

import dev.tfdiffusion.diffusion.GaussianDiffusion;
import dev.tfdiffusion.diffusion.Guidance;
import dev.tfdiffusion.sample.Signatures;
import dev.tfdiffusion.diffusion.SamplerLoop;
import dev.tfdiffusion.model.UNet;
import dev.tfdiffusion.model.VariableStore.Param;
import java.util.ArrayList;
import java.util.List;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/** TensorBoard's sample grid: DDIM samples from fixed noise, drawn in the training graph while it trains. */
final class SampleGrid {
  /** Samples per side of the grid (4 x 4). */
  static final int SIDE = 4;
  private static final int DDIM_STEPS = 50;

  private SampleGrid() {}

  /**
   * The grid's images [SIDE * SIDE, H, W, C], with the weights' moving average where there is one; a conditional
   * model draws the classes in turn, with the default guidance.
   *
   * @param averages the moving average of each {@code trained} weight, or null without one
   */
  static Operand<TFloat32> build(Graph graph, Ops g, UNet net, GaussianDiffusion diffusion, long seed,
                                 List<Param<TFloat32>> params, List<Param<TFloat32>> trained,
                                 List<? extends Operand<TFloat32>> averages) {
    List<Param<TFloat32>> weights = new ArrayList<>();
    for (Param<TFloat32> p : params) {
      int i = trained.indexOf(p);
      Operand<TFloat32> read = averages != null && i >= 0 ? g.identity(averages.get(i)) : p.read();
      weights.add(new Param<>(p.name(), p.shape(), p.init(), p.variable(), read, null));
    }
    Operand<TFloat32> noise = g.random.statelessRandomNormal(
        g.constant(new long[] {SIDE * SIDE, net.height(), net.width(), net.channels()}),
        g.constant(new long[] {seed, -1}));
    Guidance guidance = null;
    if (net.conditional()) {
      int[] labels = new int[SIDE * SIDE];
      for (int i = 0; i < labels.length; i++) {
        labels[i] = i % net.classes();
      }
      guidance = new Guidance(g.constant(labels), g.constant((float) Signatures.DEFAULT_GUIDANCE), net.noClass());
    }
    return new SamplerLoop(graph, net::apply, weights, Shape.of(-1, net.height(), net.width(), net.channels()))
        .build(g, "sampler", diffusion.ddim(g.constant(0f)),
            SamplerLoop.evenlySpaced(g, g.constant(DDIM_STEPS), diffusion.steps()), noise, g.constant(seed), null,
            guidance).images();
  }
}
