package dev.tfdiffusion.cli;

import dev.tfdiffusion.UserError;
import dev.tfdiffusion.config.TrainConfig;
import dev.tfdiffusion.data.Images;
import dev.tfdiffusion.distributed.Chief;
import dev.tfdiffusion.distributed.Cluster;
import dev.tfdiffusion.train.Placement;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * {@code train}'s options for where the training step runs (a picocli mixin): one device, data-parallel towers on N
 * devices, or towers on worker processes with this process as the chief. None of them is a hyperparameter: a
 * checkpoint resumes under any of them.
 */
final class Parallelism {
  private static final int DEFAULT_CONNECT_TIMEOUT_S = 60;

  @Option(names = "--devices", paramLabel = "N|auto", converter = DeviceCount.class,
      description = "Split each step's batch over N devices (data-parallel towers whose gradients are summed): "
          + "GPUs 0..N-1 when TensorFlow sees them, else N virtual CPU devices (for testing: they share the CPU). "
          + "auto: every GPU, or 1 without GPUs (default: auto). A checkpoint resumes on any number of devices.")
  int devices;

  @Option(names = "--workers", paramLabel = "H0:P0,H1:P1,...",
      description = "Train on these worker tasks (each started with 'worker --cluster <the same list> --task I'): "
          + "tower i runs on worker i, while this process, the chief, holds the weights and the optimizer and writes "
          + "every file. Not with --devices.")
  String workers;

  @Option(names = "--chief", paramLabel = "HOST:PORT",
      description = "Address of this process's TensorFlow server, which the workers must reach (with --workers; "
          + "default: this host's name and a free port).")
  String chief;

  @Option(names = "--connect-timeout", paramLabel = "S",
      description = "Seconds to wait for every worker to answer before giving up (with --workers; default: "
          + DEFAULT_CONNECT_TIMEOUT_S + ").")
  Integer connectTimeout;

  /** As {@link #placement(TrainConfig, Images.Split, Placement.Recovery)}, giving up on the first worker fault. */
  Placement placement(TrainConfig config, Images.Split data) {
    return placement(config, data, new Placement.Recovery(null, Duration.ZERO));
  }

  /** Whether the towers run on worker processes. */
  boolean onWorkers() {
    return workers != null;
  }

  /**
   * The towers' devices (each needs at least one image of the step's batch); with --workers, the chief started,
   * handling worker faults as {@code recovery} says.
   */
  Placement placement(TrainConfig config, Images.Split data, Placement.Recovery recovery) {
    if (workers == null) {
      if (chief != null || connectTimeout != null) {
        throw UserError.usage((chief != null ? "--chief" : "--connect-timeout") + " applies to training on "
            + "workers; add --workers or drop it.");
      }
      if (devices == 1) {
        return Placement.SINGLE;
      }
    } else if (devices > 1) {
      throw UserError.usage("Give --devices or --workers, not both.");
    }
    int batch = config.batchSize() == 0 ? data.train().count() : config.batchSize();
    if (workers == null) {
      int gpus = (int) Devices.list().stream().filter(d -> d.type().equals("GPU")).count();
      Placement placement = Placement.of(devices, gpus);
      if (placement.devices() > batch) {
        throw UserError.usage("--devices " + placement.devices() + " is more than the " + batch + " images of a "
            + "step; use at most " + batch + ".");
      }
      return placement;
    }
    int timeout = connectTimeout == null ? DEFAULT_CONNECT_TIMEOUT_S : connectTimeout;
    if (timeout < 1) {
      throw UserError.usage("--connect-timeout must be at least 1 second, got " + timeout + ".");
    }
    Cluster cluster = Cluster.parse("--workers", workers);
    if (cluster.workers().size() > batch) {
      throw UserError.usage("--workers lists " + cluster.workers().size() + " workers, more than the " + batch
          + " images of a step; use at most " + batch + ".");
    }
    Cluster.Address address = chief != null ? chiefAddress() : localAddress();
    return Chief.start(address, cluster, Duration.ofSeconds(timeout)).placement(recovery);
  }

  private Cluster.Address chiefAddress() {
    Cluster parsed = Cluster.parse("--chief", chief);
    if (parsed.workers().size() != 1) {
      throw UserError.usage("--chief takes one host:port, got '" + chief + "'.");
    }
    return parsed.workers().get(0);
  }

  /** This host's name and a free port, for the chief's server. */
  private static Cluster.Address localAddress() {
    try (ServerSocket s = new ServerSocket(0)) {
      return new Cluster.Address(InetAddress.getLocalHost().getHostName(), s.getLocalPort());
    } catch (IOException e) {
      throw new UserError("Cannot find a free port for the chief's TensorFlow server: " + e.getMessage() + ".");
    }
  }

  /** {@code --devices}: a positive number, or auto (0). */
  static final class DeviceCount implements CommandLine.ITypeConverter<Integer> {
    @Override
    public Integer convert(String value) {
      if (value.equals("auto")) {
        return 0;
      }
      int n = (int) Numbers.whole(value, Integer.MIN_VALUE, Integer.MAX_VALUE);
      if (n < 1) {
        throw new CommandLine.TypeConversionException("expected a positive number or auto, got '" + value + "'.");
      }
      return n;
    }
  }
}
