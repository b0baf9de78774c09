package dev.tfdiffusion.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A folder replaced whole: readers find the old or the new one at every moment, complete, never nothing. */
class FoldersTest {
  @TempDir
  Path dir;

  @Test
  void replacedFolderIsNeverMissing() throws Exception {
    Path target = dir.resolve("model");
    Files.createDirectories(target);
    Files.writeString(target.resolve("a"), "0");
    Files.writeString(target.resolve("b"), "0");
    AtomicBoolean done = new AtomicBoolean();
    AtomicInteger missing = new AtomicInteger();
    AtomicInteger reads = new AtomicInteger();
    Thread reader = new Thread(() -> {
      while (!done.get()) {
        try {
          Files.readString(target.resolve("a"));
          reads.incrementAndGet();
        } catch (java.io.IOException e) {
          missing.incrementAndGet();
        }
      }
    });
    reader.start();
    for (int generation = 1; generation <= 300; generation++) {
      Path fresh = dir.resolve(".model.tmp");
      Files.createDirectories(fresh);
      Files.writeString(fresh.resolve("a"), Integer.toString(generation));
      Files.writeString(fresh.resolve("b"), Integer.toString(generation));
      Object before = Folders.identity(target).orElseThrow();
      Folders.replace(fresh, target, dir.resolve(".model.old"));
      assertNotEquals(before, Folders.identity(target).orElseThrow(), "a replaced folder has a new identity");
      assertEquals(Integer.toString(generation), Files.readString(target.resolve("a")));
    }
    done.set(true);
    reader.join();
    assertEquals(0, missing.get(), "reads that found no folder, out of " + reads.get());
    assertFalse(Files.exists(dir.resolve(".model.tmp")));
    assertFalse(Files.exists(dir.resolve(".model.old")));
  }
}
