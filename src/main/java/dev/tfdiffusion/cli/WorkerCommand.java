package dev.tfdiffusion.cli;

import dev.tfdiffusion.distributed.Cluster;
import dev.tfdiffusion.distributed.WorkerServer;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code worker}: one task of a training cluster, running the towers a chief ({@code train --workers}) puts on it. */
@Command(name = "worker", mixinStandardHelpOptions = true,
    description = {"Starts TensorFlow's gRPC server for task I of job 'worker' and serves until it is stopped "
        + "(SIGTERM or Ctrl-C end it with exit code 0). It prints 'worker I listening on HOST:PORT' once it accepts "
        + "connections."})
public final class WorkerCommand implements Callable<Integer> {
  @Option(names = "--cluster", required = true, paramLabel = "H0:P0,H1:P1,...",
      description = "Every worker task's address, in task order (the same list the chief gets as --workers).")
  String cluster;

  @Option(names = "--task", required = true, paramLabel = "I", description = "This worker's task index, from 0.")
  int task;

  @Mixin
  CommonOptions.Verbose verbose;

  @Override
  public Integer call() {
    Cluster parsed = Cluster.parse("--cluster", cluster);
    WorkerServer server = WorkerServer.start(parsed, task, Duration.ofSeconds(60));
    // a stopped worker has done its job: SIGTERM and Ctrl-C end it with 0, not 143/130
    Runtime.getRuntime().addShutdownHook(new Thread(() -> Runtime.getRuntime().halt(0), "worker-exit"));
    System.out.println("worker " + task + " listening on " + server.address());
    System.out.flush();
    server.join();
    return 0;
  }
}
