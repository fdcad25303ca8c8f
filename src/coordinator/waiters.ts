/**
 * Long-poll plumbing. A waiting claim parks here with its host's capabilities and is woken the
 * moment a job it could run becomes claimable; a waiting reader of a job's output parks on the
 * job id and is woken by any change to that job. Nothing polls on a timer.
 *
 * A new job wakes one matching claim, not all of them: waking every idle host for one job
 * makes them all propose a claim (a log entry each) that all but one lose.
 */

interface ClaimWaiter {
  capabilities: ReadonlySet<string>;
  /** Checked at wake-up time: a host whose slots are full cannot take the job. */
  hasFreeSlot: () => boolean;
  wake: () => void;
}

export class Waiters {
  private claimWaiters = new Set<ClaimWaiter>();
  private jobWatchers = new Map<string, Set<() => void>>();

  /**
   * Resolves true when woken for a job needing a subset of `capabilities` (possibly one whose
   * enqueue is still being committed: the claim that follows lands after it in the log), or
   * false after `timeoutMs` or on abort.
   */
  waitForWork(
    capabilities: readonly string[],
    timeoutMs: number,
    signal?: AbortSignal,
    hasFreeSlot: () => boolean = () => true,
  ): Promise<boolean> {
    return this.park(timeoutMs, signal, (wake) => {
      const waiter = { capabilities: new Set(capabilities), hasFreeSlot, wake };
      this.claimWaiters.add(waiter);
      return () => this.claimWaiters.delete(waiter);
    });
  }

  /** Resolves on the next change to job `jobId` (state or output), after `timeoutMs`, or on abort. */
  waitForJob(jobId: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    return this.park(timeoutMs, signal, (wake) => {
      let watchers = this.jobWatchers.get(jobId);
      if (watchers === undefined) this.jobWatchers.set(jobId, (watchers = new Set()));
      watchers.add(wake);
      return () => {
        watchers.delete(wake);
        if (watchers.size === 0) this.jobWatchers.delete(jobId);
      };
    });
  }

  /**
   * Wakes up to `count` parked claims, longest-waiting first, of hosts that have every
   * capability in `requires` and a free slot.
   */
  workAvailable(requires: readonly string[], count = Number.POSITIVE_INFINITY): void {
    let woken = 0;
    for (const waiter of [...this.claimWaiters]) {
      if (woken >= count) return;
      if (!requires.every((capability) => waiter.capabilities.has(capability)) || !waiter.hasFreeSlot()) continue;
      waiter.wake();
      woken++;
    }
  }

  jobChanged(jobId: string): void {
    const watchers = this.jobWatchers.get(jobId);
    if (watchers !== undefined) for (const wake of [...watchers]) wake();
  }

  /** Ends every wait now (shutdown). */
  wakeAll(): void {
    for (const waiter of [...this.claimWaiters]) waiter.wake();
    for (const watchers of [...this.jobWatchers.values()]) for (const wake of [...watchers]) wake();
  }

  get parkedClaims(): number {
    return this.claimWaiters.size;
  }

  /** Resolves true when `register`'s wake is called, false on timeout or abort. */
  private park(timeoutMs: number, signal: AbortSignal | undefined, register: (wake: () => void) => () => void): Promise<boolean> {
    return new Promise((resolve) => {
      if (signal?.aborted || timeoutMs <= 0) return resolve(false);
      let unregister = () => {};
      const finish = (woken: boolean) => {
        clearTimeout(timer);
        unregister();
        signal?.removeEventListener("abort", expire);
        resolve(woken);
      };
      const expire = () => finish(false);
      const timer = setTimeout(expire, timeoutMs);
      unregister = register(() => finish(true));
      signal?.addEventListener("abort", expire, { once: true });
    });
  }
}
