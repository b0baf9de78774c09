package dev.tfdiffusion.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfdiffusion.config.Presets;
import dev.tfdiffusion.config.TrainConfig;
import dev.tfdiffusion.data.Images;
import dev.tfdiffusion.data.TrainingData;
import dev.tfdiffusion.model.VariableStore;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TFloat32;

/**
 * README: "{@code grad_norm} is the global norm of the raw gradient, before clipping". With clip values that clip
 * hard, the step's GRAD_NORM must equal sqrt(sum g^2) of the raw gradient tensors computed here in float64, be far
 * above the clipped gradient's norm, and equal the GRAD_NORM of the same step in a graph whose clipping never acts
 * (while the two graphs' updates differ).
 */
class GradNormTest {
  private static final double CLIP_VALUE = 1e-4;
  private static final double CLIP_NORM = 1e-3;

  private static TrainConfig config(double clipValue, double clipNorm) {
    return Presets.quick().with(Map.of("features", 4, "steps", 10, "warmup-steps", 1, "ema-decay", 0.0,
        "clip-value", clipValue, "clip-norm", clipNorm));
  }

  private static float[] values(Result r, int i) {
    TFloat32 t = (TFloat32) r.get(i);
    float[] out = new float[(int) t.size()];
    t.copyTo(DataBuffers.of(out, false, false));
    return out;
  }

  private static List<float[]> fetch(Session session, List<? extends Operand<TFloat32>> tensors) {
    Session.Runner runner = session.runner();
    tensors.forEach(runner::fetch);
    try (Result r = runner.run()) {
      return java.util.stream.IntStream.range(0, tensors.size()).mapToObj(i -> values(r, i)).toList();
    }
  }

  private static double globalNorm(List<float[]> tensors) {
    double sum = 0;
    for (float[] g : tensors) {
      for (float v : g) {
        sum += (double) v * v;
      }
    }
    return Math.sqrt(sum);
  }

  @Test
  void gradNormIsTheGlobalNormOfTheRawGradientBeforeClipping() {
    TrainConfig clipping = config(CLIP_VALUE, CLIP_NORM);
    Images train = TrainingData.load(clipping).train();
    double metric;
    double secondMetric;
    List<float[]> clippedWeights;
    try (TrainGraph graph = new TrainGraph(clipping, train.count(), train.height(), train.width())) {
      graph.loadImages(train);
      // step 0's raw gradients (fetching them runs no update: the step counter stays 0)
      List<float[]> raw = fetch(graph.session(), graph.rawGradients());
      assertEquals(graph.trainedParams().size(), raw.size());
      double rawNorm = globalNorm(raw);
      // the gradient the optimizer sees: clip to [-v, v], then to global norm CLIP_NORM
      List<float[]> byValue = raw.stream().map(g -> {
        float[] c = g.clone();
        for (int i = 0; i < c.length; i++) {
          c[i] = Math.max((float) -CLIP_VALUE, Math.min((float) CLIP_VALUE, c[i]));
        }
        return c;
      }).toList();
      double clippedNorm = Math.min(globalNorm(byValue), CLIP_NORM);
      assertTrue(rawNorm > 100 * clippedNorm, "the clip values do not clip: raw norm " + rawNorm + ", clipped "
          + clippedNorm);

      StepMetrics m = graph.step();
      assertEquals(0, m.step());
      metric = m.gradNorm();
      System.out.printf("grad_norm %.9g, raw gradient's global norm %.9g, clipped gradient's %.9g%n", metric,
          rawNorm, clippedNorm);
      assertEquals(rawNorm, metric, 1e-5 * rawNorm, "grad_norm is not the raw gradient's global norm (the clipped "
          + "gradient's is " + clippedNorm + ")");
      secondMetric = graph.step().gradNorm();
      clippedWeights = fetch(graph.session(), graph.trainedParams().stream().map(VariableStore.Param::read).toList());
    }

    // the same steps without effective clipping: the same grad_norm, a different update. Adam's first update,
    // lr m/(sqrt(v) + eps) = lr g/(|g| + eps), hardly depends on the gradient's scale, so the weights part after the
    // second step, which mixes two gradients clipped by different factors.
    TrainConfig free = config(1e30, 1e30);
    try (TrainGraph graph = new TrainGraph(free, train.count(), train.height(), train.width())) {
      graph.loadImages(train);
      StepMetrics m = graph.step();
      System.out.printf("grad_norm without clipping %.9g%n", m.gradNorm());
      assertEquals(metric, m.gradNorm(), 1e-6 * metric);
      double second = graph.step().gradNorm();
      System.out.printf("second step: grad_norm %.9g with clipping, %.9g without%n", secondMetric, second);
      assertEquals(secondMetric, second, 1e-4 * second);
      List<float[]> freeWeights = fetch(graph.session(), graph.trainedParams().stream().map(VariableStore.Param::read).toList());
      boolean differ = false;
      for (int i = 0; i < freeWeights.size(); i++) {
        differ |= !Arrays.equals(clippedWeights.get(i), freeWeights.get(i));
      }
      assertTrue(differ, "clipping did not change the weights after two steps");
    }
  }
}
