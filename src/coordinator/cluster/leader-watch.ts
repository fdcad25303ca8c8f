/** Waiting (briefly) for the cluster to have a leader, without polling: woken by the driver's soft-state changes. */
import type { SoftState } from "../../raft/core";

export class LeaderWatch {
  private waiters = new Set<() => void>();

  constructor(private readonly proposer: { leader(): string | null; onSoftState(listener: (soft: SoftState) => void): void }) {
    proposer.onSoftState((soft: SoftState) => {
      if (soft.leader === null) return;
      for (const wake of [...this.waiters]) wake();
    });
  }

  /**
   * The leader's id, waiting up to `timeoutMs` for one to be elected; null if none by then.
   * `unreachable`: a leader we just failed to reach does not count (wait for the next one).
   */
  async leader(timeoutMs: number, signal?: AbortSignal, unreachable: string | null = null): Promise<string | null> {
    const known = this.proposer.leader();
    if ((known !== null && known !== unreachable) || timeoutMs <= 0) return known === unreachable ? null : known;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiters.add(done);
      signal?.addEventListener("abort", done, { once: true });
    });
    const leader = this.proposer.leader();
    return leader === unreachable ? null : leader;
  }
}
