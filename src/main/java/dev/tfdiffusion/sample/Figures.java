package dev.tfdiffusion.sample;

import dev.tfdiffusion.plot.AnimatedGif;
import dev.tfdiffusion.plot.ImageGrid;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The tutorial's figures, made honest: reconstructions from t = T-1 with both samplers, the forward process next to
 * REAL states of the reverse process (the tutorial interpolates), and an animation of the reverse process.
 */
public final class Figures {
  private static final int PANELS = 9;

  private Figures() {}

  /**
   * The tutorial's second figure: test images (top), noised to t = T-1 and sampled back with the trained schedule
   * (middle) and with the tutorial's linear-schedule sampler (bottom). A conditional model is asked for each image's
   * label ({@code testLabels}) with the default guidance.
   */
  public static void reconstruct(SavedModelSampler model, Path png, float[] testImages, int[] testLabels, int steps,
                                 long seed) throws IOException {
    int pixels = model.pixelsPerImage();
    int n = Math.min(PANELS, testImages.length / pixels);
    float[] x0 = Arrays.copyOf(testImages, n * pixels);
    int[] t = new int[n];
    Arrays.fill(t, steps - 1);
    SavedModelSampler.Condition condition = model.guidedTo(Arrays.copyOf(testLabels, n));
    float[] noisy = model.forwardNoise(x0, t, seed);
    float[] trained = model.sample(Sampler.DDPM, noisy, seed + 1, condition);
    float[] tutorial = model.sample(Sampler.TUTORIAL, noisy, seed + 1, condition);
    List<float[]> cells = new ArrayList<>();
    List<String> labels = new ArrayList<>();
    String[] rows = {"original", "trained", "tutorial"};
    float[][] data = {x0, trained, tutorial};
    for (int r = 0; r < 3; r++) {
      cells.addAll(SampleFiles.split(data[r], pixels));
      for (int i = 0; i < n; i++) {
        labels.add(i == 0 ? rows[r] : "");
      }
    }
    ImageGrid.write(png, cells, model.height(), model.width(), model.channels(), n, 64, labels);
  }

  /**
   * Nine forward steps of one image at t = linspace(0, T-1, 9) (top) and the reverse process from the last of them:
   * the states entering t = T-1 .. 125 and the final image (bottom), all real states of one sampler run (a
   * conditional model's asked for the image's {@code label}).
   */
  public static void forwardReverse(SavedModelSampler model, Path png, float[] image, int label, int steps,
                                    long seed) throws IOException {
    int pixels = model.pixelsPerImage();
    float[] repeated = new float[PANELS * pixels];
    int[] t = new int[PANELS];
    for (int i = 0; i < PANELS; i++) {
      System.arraycopy(image, 0, repeated, i * pixels, pixels);
      t[i] = (int) ((double) (steps - 1) * i / (PANELS - 1)); // the tutorial's linspace(...).astype(int32)
    }
    float[] forward = model.forwardNoise(repeated, t, seed);
    float[] start = Arrays.copyOfRange(forward, (PANELS - 1) * pixels, PANELS * pixels);
    SavedModelSampler.Trajectory traj = model.trajectory(Sampler.DDPM, start, seed + 1, PANELS,
        model.guidedTo(new int[] {label}));
    List<float[]> cells = new ArrayList<>(SampleFiles.split(forward, pixels));
    List<String> labels = new ArrayList<>();
    for (int v : t) {
      labels.add("t=" + v);
    }
    List<float[]> states = SampleFiles.split(traj.states(), pixels);
    for (int k = 0; k < PANELS - 1; k++) {
      cells.add(states.get(k));
      labels.add("t=" + traj.timesteps()[k]);
    }
    cells.add(traj.images());
    labels.add("final");
    ImageGrid.write(png, cells, model.height(), model.width(), model.channels(), PANELS, 64, labels);
  }

  /**
   * An animated GIF of {@code sampler}'s reverse process for the images started from {@code noise}, guided to
   * {@code condition} (null for an unconditional model).
   */
  public static void reverseGif(SavedModelSampler model, Path gif, float[] noise, long seed, int frames,
                                Sampler sampler, SavedModelSampler.Condition condition) throws IOException {
    int pixels = model.pixelsPerImage();
    SavedModelSampler.Trajectory traj = model.trajectory(sampler, noise, seed, frames, condition);
    int n = noise.length / pixels;
    List<List<float[]>> grids = new ArrayList<>();
    List<String> captions = new ArrayList<>();
    for (int k = 0; k < frames; k++) {
      float[] frame = Arrays.copyOfRange(traj.states(), k * n * pixels, (k + 1) * n * pixels);
      grids.add(SampleFiles.split(frame, pixels));
      captions.add("t=" + traj.timesteps()[k]);
    }
    grids.add(SampleFiles.split(traj.images(), pixels));
    captions.add("final");
    AnimatedGif.write(gif, grids, captions, model.height(), model.width(), model.channels());
  }
}
