package dev.tfdiffusion.train;

/**
 * The finite-difference check of both loss terms on 5x5 images: max pooling pads 5 -> 3 -> 2 (SAME), and the decoder
 * upsamples 2 -> 3 -> 5 by gathering rows and columns (the paths 28x28 MNIST takes), all differentiated twice.
 */
class OddSizeLossGradientTest extends LossGradientTest {
  @Override
  int size() {
    return 5;
  }
}
