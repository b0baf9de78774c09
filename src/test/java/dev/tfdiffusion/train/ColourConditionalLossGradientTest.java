package dev.tfdiffusion.train;

/**
 * The finite-difference check of both loss terms for a conditional model of colour images: 3 channels in and out on
 * 5x5 images, with the class embedding among the weights checked (its gradient reaches the penalty through the time
 * projections, differentiated twice). 5x5, as 4x4 would leave the first attention a single token, whose query gets
 * no gradient.
 */
class ColourConditionalLossGradientTest extends LossGradientTest {
  @Override
  int size() {
    return 5;
  }

  @Override
  int channels() {
    return 3;
  }

  @Override
  int classes() {
    return 2;
  }
}
