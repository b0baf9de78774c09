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
 * what the uninterrupted one drew: the batch x_0, its timesteps t and the noise.
 */
record RandomDraws(Operand<TFloat32> x0, Operand<TInt32> t, Operand<TFloat32> noise) {
  // stream ids: seed pair = (run seed, step * STREAMS + stream)
  private static final int STREAMS = 4;
  private static final int STREAM_BATCH = 0;
  private static final int STREAM_TIMESTEP = 1;
  private static final int STREAM_NOISE = 2;

  /**
   * @param images all training images [N, H, W, 1]
   * @param batch images per step; N takes the whole set every step (the tutorial's "epoch")
   */
  static RandomDraws build(Ops tf, TrainConfig config, Operand<TFloat32> images, int trainImages, int batch,
                           int height, int width, Operand<TInt64> step, Operand<TFloat64> stepF) {
    Ops r = tf.withSubScope("sample");
    Operand<TFloat32> x0;
    if (batch == trainImages) {
      x0 = r.identity(images);
    } else {
      Operand<TFloat32> keys = r.random.statelessRandomUniform(r.constant(new long[] {trainImages}),
          seed(r, config.seed(), step, STREAM_BATCH));
      x0 = r.gather(images, r.nn.topK(keys, r.constant(batch), TInt32.class).indices(), r.constant(0));
    }
    Operand<TInt32> t = timesteps(r, config, stepF, batch, seed(r, config.seed(), step, STREAM_TIMESTEP));
    Operand<TFloat32> noise = r.random.statelessRandomNormal(r.constant(new long[] {batch, height, width, 1}),
        seed(r, config.seed(), step, STREAM_NOISE));
    return new RandomDraws(x0, t, noise);
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
