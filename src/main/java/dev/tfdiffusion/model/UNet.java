package dev.tfdiffusion.model;

import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.family.TFloating;

/**
 * The tutorial's U-Net, block for block and with its block names: a sinusoidal time embedding and MLP, four residual
 * encoder blocks (self-attention after the third and fourth) each followed by a per-scale time projection, a bridge
 * with attention, a decoder with nearest-neighbour upsampling and concatenated skips, and a final norm + conv.
 * A conditional model (not in the tutorial) adds a learned class embedding to the time embedding, so that every
 * block's time projection carries the class (classifier-free guidance, Ho and Salimans 2022): its last row,
 * {@link #noClass()}, stands for "no class".
 *
 * @param features base width (the tutorial's {@code features}); block widths are 1, 2, 4, 8, 16 times it
 * @param channels of the images in and of the noise prediction out (1 gray, 3 colour)
 * @param classes of a conditional model; 0 for an unconditional one
 */
public record UNet(int features, int timeEmbedding, int height, int width, int channels, int classes) {
  /** The class embedding's block name. */
  public static final String CLASS_EMBEDDING = "class_embedding";

  /** The tutorial's model: unconditional, one channel. */
  public static UNet forImages(int features, int timeEmbedding, int height, int width) {
    return new UNet(features, timeEmbedding, height, width, 1, 0);
  }

  /** The model a config describes for images of this size and channel count. */
  public static UNet of(dev.tfdiffusion.config.TrainConfig config, int height, int width, int channels) {
    if (config.conditional() && config.classes() < 1) {
      throw new IllegalArgumentException("a conditional config needs its class count resolved from the data");
    }
    return new UNet(config.features(), config.timeEmbedding(), height, width, channels,
        config.conditional() ? config.classes() : 0);
  }

  public boolean conditional() {
    return classes > 0;
  }

  /** The label meaning "no class": the embedding's last row. */
  public int noClass() {
    return classes;
  }

  /** eps_hat = model(x, t) of an unconditional model. */
  public <T extends TFloating> Operand<T> apply(Layers<T> l, Operand<T> x, Operand<TInt32> t) {
    return apply(l, x, t, null);
  }

  /**
   * eps_hat = model(x, t, c) for NHWC images {@code x}, integer timesteps {@code t} and class labels {@code c} (0 ..
   * classes, the last meaning no class); an unconditional model ignores the labels.
   */
  public <T extends TFloating> Operand<T> apply(Layers<T> l, Operand<T> x, Operand<TInt32> t,
                                                Operand<TInt32> labels) {
    long f = features;

    Operand<T> tEmb = l.in("time_embedding").positionalEncoding(t, timeEmbedding);
    tEmb = l.dense("time_mlp_1", tEmb, timeEmbedding);
    tEmb = l.gelu(tEmb);
    tEmb = l.dense("time_mlp_2", tEmb, timeEmbedding);
    if (conditional()) {
      if (labels == null) {
        throw new IllegalArgumentException("a conditional model needs labels");
      }
      tEmb = l.tf().math.add(tEmb, l.embedding(CLASS_EMBEDDING, labels, classes + 1, timeEmbedding));
    }

    Operand<T> d1 = l.residualBlock("down_conv1", x, f);
    d1 = addTime(l, "time_proj1", d1, tEmb);

    Operand<T> d2 = l.residualBlock("down_conv2", l.maxPool2x2(d1), 2 * f);
    d2 = addTime(l, "time_proj2", d2, tEmb);

    Operand<T> d3 = l.residualBlock("down_conv3", l.maxPool2x2(d2), 4 * f);
    d3 = l.attention("attention1", d3);
    d3 = addTime(l, "time_proj3", d3, tEmb);

    Operand<T> d4 = l.residualBlock("down_conv4", l.maxPool2x2(d3), 8 * f);
    d4 = l.attention("attention2", d4);
    d4 = addTime(l, "time_proj4", d4, tEmb);

    Operand<T> b = l.residualBlock("bridge_down", l.maxPool2x2(d4), 16 * f);
    b = l.attention("bridge_attention", b);
    b = l.residualBlock("bridge_up", b, 16 * f);

    Operand<T> u4 = l.residualBlock("up_conv4", skip(l, b, d4), 8 * f);
    Operand<T> u3 = l.residualBlock("up_conv3", skip(l, u4, d3), 4 * f);
    Operand<T> u2 = l.residualBlock("up_conv2", skip(l, u3, d2), 2 * f);
    Operand<T> u1 = l.residualBlock("up_conv1", skip(l, u2, d1), f);

    Operand<T> out = l.gelu(l.layerNorm("final_norm", u1));
    return l.conv("final_conv", out, channels, 3);
  }

  /** d + time_proj(t_emb)[:, None, None, :]. */
  private static <T extends TFloating> Operand<T> addTime(Layers<T> l, String name, Operand<T> d, Operand<T> tEmb) {
    long c = d.shape().get(3);
    Ops tf = l.tf();
    Operand<T> proj = l.dense(name, tEmb, c);
    return tf.math.add(d, tf.reshape(proj, tf.constant(new long[] {-1, 1, 1, c})));
  }

  /** concatenate([upsample(x, size of skip), skip], axis=-1). */
  private static <T extends TFloating> Operand<T> skip(Layers<T> l, Operand<T> x, Operand<T> skip) {
    Operand<T> up = l.upsample(x, skip.shape().get(1), skip.shape().get(2));
    return l.tf().concat(List.of(up, skip), l.tf().constant(-1));
  }
}
