package dev.tfdiffusion.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class ModelSummaryTest {

  /** conv3x3 + norm + conv3x3 + norm + 1x1 shortcut, each with bias. */
  private static long residual(long in, long out) {
    return (9 * in * out + out) + 2 * out + (9 * out * out + out) + 2 * out + (in * out + out);
  }

  private static long attention(long c) {
    return 3 * (c * c + c);
  }

  @Test
  void tutorialWidthHasTheTutorialsParameterCount() {
    // Flax's nnx.state(model) count for UNet(1, 1, features=64): 57,355,137 (shared/reference/README.md)
    assertEquals(57_355_137L, ModelSummary.of(64, 128, 8, 8).totalParameters());
  }

  @Test
  void blocksCountWhatTheTutorialDeclares() {
    long f = 4;
    ModelSummary s = ModelSummary.of((int) f, 128, 8, 8);
    Map<String, Long> p = s.rows().stream().collect(Collectors.toMap(ModelSummary.Row::block,
        ModelSummary.Row::parameters));
    assertEquals(128 * 128 + 128, p.get("time_mlp_1"));
    assertEquals(128 * f + f, p.get("time_proj1"));
    assertEquals(residual(1, f), p.get("down_conv1"));
    assertEquals(residual(8 * f, 16 * f), p.get("bridge_down"));
    assertEquals(residual(24 * f, 8 * f), p.get("up_conv4"));
    assertEquals(attention(16 * f), p.get("bridge_attention"));
    assertEquals(2 * f, p.get("final_norm"));
    assertEquals(9 * f + 1, p.get("final_conv"));
    assertEquals(s.totalParameters(), p.values().stream().mapToLong(Long::longValue).sum());
    Map<String, String> shapes = s.rows().stream().collect(Collectors.toMap(ModelSummary.Row::block,
        ModelSummary.Row::outputShape));
    assertEquals("(None, 2, 2, 16)", shapes.get("attention1"));
    assertEquals("(None, 1, 1, 64)", shapes.get("bridge_up"));
    assertEquals("(None, 8, 8, 1)", shapes.get("final_conv"));
  }

  @Test
  void aConditionalColourModelAddsItsClassEmbeddingAndThreeChannels() {
    long f = 4;
    ModelSummary gray = ModelSummary.of((int) f, 128, 8, 8);
    ModelSummary s = ModelSummary.of(new UNet((int) f, 128, 8, 8, 3, 10));
    Map<String, Long> p = s.rows().stream().collect(Collectors.toMap(ModelSummary.Row::block,
        ModelSummary.Row::parameters));
    assertEquals(11 * 128, p.get(UNet.CLASS_EMBEDDING), "ten classes and 'no class', one 128-vector each");
    assertEquals(residual(3, f), p.get("down_conv1"));
    assertEquals(9 * f * 3 + 3, p.get("final_conv"));
    assertEquals(gray.totalParameters() + 11 * 128 + (residual(3, f) - residual(1, f)) + (9 * f * 2 + 2),
        s.totalParameters());
    Map<String, String> shapes = s.rows().stream().collect(Collectors.toMap(ModelSummary.Row::block,
        ModelSummary.Row::outputShape));
    assertEquals("(None, 128)", shapes.get(UNet.CLASS_EMBEDDING));
    assertEquals("(None, 8, 8, 3)", shapes.get("final_conv"));
    assertEquals("U-Net, features 4, time embedding 128, input (None, 8, 8, 3), 10 classes (+ 1 for no class)",
        s.table().lines().findFirst().orElseThrow());
  }
}
