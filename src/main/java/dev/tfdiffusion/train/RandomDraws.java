package dev.tfdiffusion.train;

import dev.tfdiffusion.config.TrainConfig;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TFloat64;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;

/**
 * One training step's random draws, from seeded stateless ops keyed by the step counter, so that a resumed run draws
 * what the uninterrupted one drew: the batch x_0, its timesteps t and the noise, and for a conditional model the
 * batch's labels, each replaced by "no class" with probability --cond-drop (null for an unconditional model).
 */
record RandomDraws(Operand<TFloat32> x0, Operand<TInt32> t, Operand<TFloat32> noise, Operand<TInt32> labels) {
  // stream ids: seed pair = (run seed, step * STREAMS + stream)
  private static final int STREAMS = 4;
  private static final int STREAM_BATCH = 0;
  private static final int STREAM_TIMESTEP = 1;
  private static final int STREAM_NOISE = 2;
  private static final int STREAM_LABEL_DROP = 3;

  /**
   * @param x0 this step's images [batch, H, W, C] ({@link BatchSource})
   * @param labels their labels [batch] for a conditional model, else null
   * @param noClass the label that stands for "no class"
   */
  static RandomDraws build(Ops tf, TrainConfig config, Operand<TFloat32> x0, Operand<TInt32> labels, int noClass,
                           int batch, Operand<TInt64> step, Operand<TFloat64> stepF) {
    Ops r = tf.withSubScope("sample");
    Operand<TInt32> t = timesteps(r, config, stepF, batch, seed(r, config.seed(), step, STREAM_TIMESTEP));
    Operand<TFloat32> noise = r.random.statelessRandomNormal(r.constant(x0.shape().asArray()),
        seed(r, config.seed(), step, STREAM_NOISE));
    Operand<TInt32> y = labels == null ? null
        : dropLabels(r, labels, noClass, config.condDrop(), batch, seed(r, config.seed(), step, STREAM_LABEL_DROP));
    return new RandomDraws(x0, t, noise, y);
  }

  /**
   * The indices of step {@code step}'s batch among the {@code trainImages}: the {@code batch} largest of a uniform
   * draw per image (a sample without replacement).
   */
  static Operand<TInt32> batchIndices(Ops r, long runSeed, Operand<TInt64> step, int trainImages, int batch) {
    Operand<TFloat32> keys = r.random.statelessRandomUniform(r.constant(new long[] {trainImages}),
        seed(r, runSeed, step, STREAM_BATCH));
    return r.nn.topK(keys, r.constant(batch), TInt32.class).indices();
  }

  /** Each label replaced by {@code noClass} where a uniform draw falls below {@code drop}. */
  private static Operand<TInt32> dropLabels(Ops r, Operand<TInt32> labels, int noClass, double drop, int batch,
                                            Operand<TInt64> seed) {
    Operand<TFloat32> u = r.random.statelessRandomUniform(r.constant(new long[] {batch}), seed);
    return r.select(r.math.less(u, r.constant((float) drop)), r.fill(r.constant(new int[] {batch}),
        r.constant(noClass)), labels);
  }

  /**
   * The tutorial's progressive timestep sampling: t ~ Categorical(w) with w = linspace(1, 0.1 (1 - progress), T),
   * progress = step / steps.
   */
  private static Operand<TInt32> timesteps(Ops r, TrainConfig config, Operand<TFloat64> step, int batch,
                                           Operand<TInt64> seed) {
    int n = config.diffusionSteps();
    Operand<TFloat64> progress = r.math.div(step, r.constant((double) config.steps()));
    Operand<TFloat64> end = r.math.mul(r.constant(0.1), r.math.sub(r.constant(1.0), progress));
    double[] fraction = new double[n];
    for (int i = 0; i < n; i++) {
      fraction[i] = n == 1 ? 0 : (double) i / (n - 1);
    }
    // w_i = 1 + i/(n-1) (end - 1)
    Operand<TFloat64> w = r.math.add(r.constant(1.0), r.math.mul(r.constant(fraction),
        r.math.sub(end, r.constant(1.0))));
    Operand<TFloat32> logits = r.reshape(r.dtypes.cast(r.math.log(w), TFloat32.class), r.constant(new long[] {1, n}));
    Operand<TInt64> draws = r.random.statelessMultinomial(logits, r.constant(batch), seed);
    return r.dtypes.cast(r.reshape(draws, r.constant(new long[] {batch})), TInt32.class);
  }

  private static Operand<TInt64> seed(Ops r, long runSeed, Operand<TInt64> step, int stream) {
    Operand<TInt64> counter = r.math.add(r.math.mul(step, r.constant((long) STREAMS)), r.constant((long) stream));
    return r.stack(List.of(r.constant(runSeed), counter));
  }
}
