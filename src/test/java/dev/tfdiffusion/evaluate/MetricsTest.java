package dev.tfdiffusion.evaluate;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
}
