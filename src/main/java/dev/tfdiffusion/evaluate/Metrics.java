package dev.tfdiffusion.evaluate;

import java.util.Arrays;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.EigenDecomposition;
import org.apache.commons.math3.linear.RealMatrix;

/** The sample-quality measures of {@code evaluate}, on plain arrays. */
public final class Metrics {
  private Metrics() {}

  /**
   * The Fréchet distance between Gaussians fitted to two sets of feature vectors:
   * |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr((S1^1/2 S2 S1^1/2)^1/2).
   */
  public static double frechetDistance(double[][] a, double[][] b) {
    double[] muA = mean(a);
    double[] muB = mean(b);
    RealMatrix sa = covariance(a, muA);
    RealMatrix sb = covariance(b, muB);
    double d = 0;
    for (int i = 0; i < muA.length; i++) {
      d += (muA[i] - muB[i]) * (muA[i] - muB[i]);
    }
    RealMatrix rootA = sqrtSymmetric(sa);
    RealMatrix middle = rootA.multiply(sb).multiply(rootA);
    middle = middle.add(middle.transpose()).scalarMultiply(0.5); // symmetric up to rounding
    double traceRoot = 0;
    for (double e : new EigenDecomposition(middle).getRealEigenvalues()) {
      traceRoot += Math.sqrt(Math.max(e, 0));
    }
    return Math.max(0, d + sa.getTrace() + sb.getTrace() - 2 * traceRoot);
  }

  static double[] mean(double[][] x) {
    double[] mu = new double[x[0].length];
    for (double[] row : x) {
      for (int j = 0; j < mu.length; j++) {
        mu[j] += row[j] / x.length;
      }
    }
    return mu;
  }

  /** The unbiased sample covariance (n - 1). */
  static RealMatrix covariance(double[][] x, double[] mu) {
    int d = mu.length;
    double[][] c = new double[d][d];
    for (double[] row : x) {
      for (int i = 0; i < d; i++) {
        double di = row[i] - mu[i];
        for (int j = i; j < d; j++) {
          c[i][j] += di * (row[j] - mu[j]);
        }
      }
    }
    for (int i = 0; i < d; i++) {
      for (int j = i; j < d; j++) {
        c[i][j] /= Math.max(1, x.length - 1);
        c[j][i] = c[i][j];
      }
    }
    return new Array2DRowRealMatrix(c, false);
  }

  /** The principal square root of a symmetric positive semi-definite matrix (negative rounding clipped). */
  static RealMatrix sqrtSymmetric(RealMatrix m) {
    EigenDecomposition e = new EigenDecomposition(m);
    RealMatrix v = e.getV();
    double[] ev = e.getRealEigenvalues();
    double[][] diag = new double[ev.length][ev.length];
    for (int i = 0; i < ev.length; i++) {
      diag[i][i] = Math.sqrt(Math.max(ev[i], 0));
    }
    return v.multiply(new Array2DRowRealMatrix(diag, false)).multiply(e.getVT());
  }

  static double distance(float[] x, int i, float[] y, int j, int pixels) {
    double s = 0;
    for (int k = 0; k < pixels; k++) {
      double d = x[i * pixels + k] - y[j * pixels + k];
      s += d * d;
    }
    return Math.sqrt(s);
  }

  /** The mean Euclidean distance between distinct images of a set. */
  public static double meanPairwiseDistance(float[] images, int pixels) {
    int n = images.length / pixels;
    double sum = 0;
    long pairs = 0;
    for (int i = 0; i < n; i++) {
      for (int j = i + 1; j < n; j++) {
        sum += distance(images, i, images, j, pixels);
        pairs++;
      }
    }
    return pairs == 0 ? 0 : sum / pairs;
  }

  /**
   * The {@code q} quantile (0..1, lower) of each image's distance to its nearest other image in the set: how close
   * real images of the set come to one another.
   */
  public static double nearestNeighbourQuantile(float[] images, int pixels, double q) {
    int n = images.length / pixels;
    double[] nearest = new double[n];
    Arrays.fill(nearest, Double.POSITIVE_INFINITY);
    for (int i = 0; i < n; i++) {
      for (int j = i + 1; j < n; j++) {
        double d = distance(images, i, images, j, pixels);
        nearest[i] = Math.min(nearest[i], d);
        nearest[j] = Math.min(nearest[j], d);
      }
    }
    Arrays.sort(nearest);
    return nearest[(int) Math.floor(q * (n - 1))];
  }

  /** Share of {@code samples} whose nearest image of {@code training} is closer than {@code threshold}. */
  public static double shareCloserThan(float[] samples, float[] training, int pixels, double threshold) {
    int n = samples.length / pixels;
    int m = training.length / pixels;
    int close = 0;
    for (int i = 0; i < n; i++) {
      double nearest = Double.POSITIVE_INFINITY;
      for (int j = 0; j < m; j++) {
        nearest = Math.min(nearest, distance(samples, i, training, j, pixels));
      }
      if (nearest < threshold) {
        close++;
      }
    }
    return (double) close / n;
  }
}
