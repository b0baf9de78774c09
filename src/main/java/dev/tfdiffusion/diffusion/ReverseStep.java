package dev.tfdiffusion.diffusion;

import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

/**
 * One step of a reverse process, x_t -> x_{t_prev}, as {@link SamplerLoop} runs it inside its loop body. DDPM and DDIM
 * both have this shape (see {@link GaussianDiffusion#ddpm()} and {@link GaussianDiffusion#ddim}).
 */
public interface ReverseStep {
  /**
   * Tensors of the outer graph the step reads (DDIM's eta). A loop body cannot capture outer tensors, so the loop
   * carries these as loop variables and hands the body's copies to {@link #apply}.
   */
  List<Operand<?>> inputs();

  /**
   * @param inputs the body's copies of {@link #inputs()}, in the same order
   * @param t the current timestep (scalar)
   * @param tPrev the timestep the step goes to, -1 after the last one
   * @param eps the model's noise prediction eps_hat(x_t, t)
   * @param z fresh standard normal noise of x's shape
   * @return x_{t_prev}
   */
  Operand<TFloat32> apply(Ops f, List<Operand<?>> inputs, Operand<TFloat32> x, Operand<TInt32> t,
                          Operand<TInt32> tPrev, Operand<TFloat32> eps, Operand<TFloat32> z);
}
