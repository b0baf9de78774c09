package dev.tfdiffusion.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfdiffusion.cli.TrainCommand;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class TrainConfigTest {

  @Test
  void tutorialPresetIsTheTutorial() {
    TrainConfig t = Presets.tutorial().validate();
    assertEquals(64, t.features());
    assertEquals(5000, t.steps());
    assertEquals(1000, t.warmupSteps());
    assertEquals(1e-4, t.lr());
    assertEquals(42, t.seed());
    assertEquals(0, t.batchSize());
    assertEquals(2e-5, t.weightDecay());
    assertEquals(0.3, t.clipValue());
    assertEquals(0.5, t.clipNorm());
    assertEquals(0.02, t.penaltyWeight());
    assertEquals("1", t.digit());
  }

  @Test
  void quickPresetIsTheTutorialWithFiveChanges() {
    Map<String, Object> quick = Presets.quick().validate().fields();
    Map<String, Object> tutorial = Presets.tutorial().fields();
    Map<String, Object> changed = new java.util.TreeMap<>();
    quick.forEach((k, v) -> {
      if (!java.util.Objects.equals(v, tutorial.get(k))) {
        changed.put(k, v);
      }
    });
    assertEquals(new java.util.TreeMap<>(Map.of("preset", "quick", "features", 16, "steps", 2000, "lr", 1e-3,
        "warmup-steps", 200, "checkpoint-every", 500)), changed);
  }

  @Test
  void jsonRoundTripsEveryField() {
    for (TrainConfig c : Presets.all().values()) {
      String json = c.toJson(Map.of("tf-diffusion-version", "x", "tensorflow-version", "y"));
      assertEquals(c, TrainConfig.fromJson(json, "test"));
    }
  }

  @Test
  void everyFieldIsATrainFlag() {
    Set<String> flags = new CommandLine(new TrainCommand()).getCommandSpec().options().stream()
        .flatMap(o -> java.util.Arrays.stream(o.names())).map(n -> n.substring(2)).collect(Collectors.toSet());
    List<String> keys = TrainConfig.keys();
    for (String key : keys) {
      assertTrue(flags.contains(key), "config field " + key + " has no --" + key + " flag");
    }
    assertEquals(35, keys.size());
  }

  @Test
  void overridesReplaceNamedFields() {
    TrainConfig c = Presets.quick().with(Map.of("features", 8, "digit", "all"));
    assertEquals(8, c.features());
    assertEquals(-1, c.digitLabel());
    assertEquals(Presets.quick().steps(), c.steps());
  }
}
