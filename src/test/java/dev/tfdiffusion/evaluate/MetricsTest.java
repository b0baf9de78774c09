package dev.tfdiffusion.evaluate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.RealMatrix;
import org.junit.jupiter.api.Test;

/** The evaluation measures on small cases computed by hand. */
class MetricsTest {

  @Test
  void frechetDistanceOfOneDimensionalGaussians() {
    // N(mu, s^2) vs N(m, t^2): (mu - m)^2 + (s - t)^2
    double[][] a = {{1}, {3}};          // mean 2, sample variance 2
    double[][] b = {{5}, {5}, {11}};    // mean 7, sample variance 12
    double expected = 25 + Math.pow(Math.sqrt(2) - Math.sqrt(12), 2);
    assertEquals(expected, Metrics.frechetDistance(a, b), 1e-9);
    assertEquals(0, Metrics.frechetDistance(a, a), 1e-12);
  }

  @Test
  void frechetDistanceWithIndependentDimensions() {
    // diagonal covariances: sum over dimensions of the 1-D distances
    double[][] a = {{0, 0}, {2, 0}, {0, 4}, {2, 4}};    // mean (1, 2), variances (4/3, 16/3)
    double[][] b = {{1, 1}, {1, 1}, {1, 1}, {1, 1}};    // mean (1, 1), variances 0
    double expected = 1 + 4.0 / 3 + 16.0 / 3;
    assertEquals(expected, Metrics.frechetDistance(a, b), 1e-9);
  }

  @Test
  void pairwiseDistancesAndMemorisation() {
    // three 2-pixel images at (0,0), (3,4), (6,8): distances 5, 5, 10
    float[] images = {0, 0, 3, 4, 6, 8};
    assertEquals(20.0 / 3, Metrics.meanPairwiseDistance(images, 2), 1e-9);
    // nearest other image: 5, 5, 5
    assertEquals(5.0, Metrics.nearestNeighbourQuantile(images, 2, 0.01), 1e-9);
    float[] spread = {0, 0, 1, 0, 5, 0, 12, 0};  // nearest: 1, 1, 4, 7
    assertEquals(1.0, Metrics.nearestNeighbourQuantile(spread, 2, 0.0), 1e-9);
    assertEquals(4.0, Metrics.nearestNeighbourQuantile(spread, 2, 0.7), 1e-9);
    assertEquals(7.0, Metrics.nearestNeighbourQuantile(spread, 2, 1.0), 1e-9);
    // samples at distance 1 and 2.5 from their nearest training image; threshold 2 -> one of two memorised
    float[] samples = {0, 1, 4.5f, 6};
    assertEquals(0.5, Metrics.shareCloserThan(samples, images, 2, 2.0), 1e-12);
  }

  // ---- correlated, non-commuting covariances, against references that do not use an eigen-decomposition ----

  /** S1 and S2 below: correlated (non-zero off-diagonals) and S1 S2 != S2 S1. */
  private static final double[][] S1 = {{4, 1.5}, {1.5, 1}};
  private static final double[][] S2 = {{1, -0.8}, {-0.8, 2}};

  /**
   * n samples whose sample mean is exactly {@code mu} and whose covariance with the n - 1 divisor is exactly
   * {@code s}: the points mu +/- a L e_i (L the Cholesky factor of s) have mean mu and sum of outer products
   * 2 a^2 L L^T, so a^2 = (n - 1) / 2 with n = 2d.
   */
  private static double[][] samplesWith(double[] mu, double[][] s) {
    int d = mu.length;
    double[][] l = cholesky(s);
    double a = Math.sqrt((2.0 * d - 1) / 2);
    double[][] x = new double[2 * d][d];
    for (int i = 0; i < d; i++) {
      for (int r = 0; r < d; r++) {
        x[2 * i][r] = mu[r] + a * l[r][i];
        x[2 * i + 1][r] = mu[r] - a * l[r][i];
      }
    }
    return x;
  }

  private static double[][] cholesky(double[][] s) {
    int d = s.length;
    double[][] l = new double[d][d];
    for (int i = 0; i < d; i++) {
      for (int j = 0; j <= i; j++) {
        double v = s[i][j];
        for (int k = 0; k < j; k++) {
          v -= l[i][k] * l[j][k];
        }
        l[i][j] = i == j ? Math.sqrt(v) : v / l[j][j];
      }
    }
    return l;
  }

  private static double[] sampleMean(double[][] x) {
    double[] mu = new double[x[0].length];
    for (double[] row : x) {
      for (int j = 0; j < mu.length; j++) {
        mu[j] += row[j];
      }
    }
    for (int j = 0; j < mu.length; j++) {
      mu[j] /= x.length;
    }
    return mu;
  }

  /** The covariance with the n - 1 divisor, as numpy's np.cov and the FID reference implementation use. */
  private static double[][] sampleCovariance(double[][] x) {
    double[] mu = sampleMean(x);
    int d = mu.length;
    double[][] c = new double[d][d];
    for (double[] row : x) {
      for (int i = 0; i < d; i++) {
        for (int j = 0; j < d; j++) {
          c[i][j] += (row[i] - mu[i]) * (row[j] - mu[j]) / (x.length - 1);
        }
      }
    }
    return c;
  }

  private static double[][] mul(double[][] a, double[][] b) {
    int n = a.length;
    double[][] c = new double[n][n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        for (int k = 0; k < n; k++) {
          c[i][j] += a[i][k] * b[k][j];
        }
      }
    }
    return c;
  }

  private static double trace(double[][] a) {
    double t = 0;
    for (int i = 0; i < a.length; i++) {
      t += a[i][i];
    }
    return t;
  }

  private static double det2(double[][] m) {
    return m[0][0] * m[1][1] - m[0][1] * m[1][0];
  }

  /** The principal root of a 2x2 symmetric positive-definite M: (M + sqrt(det M) I) / sqrt(tr M + 2 sqrt(det M)). */
  private static double[][] sqrt2x2(double[][] m) {
    double s = Math.sqrt(det2(m));
    double t = Math.sqrt(trace(m) + 2 * s);
    return new double[][] {{(m[0][0] + s) / t, m[0][1] / t}, {m[1][0] / t, (m[1][1] + s) / t}};
  }

  private static double[][] inverse3x3(double[][] m) {
    double[][] c = new double[3][3];
    for (int i = 0; i < 3; i++) {
      for (int j = 0; j < 3; j++) {
        int i1 = (i + 1) % 3, i2 = (i + 2) % 3, j1 = (j + 1) % 3, j2 = (j + 2) % 3;
        c[j][i] = m[i1][j1] * m[i2][j2] - m[i1][j2] * m[i2][j1]; // cofactor (i, j), transposed: the adjugate
      }
    }
    double det = m[0][0] * c[0][0] + m[0][1] * c[1][0] + m[0][2] * c[2][0];
    for (double[] row : c) {
      for (int j = 0; j < 3; j++) {
        row[j] /= det;
      }
    }
    return c;
  }

  /** The principal square root of a 3x3 symmetric positive-definite matrix by the Denman-Beavers iteration. */
  private static double[][] sqrt3x3(double[][] m) {
    double[][] y = m;
    double[][] z = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
    for (int k = 0; k < 50; k++) {
      double[][] yi = inverse3x3(y);
      double[][] zi = inverse3x3(z);
      double[][] ny = new double[3][3];
      double[][] nz = new double[3][3];
      for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 3; j++) {
          ny[i][j] = (y[i][j] + zi[i][j]) / 2;
          nz[i][j] = (z[i][j] + yi[i][j]) / 2;
        }
      }
      y = ny;
      z = nz;
    }
    return y;
  }

  private static double meanTerm(double[] m1, double[] m2) {
    double d = 0;
    for (int i = 0; i < m1.length; i++) {
      d += (m1[i] - m2[i]) * (m1[i] - m2[i]);
    }
    return d;
  }

  /** |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr((S1^1/2 S2 S1^1/2)^1/2) in two dimensions, in closed form. */
  private static double frechet2(double[] m1, double[][] s1, double[] m2, double[][] s2) {
    double[][] r = sqrt2x2(s1);
    double traceRoot = trace(sqrt2x2(mul(mul(r, s2), r)));
    return meanTerm(m1, m2) + trace(s1) + trace(s2) - 2 * traceRoot;
  }

  /** The same in three dimensions, with Denman-Beavers square roots. */
  private static double frechet3(double[] m1, double[][] s1, double[] m2, double[][] s2) {
    double[][] r = sqrt3x3(s1);
    double traceRoot = trace(sqrt3x3(mul(mul(r, s2), r)));
    return meanTerm(m1, m2) + trace(s1) + trace(s2) - 2 * traceRoot;
  }

  private static void assertMatrixEquals(double[][] expected, RealMatrix actual, double tolerance) {
    assertEquals(expected.length, actual.getRowDimension());
    for (int i = 0; i < expected.length; i++) {
      assertArrayEquals(expected[i], actual.getRow(i), tolerance, "row " + i);
    }
  }

  @Test
  void referencesAreSelfConsistent() {
    // the covariances do not commute, so a formula that treats them as if they did is caught
    double[][] p = mul(S1, S2);
    double[][] q = mul(S2, S1);
    assertEquals(0.9, Math.abs(p[0][1] - q[0][1]), 1e-12, "S1 S2 - S2 S1 (they must differ)");
    // closed-form 2x2 root squares back
    double[][] r = sqrt2x2(S1);
    assertArrayEquals(S1[0], mul(r, r)[0], 1e-12);
    assertArrayEquals(S1[1], mul(r, r)[1], 1e-12);
    // tr((S1^1/2 S2 S1^1/2)^1/2) is the sum of the square roots of the eigenvalues of S1 S2, which for 2x2 is
    // sqrt(tr(S1 S2) + 2 sqrt(det S1 det S2)): a second closed form
    double viaProduct = Math.sqrt(trace(p) + 2 * Math.sqrt(det2(S1) * det2(S2)));
    assertEquals(viaProduct, trace(sqrt2x2(mul(mul(r, S2), r))), 1e-12);
    // the generated samples have exactly the means and covariances asked for (n - 1 divisor)
    double[] mu = {1, -2};
    double[][] x = samplesWith(mu, S1);
    assertArrayEquals(mu, sampleMean(x), 1e-12);
    assertArrayEquals(S1[0], sampleCovariance(x)[0], 1e-12);
    assertArrayEquals(S1[1], sampleCovariance(x)[1], 1e-12);
    // Denman-Beavers agrees with the closed form on a 2x2 block embedded in 3x3
    double[][] block = {{4, 1.5, 0}, {1.5, 1, 0}, {0, 0, 9}};
    double[][] root = sqrt3x3(block);
    assertArrayEquals(new double[] {r[0][0], r[0][1], 0}, root[0], 1e-12);
    assertArrayEquals(new double[] {r[1][0], r[1][1], 0}, root[1], 1e-12);
    assertArrayEquals(new double[] {0, 0, 3}, root[2], 1e-12);
  }

  @Test
  void frechetDistanceWithCorrelatedNonCommutingCovariances2d() {
    double[] mu1 = {1, -2};
    double[] mu2 = {-0.5, 0.25};
    double[][] a = samplesWith(mu1, S1);
    double[][] b = samplesWith(mu2, S2);
    double expected = frechet2(mu1, S1, mu2, S2);
    // by hand: |mu1 - mu2|^2 = 2.25 + 5.0625; tr S1 + tr S2 = 8; tr S1 S2 = 4 - 1.2 - 1.2 + 2 = 3.6,
    // det S1 = 1.75, det S2 = 1.36, so the trace of the root is sqrt(3.6 + 2 sqrt(2.38))
    assertEquals(7.3125 + 8 - 2 * Math.sqrt(3.6 + 2 * Math.sqrt(2.38)), expected, 1e-12);
    assertEquals(expected, Metrics.frechetDistance(a, b), 1e-9);
    assertEquals(expected, Metrics.frechetDistance(b, a), 1e-9, "symmetric in its arguments");
    // same means: only the covariance term remains
    double sameMeans = frechet2(mu1, S1, mu1, S2);
    assertEquals(sameMeans, Metrics.frechetDistance(a, samplesWith(mu1, S2)), 1e-9);
    assertTrue(sameMeans > 1, "the covariance term is not negligible: " + sameMeans);
    assertEquals(0, Metrics.frechetDistance(a, a), 1e-9);
  }

  @Test
  void frechetDistanceWithCorrelatedCovariances3d() {
    double[][] s1 = {{3, 1.2, -0.7}, {1.2, 2, 0.5}, {-0.7, 0.5, 1.5}};
    double[][] s2 = {{1, 0.6, 0.3}, {0.6, 2.5, -1.1}, {0.3, -1.1, 2}};
    double[] mu1 = {0.5, 1, -1};
    double[] mu2 = {0, 2, 1};
    double[][] a = samplesWith(mu1, s1);
    double[][] b = samplesWith(mu2, s2);
    double[][] check = sampleCovariance(a);
    for (int i = 0; i < 3; i++) {
      assertArrayEquals(s1[i], check[i], 1e-12);
    }
    double expected = frechet3(mu1, s1, mu2, s2);
    assertEquals(expected, Metrics.frechetDistance(a, b), 1e-9);
    assertEquals(expected, Metrics.frechetDistance(b, a), 1e-9);
    double sameMeans = frechet3(mu1, s1, mu1, s2);
    assertEquals(sameMeans, Metrics.frechetDistance(a, samplesWith(mu1, s2)), 1e-9);
  }

  @Test
  void frechetDistanceOfRandomCorrelatedSamplesUsesTheUnbiasedCovariance() {
    // ordinary data (not constructed to have round moments): the reference uses the n - 1 sample covariance
    java.util.Random random = new java.util.Random(7);
    double[][] a = new double[40][2];
    double[][] b = new double[25][2];
    for (double[] row : a) {
      double u = random.nextGaussian();
      double v = random.nextGaussian();
      row[0] = 2 * u + 1;
      row[1] = 1.5 * u + 0.5 * v - 1;         // strongly correlated with row[0]
    }
    for (double[] row : b) {
      double u = random.nextGaussian();
      double v = random.nextGaussian();
      row[0] = 0.3 * u - 0.9 * v;
      row[1] = 1.4 * v + 0.5;                 // anti-correlated, other axes
    }
    double expected = frechet2(sampleMean(a), sampleCovariance(a), sampleMean(b), sampleCovariance(b));
    assertEquals(expected, Metrics.frechetDistance(a, b), 1e-9);
  }

  @Test
  void sqrtSymmetricOfCorrelatedMatrices() {
    RealMatrix r = Metrics.sqrtSymmetric(new Array2DRowRealMatrix(S1));
    assertMatrixEquals(S1, r.multiply(r), 1e-12);
    assertMatrixEquals(sqrt2x2(S1), r, 1e-12);              // the principal (positive-definite) root
    assertMatrixEquals(sqrt2x2(S1), r.transpose(), 1e-12);  // symmetric
    double[][] m3 = {{3, 1.2, -0.7}, {1.2, 2, 0.5}, {-0.7, 0.5, 1.5}};
    RealMatrix r3 = Metrics.sqrtSymmetric(new Array2DRowRealMatrix(m3));
    assertMatrixEquals(m3, r3.multiply(r3), 1e-12);
    assertMatrixEquals(sqrt3x3(m3), r3, 1e-12);
  }
}
