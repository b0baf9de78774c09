package dev.tfdiffusion.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tfdiffusion.config.Presets;
import dev.tfdiffusion.config.TrainConfig;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code train --help} quotes every default from the presets, where alone they are written. */
class TrainHelpTest {
  @Test
  void trainHelpQuotesEveryDefaultFromThePresets() {
    CommandLine train = new CommandLine(new Main()).getSubcommands().get("train");
    Hyperparameters.showPresetDefaults(train);
    String help = train.getUsageMessage(CommandLine.Help.Ansi.OFF).replaceAll("\\s+", " ");
    assertTrue(help.contains("--features=N U-Net base width (quick: 16, tutorial: 64, conditional: 16)."), help);
    assertTrue(help.contains("--clip-value=V Element-wise gradient clip (default: 0.3)."), help);
    assertTrue(help.contains("(default: off)."), help);
    for (String key : TrainConfig.keys()) {
      if (key.equals("preset") || key.equals("data")) {
        continue;
      }
      String text = String.join(" ", train.getCommandSpec().findOption(key).description());
      Object quick = Presets.quick().fields().get(key);
      assertTrue(text.matches(".*\\((default|quick): [^)]*\\)\\.$"), "--" + key + ": " + text);
      assertTrue(text.contains(quick instanceof Boolean b ? (b ? "on" : "off") : ""), text);
    }
  }

}
