package dev.tfdiffusion.cli;

import java.util.LinkedHashMap;
import java.util.Map;
import org.tensorflow.TensorFlow;
import picocli.CommandLine.IVersionProvider;

/** The project's and TensorFlow's versions, for {@code --version} and each run's {@code config.json}. */
public final class Versions implements IVersionProvider {

  public static String project() {
    String v = Main.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }

  public static Map<String, String> all() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("tf-diffusion-version", project());
    m.put("tensorflow-version", TensorFlow.version());
    return m;
  }

  @Override
  public String[] getVersion() {
    return new String[] {"tf-diffusion " + project() + " (TensorFlow " + TensorFlow.version() + ")"};
  }
}
