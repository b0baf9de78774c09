package dev.tfdiffusion.cli;

import java.util.concurrent.Callable;
import org.tensorflow.TensorFlow;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code devices}: what TensorFlow can run on. */
@Command(name = "devices", mixinStandardHelpOptions = true,
    description = "Lists the devices TensorFlow sees (the tutorial's jax.devices()).")
public final class DevicesCommand implements Callable<Integer> {
  @Mixin
  CommonOptions.Verbose verbose;

  @Override
  public Integer call() {
    System.out.println("TensorFlow " + TensorFlow.version());
    for (Devices.Device d : Devices.list()) {
      System.out.printf("%-4s %s  (%,d MB)%n", d.type(), d.name(), d.memoryBytes() >> 20);
    }
    return 0;
  }
}
