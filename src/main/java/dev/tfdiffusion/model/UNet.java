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
 *
 * @param features base width (the tutorial's {@code features}); block widths are 1, 2, 4, 8, 16 times it
 */
public record UNet(int features, int timeEmbedding, int height, int width, int inChannels, int outChannels) {

  public static UNet forImages(int features, int timeEmbedding, int height, int width) {
    return new UNet(features, timeEmbedding, height, width, 1, 1);
  }

  /** eps_hat = model(x, t) for NHWC images {@code x} and integer timesteps {@code t}. */
  public <T extends TFloating> Operand<T> apply(Layers<T> l, Operand<T> x, Operand<TInt32> t) {
    long f = features;

    Operand<T> tEmb = l.in("time_embedding").positionalEncoding(t, timeEmbedding);
    tEmb = l.dense("time_mlp_1", tEmb, timeEmbedding);
    tEmb = l.gelu(tEmb);
    tEmb = l.dense("time_mlp_2", tEmb, timeEmbedding);

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
    return l.conv("final_conv", out, outChannels, 3);
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
