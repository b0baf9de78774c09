package dev.tfdiffusion.util;

import com.sun.jna.Library;
import com.sun.jna.Native;

/** The few libc calls Java lacks (its environment is read-only), through JNA. */
public interface LibC extends Library {
  static LibC load() {
    return Native.load("c", LibC.class);
  }

  int setenv(String name, String value, int overwrite);

  int dup(int fd);

  int dup2(int from, int to);

  int pipe(int[] fds);

  int close(int fd);
}
