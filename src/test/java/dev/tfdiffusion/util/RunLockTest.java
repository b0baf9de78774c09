package dev.tfdiffusion.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tfdiffusion.RunLayout;
import dev.tfdiffusion.UserError;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One writer per folder, within one process too; the lock file names its holder; released locks are free again. */
class RunLockTest {
  @TempDir
  Path dir;

  @Test
  void secondWriterIsRefusedAndTheHolderIsRecorded() throws Exception {
    Path run = dir.resolve("run");
    try (RunLock first = RunLock.acquire(run, "tf-diffusion train --out run")) {
      UserError e = assertThrows(UserError.class, () -> RunLock.acquire(run, "tf-diffusion train --resume run"));
      assertEquals(run + " is in use by this process; wait for it to end or stop it, then try again.", e.getMessage());
      assertEquals(1, e.exitCode());
      RunLock.Holder holder = new ObjectMapper().readValue(Files.readString(run.resolve(RunLayout.LOCK)),
          RunLock.Holder.class);
      assertEquals(ProcessHandle.current().pid(), holder.pid());
      assertEquals("tf-diffusion train --out run", holder.command());
      assertTrue(Instant.parse(holder.since()).isAfter(Instant.now().minusSeconds(60)));
      assertTrue(holder.describe().startsWith("pid " + holder.pid() + " on " + holder.host()
          + ", 'tf-diffusion train --out run', since 20"), holder.describe());
    }
    try (RunLock again = RunLock.acquire(run, "tf-diffusion train --resume run")) {
      assertTrue(Files.readString(run.resolve(RunLayout.LOCK)).contains("--resume"), "the new holder's details");
    }
  }

  @Test
  void sharedLocksAreCountedAndExcludeWriters() throws Exception {
    Path file = dir.resolve("x.lock");
    LockFile a = LockFile.tryShared(file).orElseThrow();
    LockFile b = LockFile.tryShared(file).orElseThrow();
    assertTrue(LockFile.tryExclusive(file).isEmpty());
    a.close();
    assertTrue(LockFile.tryExclusive(file).isEmpty(), "b still holds it");
    b.close();
    try (LockFile exclusive = LockFile.tryExclusive(file).orElseThrow()) {
      assertTrue(LockFile.tryShared(file).isEmpty());
    }
  }
}
