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

  /**
   * One sampler's scores; {@code recognised}/{@code confidence} are null when an unconditional run learned all digits.
   * For a conditional model, {@code guidance} is w and {@code classes} scores each class asked for.
   */
  public record Score(String sampler, Double guidance, int count, double seconds, Double recognised,
                      Double confidence, double frechet, double memorised, double diversity,
                      List<ClassScore> classes) {}

  /**
   * A conditional model's samples of one class: the share recognised as that class, the judge's mean probability for
   * it, and the Fréchet distance to the real images of the class next to its real-vs-real floor.
   */
  public record ClassScore(int label, int count, double recognised, double confidence, double frechet,
                           double frechetFloor) {}

  /** The whole evaluation, as written to evaluation.json. */
  public record Report(String model, String digit, int samples, long seed, double judgeHeldOutAccuracy,
                       int realImages, double frechetFloor, double memorisationThreshold,
                       double realMeanPairwiseDistance, List<Score> samplers) {}

  /**
   * @param count samples per sampler; for a conditional model, per class and guidance weight
   * @param guidances the guidance weights to score a conditional model at (ignored for an unconditional one)
   */
  public static Report run(SavedModelSampler model, Path modelDir, TrainConfig config, Judge judge, int count,
                           long seed, List<Sampler> samplers, int ddimSteps, float eta, List<Double> guidances) {
    Images all = DataSources.load(config.data(), config.imageSize(), config.grayscale());
    int digit = config.digitLabel();
    Images real = digit < 0 ? all : all.withLabel(digit);
    Images training = TrainingData.load(config).train();
    int pixels = real.pixelsPerImage();

    double[][] realFeatures = judge.classify(real.pixels(), real.count()).features();
    double floor = halvesDistance(realFeatures, seed);
    double threshold = Metrics.nearestNeighbourQuantile(training.pixels(), pixels, MEMORISATION_QUANTILE);
    double realSpread = Metrics.meanPairwiseDistance(real.pixels(), pixels);

    int[] labels = model.conditional() ? SavedModelSampler.labelsPerClass(model.classes(), count) : null;
    List<RealClass> realClasses = labels == null ? null : realClasses(all, judge, model.classes(), seed);
    int n = labels == null ? count : labels.length;
    List<Double> weights = model.conditional() ? guidances : java.util.Collections.singletonList(null);
    List<Score> scores = new ArrayList<>();
    float[] noise = model.noise(n, seed);
    for (Sampler s : samplers) {
      for (Double w : weights) {
        SavedModelSampler.Condition condition = w == null ? null
            : new SavedModelSampler.Condition(labels, w.floatValue());
        long start = System.nanoTime();
        float[] images = s.run(model, noise, seed, ddimSteps, eta, condition);
        double seconds = (System.nanoTime() - start) / 1e9;
        for (int i = 0; i < images.length; i++) {
          images[i] = Math.max(0f, Math.min(1f, images[i])); // as sample writes them
        }
        Judge.Verdict v = judge.classify(images, n);
        Double recognised = null;
        Double confidence = null;
        List<ClassScore> classes = null;
        if (labels != null) {
          recognised = share(v, labels, 0, n);
          confidence = confidence(v, labels, 0, n);
          classes = classScores(v, labels, count, realClasses);
        } else if (digit >= 0) {
          int[] target = new int[n];
          java.util.Arrays.fill(target, digit);
          recognised = share(v, target, 0, n);
          confidence = confidence(v, target, 0, n);
        }
        scores.add(new Score(s.describe(ddimSteps, eta), w, n, seconds, recognised, confidence,
            Metrics.frechetDistance(v.features(), realFeatures),
            Metrics.shareCloserThan(images, training.pixels(), pixels, threshold),
            Metrics.meanPairwiseDistance(images, pixels) / realSpread, classes));
      }
    }
    return new Report(modelDir.toString(), config.digit(), n, seed, judge.heldOutAccuracy(), real.count(), floor,
        threshold, realSpread, scores);
  }

  /** Share of images {@code from}..{@code to} the judge classifies as their target. */
  private static double share(Judge.Verdict v, int[] target, int from, int to) {
    int hits = 0;
    for (int i = from; i < to; i++) {
      hits += Judge.argmax(v.probabilities()[i]) == target[i] ? 1 : 0;
    }
    return (double) hits / (to - from);
  }

  /** The judge's mean probability for the target of images {@code from}..{@code to}. */
  private static double confidence(Judge.Verdict v, int[] target, int from, int to) {
    double p = 0;
    for (int i = from; i < to; i++) {
      p += v.probabilities()[i][target[i]];
    }
    return p / (to - from);
  }

  /** One class's real images in the judge's features, and their real-vs-real floor (null for fewer than four). */
  private record RealClass(double[][] features, double floor) {}

  /** Each class's real images as the judge sees them: computed once, whatever the samplers and weights scored. */
  private static List<RealClass> realClasses(Images all, Judge judge, int classes, long seed) {
    List<RealClass> out = new ArrayList<>();
    for (int k = 0; k < classes; k++) {
      Images real = all.withLabel(k);
      if (real.count() < 4) {
        out.add(new RealClass(null, Double.NaN));
      } else {
        double[][] features = judge.classify(real.pixels(), real.count()).features();
        out.add(new RealClass(features, halvesDistance(features, seed)));
      }
    }
    return out;
  }

  /** Each class's scores: its samples (rows of {@code count}) against that class's real images. */
  private static List<ClassScore> classScores(Judge.Verdict v, int[] labels, int count, List<RealClass> reals) {
    List<ClassScore> out = new ArrayList<>();
    for (int k = 0; k < reals.size(); k++) {
      int from = k * count;
      int to = from + count;
      RealClass real = reals.get(k);
      double frechet = real.features() == null ? Double.NaN
          : Metrics.frechetDistance(java.util.Arrays.copyOfRange(v.features(), from, to), real.features());
      out.add(new ClassScore(k, count, share(v, labels, from, to), confidence(v, labels, from, to), frechet,
          real.floor()));
    }
    return out;
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
      String name = s.guidance() == null ? s.sampler()
          : s.sampler() + ", guidance " + new java.math.BigDecimal(s.guidance().toString()).stripTrailingZeros()
              .toPlainString();
      b.append(String.format("%-40s %9s %10s %10.2f %9.1f%% %10.2f %9.1f%n", name,
          s.recognised() == null ? "n/a" : String.format("%.1f%%", 100 * s.recognised()),
          s.confidence() == null ? "n/a" : String.format("%.3f", s.confidence()), s.frechet(), 100 * s.memorised(),
          s.diversity(), s.seconds()));
    }
    for (Score s : r.samplers()) {
      if (s.classes() == null) {
        continue;
      }
      b.append(String.format("%nPer class, %s, guidance %s (%d samples each):%n", s.sampler(),
          new java.math.BigDecimal(s.guidance().toString()).stripTrailingZeros().toPlainString(),
          s.classes().get(0).count()));
      b.append(String.format("%-6s %10s %10s %10s %10s%n", "class", "recognised", "confidence", "Fréchet", "floor"));
      for (ClassScore c : s.classes()) {
        b.append(String.format("%-6d %9.1f%% %10.3f %10.2f %10.2f%n", c.label(), 100 * c.recognised(),
            c.confidence(), c.frechet(), c.frechetFloor()));
      }
    }
    return b.toString();
  }
}
