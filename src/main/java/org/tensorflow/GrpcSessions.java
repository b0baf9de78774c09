package org.tensorflow;

import static org.tensorflow.internal.c_api.global.tensorflow.TF_DeleteSessionOptions;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_NewSessionOptions;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_SetConfig;
import static org.tensorflow.internal.c_api.global.tensorflow.TF_SetTarget;

import org.bytedeco.javacpp.BytePointer;
import org.tensorflow.internal.c_api.TF_Session;
import org.tensorflow.internal.c_api.TF_SessionOptions;
import org.tensorflow.internal.c_api.TF_Status;
import org.tensorflow.proto.ConfigProto;

/**
 * Sessions on a TensorFlow server ({@code grpc://host:port}). TensorFlow Java 1.1.0 gives {@link Session} no target
 * (its public constructors pass none to the C API), so this class lives in {@code org.tensorflow} to reach the
 * package-private {@code Session(Graph, TF_Session)} that {@code SavedModelBundle} uses, and creates the native
 * session through the C API with the target set.
 */
public final class GrpcSessions {
  private GrpcSessions() {}

  /**
   * A session of {@code graph} on the server at {@code target} ({@code grpc://host:port}). Like every session it must
   * be closed before its graph; unlike {@code new Session(graph)} it does not initialise variables by itself.
   */
  public static Session open(Graph graph, String target, ConfigProto config) {
    return open(graph, target, config, false);
  }

  /**
   * As {@link #open(Graph, String, ConfigProto)}, for a server whose variables an earlier session of the same graph
   * initialised and shares ({@code share_session_state_in_clusterspec_propagation}): the new session must not run
   * the initializers again, and Java's session would otherwise refuse every run until it has.
   */
  public static Session reopen(Graph graph, String target, ConfigProto config) {
    return open(graph, target, config, true);
  }

  private static Session open(Graph graph, String target, ConfigProto config, boolean initialized) {
    if (!target.startsWith("grpc://")) {
      throw new IllegalArgumentException("a TensorFlow server target starts with grpc://, got " + target);
    }
    TF_SessionOptions options = TF_NewSessionOptions();
    try (Graph.Reference ref = graph.ref(); TF_Status status = TF_Status.newStatus()) {
      TF_SetTarget(options, target);
      byte[] bytes = config.toByteArray();
      try (BytePointer pointer = new BytePointer(bytes)) {
        TF_SetConfig(options, pointer, bytes.length, status);
      }
      status.throwExceptionIfNotOK();
      TF_Session session = TF_Session.newSession(ref.nativeHandle(), options, status);
      status.throwExceptionIfNotOK();
      Session opened = new Session(graph, session);
      if (initialized) {
        opened.markAllInitializersAsRan();
      }
      return opened;
    } finally {
      TF_DeleteSessionOptions(options);
    }
  }
}
