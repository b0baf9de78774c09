package dev.tfdiffusion.evaluate;

import dev.tfdiffusion.config.TrainConfig;
import dev.tfdiffusion.data.DataSources;
import dev.tfdiffusion.data.Images;
import dev.tfdiffusion.data.TrainingData;
import dev.tfdiffusion.sample.SavedModelSampler;
import dev.tfdiffusion.sample.Sampler;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Scores samplers of a SavedModel against real digits with the {@link Judge}:
 *
 * <ul>
 *   <li>recognised: share of samples the judge classifies as the target digit, and its mean probability for it;
 *   <li>Fréchet distance between samples and the real images of the digit in the judge's features, next to the
 *       floor: the same distance between two random halves of those real images;
 *   <li>memorised: share of samples nearer to a training image than 99 % of the training images are to their own
 *       nearest other training image (so about 1 % of fresh real digits would count);
 *   <li>diversity: mean pairwise distance of the samples over that of the real images.
 * </ul>
 */
public final class Evaluation {
  /** Nearest-neighbour distances below this quantile of the training images' own count as "nearly identical". */
  public static final double MEMORISATION_QUANTILE = 0.01;

  private Evaluation() {}

  /** One sampler's scores; {@code recognised}/{@code confidence} are null when the run learned all digits. */
  public record Score(String sampler, int count, double seconds, Double recognised, Double confidence,
                      double frechet, double memorised, double diversity) {}

  /** The whole evaluation, as written to evaluation.json. */
  public record Report(String model, String digit, int samples, long seed, double judgeHeldOutAccuracy,
                       int realImages, double frechetFloor, double memorisationThreshold,
                       double realMeanPairwiseDistance, List<Score> samplers) {}

  public static Report run(SavedModelSampler model, Path modelDir, TrainConfig config, Judge judge, int count,
                           long seed, List<Sampler> samplers, int ddimSteps, float eta) {
    Images all = DataSources.load(config.data(), config.imageSize(), config.grayscale());
    int digit = config.digitLabel();
    Images real = digit < 0 ? all : all.withLabel(digit);
    Images training = TrainingData.load(config).train();
    int pixels = real.pixelsPerImage();

    double[][] realFeatures = judge.classify(real.pixels(), real.count()).features();
    double floor = halvesDistance(realFeatures, seed);
    double threshold = Metrics.nearestNeighbourQuantile(training.pixels(), pixels, MEMORISATION_QUANTILE);
    double realSpread = Metrics.meanPairwiseDistance(real.pixels(), pixels);

    List<Score> scores = new ArrayList<>();
    float[] noise = model.noise(count, seed);
    for (Sampler s : samplers) {
      long start = System.nanoTime();
      float[] images = s.run(model, noise, seed, ddimSteps, eta);
      double seconds = (System.nanoTime() - start) / 1e9;
      for (int i = 0; i < images.length; i++) {
        images[i] = Math.max(0f, Math.min(1f, images[i])); // as sample writes them
      }
      Judge.Verdict v = judge.classify(images, count);
      Double recognised = null;
      Double confidence = null;
      if (digit >= 0) {
        int hits = 0;
        double p = 0;
        for (float[] probs : v.probabilities()) {
          hits += Judge.argmax(probs) == digit ? 1 : 0;
          p += probs[digit];
        }
        recognised = (double) hits / count;
        confidence = p / count;
      }
      scores.add(new Score(s.describe(ddimSteps, eta), count, seconds, recognised, confidence,
          Metrics.frechetDistance(v.features(), realFeatures),
          Metrics.shareCloserThan(images, training.pixels(), pixels, threshold),
          Metrics.meanPairwiseDistance(images, pixels) / realSpread));
    }
    return new Report(modelDir.toString(), config.digit(), count, seed, judge.heldOutAccuracy(), real.count(), floor,
        threshold, realSpread, scores);
  }

  /** Fréchet distance between two random halves of the real features: what the measure reads for real vs real. */
  static double halvesDistance(double[][] features, long seed) {
    int[] order = new int[features.length];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    Random rng = new Random(seed);
    for (int i = order.length - 1; i > 0; i--) {
      int j = rng.nextInt(i + 1);
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    int half = features.length / 2;
    double[][] a = new double[half][];
    double[][] b = new double[features.length - half][];
    for (int i = 0; i < features.length; i++) {
      if (i < half) {
        a[i] = features[order[i]];
      } else {
        b[i - half] = features[order[i]];
      }
    }
    return Metrics.frechetDistance(a, b);
  }

  /** The report as a table for the terminal. */
  public static String table(Report r) {
    StringBuilder b = new StringBuilder();
    b.append(String.format("Judge: held-out accuracy %.1f %% on the bundled digits' 20 %% split.%n",
        100 * r.judgeHeldOutAccuracy()));
    b.append(String.format("%d samples per sampler, seed %d; %d real images of digit %s; Fréchet floor (real vs real "
        + "halves) %.2f.%n", r.samples(), r.seed(), r.realImages(), r.digit(), r.frechetFloor()));
    b.append(String.format("%-40s %9s %10s %10s %10s %10s %9s%n", "sampler", "recognised", "confidence", "Fréchet",
        "memorised", "diversity", "seconds"));
    for (Score s : r.samplers()) {
      b.append(String.format("%-40s %9s %10s %10.2f %9.1f%% %10.2f %9.1f%n", s.sampler(),
          s.recognised() == null ? "n/a" : String.format("%.1f%%", 100 * s.recognised()),
          s.confidence() == null ? "n/a" : String.format("%.3f", s.confidence()), s.frechet(), 100 * s.memorised(),
          s.diversity(), s.seconds()));
    }
    return b.toString();
  }
}
