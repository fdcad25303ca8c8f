/**
 * How a follower applies what the leader committed: late, in large batches, and a slice at a
 * time.
 *
 * Nobody waits on a follower's apply (clients are answered by the leader; a local read is stale
 * anyway), so entries wait up to `delayMs` and are applied together: a job enqueued, claimed and
 * completed within one batch has its pages written once (state-transaction.ts).
 *
 * A batch of a thousand entries takes tens of milliseconds to apply, during which the event loop
 * would answer no append, and the leader's commits wait on those answers. So a batch is applied
 * SLICE_ENTRIES at a time, one slice per turn of the event loop, all in the state transaction,
 * which commits at the end of the batch; appends and everything else are served between slices.
 * A batch holds at most MAX_BATCH_ENTRIES (the rest go in the next one, started as soon as this
 * one commits).
 */
import type { Entry } from "../core";
import type { AppliedEntry } from "../proposer";
import type { StateTransaction } from "./state-transaction";

/**
 * Entries applied per turn of the event loop: a few hundred microseconds of SQLite work. An
 * append that arrives during a slice waits for it, and the leader's commits wait for that
 * append's answer: in the 3-node cycle bench, slices of 64 (about 3 ms each on the shared cores)
 * made a follower's round trip 4.7-6.1 ms, slices of 8 made it 4.0-4.5 ms (8 rounds each,
 * 2026-12-06), at the same CPU per cycle.
 */
export const SLICE_ENTRIES = 8;
const MAX_BATCH_ENTRIES = 4_096;

export interface FollowerApplyOptions<C, R> {
  transaction: StateTransaction;
  /** Applies `entries` in log order (called inside the state transaction). */
  applyEntries(entries: Entry[]): AppliedEntry<C, R>[];
  /** `entries` were applied (not yet committed): move the applied index, tell listeners. */
  applied(entries: Entry[], results: AppliedEntry<C, R>[]): void;
  /** Applying failed; the state transaction was rolled back. */
  failed(error: unknown): void;
  delayMs: number;
}

export class FollowerApply<C, R> {
  /** Committed entries not yet in a batch, in log order. */
  private waiting: Entry[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** The batch being applied, and how far into it the slices got. */
  private batch: { entries: Entry[]; next: number } | null = null;
  private sliceScheduled = false;
  private closed = false;

  constructor(private readonly options: FollowerApplyOptions<C, R>) {}

  /** Entries the leader committed, after those added before: applied within `delayMs`. */
  add(entries: Entry[]): void {
    if (this.closed || entries.length === 0) return;
    this.waiting = this.waiting.length === 0 ? entries : this.waiting.concat(entries);
    if (this.batch === null) this.timer ??= setTimeout(() => this.startBatch(), this.options.delayMs);
  }

  /** Applies and commits everything added so far, before returning (the node stops following, or a snapshot comes). */
  applyAll(): void {
    this.clearTimer();
    try {
      while (this.batch !== null || this.waiting.length > 0) {
        if (this.batch === null) this.takeBatch();
        this.applySlice(Infinity);
      }
    } catch (error) {
      this.abort(error);
    }
  }

  /** Forgets the entries not yet applied up to `index` (a snapshot covers them). */
  dropThrough(index: number): void {
    this.waiting = this.waiting.filter((entry) => entry.index > index);
  }

  /** Stops; what a batch in progress applied stays in the state transaction, for its owner to commit or not. */
  close(): void {
    this.closed = true;
    this.clearTimer();
    this.batch = null;
    this.waiting = [];
  }

  private startBatch(): void {
    this.timer = null;
    if (this.closed || this.batch !== null || this.waiting.length === 0) return;
    this.takeBatch();
    this.scheduleSlice();
  }

  private takeBatch(): void {
    this.batch = { entries: this.waiting.slice(0, MAX_BATCH_ENTRIES), next: 0 };
    this.waiting = this.waiting.slice(MAX_BATCH_ENTRIES);
  }

  private scheduleSlice(): void {
    if (this.sliceScheduled) return;
    this.sliceScheduled = true;
    setImmediate(() => {
      this.sliceScheduled = false;
      if (this.closed || this.batch === null) return;
      try {
        this.applySlice(SLICE_ENTRIES);
      } catch (error) {
        this.abort(error);
        return;
      }
      if (this.batch !== null) this.scheduleSlice();
      else if (this.waiting.length >= MAX_BATCH_ENTRIES) this.startBatch();
      else if (this.waiting.length > 0) this.timer ??= setTimeout(() => this.startBatch(), this.options.delayMs);
    });
  }

  /** Applies up to `limit` entries of the batch; commits the state transaction when they were the last. */
  private applySlice(limit: number): void {
    const batch = this.batch!;
    const slice = batch.entries.slice(batch.next, batch.next + limit);
    batch.next += slice.length;
    if (slice.length > 0) this.options.applied(slice, this.options.transaction.run(() => this.options.applyEntries(slice)));
    if (batch.next < batch.entries.length) return;
    this.batch = null;
    this.options.transaction.commitNow();
  }

  private abort(error: unknown): void {
    this.options.transaction.rollback();
    this.batch = null;
    this.closed = true;
    this.clearTimer();
    this.options.failed(error);
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
