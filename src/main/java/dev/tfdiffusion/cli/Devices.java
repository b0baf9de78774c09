package dev.tfdiffusion.cli;

import static org.tensorflow.internal.c_api.global.tensorflow.TF_CloseSession;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeleteDeviceList;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeleteGraph;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeleteSession;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeleteSessionOptions;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeviceListCount;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeviceListMemoryBytes;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeviceListName;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeviceListType;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_NewGraph;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_NewSession;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_NewSessionOptions;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_SessionListDevices;

import java.util.ArrayList;
import java.util.List;
import org.tensorflow.TensorFlow;
import org.tensorflow.internal.c_api.TF_DeviceList;
import org.tensorflow.internal.c_api.TF_Graph;
import org.tensorflow.internal.c_api.TF_Session;
import org.tensorflow.internal.c_api.TF_SessionOptions;
import org.tensorflow.internal.c_api.TF_Status;

/** The devices a TensorFlow session sees (the tutorial's {@code jax.devices()}), from the C API. */
public final class Devices {
  /** One device: its full name, type (CPU, GPU) and memory limit in bytes. */
  public record Device(String name, String type, long memoryBytes) {}

  private Devices() {}

  public static List<Device> list() {
    TensorFlow.version(); // loads the native library
    TF_Status status = TF_Status.newStatus();
    TF_Graph graph = TF_NewGraph();
    TF_SessionOptions options = TF_NewSessionOptions();
    TF_Session session = TF_NewSession(graph, options, status);
    status.throwExceptionIfNotOK();
    try {
      TF_DeviceList devices = TF_SessionListDevices(session, status);
      status.throwExceptionIfNotOK();
      try {
        List<Device> out = new ArrayList<>();
        for (int i = 0; i < TF_DeviceListCount(devices); i++) {
          String name = TF_DeviceListName(devices, i, status).getString();
          String type = TF_DeviceListType(devices, i, status).getString();
          long memory = TF_DeviceListMemoryBytes(devices, i, status);
          status.throwExceptionIfNotOK();
          out.add(new Device(name, type, memory));
        }
        return out;
      } finally {
        TF_DeleteDeviceList(devices);
      }
    } finally {
      TF_CloseSession(session, status);
      TF_DeleteSession(session, status);
      TF_DeleteSessionOptions(options);
      TF_DeleteGraph(graph);
    }
  }
}
