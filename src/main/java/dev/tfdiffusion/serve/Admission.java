package dev.tfdiffusion.serve;

import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * At most {@code running} model runs at once, and at most {@code queued} more waiting for one; a request beyond that
 * is refused at once with RESOURCE_EXHAUSTED (HTTP 429) rather than left to pile up.
 */
final class Admission {
  private final int running;
  private final int queued;
  private final Semaphore slots;
  private final AtomicInteger admitted = new AtomicInteger();

  Admission(int running, int queued) {
    this.running = running;
    this.queued = queued;
    this.slots = new Semaphore(running, true);
  }

  /** A place among the running runs; closing it frees the place. */
  interface Permit extends AutoCloseable {
    @Override
    void close();
  }

  /** Waits for a place if one is free or the queue has room; refuses otherwise. */
  Permit enter() {
    if (admitted.incrementAndGet() > running + queued) {
      admitted.decrementAndGet();
      throw new ServeException(Status.RESOURCE_EXHAUSTED, "The server is busy: " + running
          + " runs are in progress and " + queued + " waiting, its limit (--max-concurrent); try again shortly.");
    }
    try {
      slots.acquire();
    } catch (InterruptedException e) {
      admitted.decrementAndGet();
      Thread.currentThread().interrupt();
      throw new ServeException(Status.CANCELLED, "The request was cancelled while waiting for a free run.");
    }
    return () -> {
      slots.release();
      admitted.decrementAndGet();
    };
  }

  /** Runs in progress or waiting. */
  int inUse() {
    return admitted.get();
  }
}
