/**
 * A cluster of one: the log lives in the same SQLite file as the state, and an entry is
 * appended, applied and recorded as applied in one transaction.
 *
 * Group commit: proposals that arrive while the event loop is busy are queued and written by a
 * single transaction at the next turn (setImmediate). The transaction commits without an fsync
 * (synchronous=NORMAL); the WAL is then fsynced on the thread pool (wal-fsync.ts) while later
 * batches are applied, and a batch's proposers are answered, and its listeners told, only when
 * an fsync that began after its commit is done. One fsync is in flight at a time; it covers
 * every batch committed before it started, so under load batches grow instead of queueing.
 *
 * Under load, commits are at least `minCommitIntervalMs` apart (like PostgreSQL's commit_delay,
 * which waits only when other transactions are active): a COMMIT writes every page its batch
 * dirtied, two write() calls each, so commits of a few entries each turn cost the event loop
 * more than the entries themselves (22% of its time in a profile of the cycle load). Load is
 * read from the previous batch: after one of PACE_AFTER_BATCH_OF entries or more, the next
 * commit waits for the rest of the interval; after a smaller one (a quiet coordinator, or one
 * client writing one request after another) it is made at the next turn, as before.
 */
import type { Database } from "bun:sqlite";
import { migrate, MultiRowInsert } from "../db";
import type { AppliedEntry, Applier, Proposer } from "./proposer";
import { WalCheckpointer } from "./wal-checkpointer";
import { WalFsync, type CommitSync } from "./wal-fsync";

const LOG_MIGRATIONS = [
  `CREATE TABLE raft_log (
     idx INTEGER PRIMARY KEY,
     term INTEGER NOT NULL,
     data TEXT NOT NULL
   ) STRICT;`,
];

/** Least time between the starts of two commits (see the module comment). */
const DEFAULT_MIN_COMMIT_INTERVAL_MS = 1.5;
/** A commit of fewer entries than this is not a sign of load: the next is not held back. */
const PACE_AFTER_BATCH_OF = 8;

/** Applied entries kept for inspection before they are compacted away. */
const RETAINED_ENTRIES = 10_000;

interface Pending<C, R> {
  command: C;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

/** A committed batch waiting for its fsync, or a reader waiting for everything committed so far. */
type AwaitingSync<C, R> = { batch: Pending<C, R>[]; applied: AppliedEntry<C, R>[] } | { barrier: () => void };

export class LocalLog<C, R> implements Proposer<C, R> {
  private pending: Pending<C, R>[] = [];
  private flushScheduled = false;
  private closed = false;
  private lastIndex: number;
  private listeners: ((entries: AppliedEntry<C, R>[]) => void)[] = [];
  private batchesSinceCompaction = 0;
  private readonly wal: CommitSync;
  private readonly checkpointer: WalCheckpointer;
  /** Committed since the fsync in flight began: the next fsync covers them. */
  private awaitingSync: AwaitingSync<C, R>[] = [];
  /** Covered by the fsync in flight, or null when none is. */
  private syncing: AwaitingSync<C, R>[] | null = null;
  /** Set when an fsync failed: what was committed may not be on disk, so nothing more is accepted. */
  private storageFailure: Error | null = null;
  private readonly append: MultiRowInsert;
  /** Built once: db.transaction() makes four wrapper functions each time it is called. */
  private readonly appendAndApply: (batch: Pending<C, R>[]) => AppliedEntry<C, R>[];

  private lastFlushAt = -Infinity;
  private lastBatchSize = 0;
  private readonly minCommitIntervalMs: number;

  constructor(
    private readonly db: Database,
    private readonly applier: Applier<C, R>,
    wal?: CommitSync,
    options: { minCommitIntervalMs?: number } = {},
  ) {
    this.minCommitIntervalMs = options.minCommitIntervalMs ?? DEFAULT_MIN_COMMIT_INTERVAL_MS;
    migrate(db, "log", LOG_MIGRATIONS);
    this.append = new MultiRowInsert(db, "INSERT INTO raft_log (idx, term, data)", "(?, 1, ?)");
    this.wal = wal ?? new WalFsync(db);
    // Durability comes from the fsync after each commit (see above), not from COMMIT itself.
    if (this.wal.onDisk) db.exec("PRAGMA synchronous = NORMAL");
    this.checkpointer = new WalCheckpointer(db);
    this.appendAndApply = db.transaction((batch: Pending<C, R>[]) => {
      const first = this.lastIndex + 1;
      const commands = batch.map((pending) => pending.command);
      this.append.run(commands.map((command, i) => [first + i, JSON.stringify(command)]));
      const results = this.applier.applyRun?.(first, commands) ?? commands.map((command, i) => this.applier.apply(first + i, command));
      this.lastIndex = first + commands.length - 1;
      return commands.map((command, i) => ({ index: first + i, command, result: results[i]! }));
    });
    this.replayUnapplied();
    this.lastIndex = Math.max(this.applier.lastApplied(), this.storedLastIndex());
  }

  role(): "leader" {
    return "leader";
  }

  onApplied(listener: (entries: AppliedEntry<C, R>[]) => void): void {
    this.listeners.push(listener);
  }

  propose(command: C): Promise<R> {
    if (this.closed) return Promise.reject(new Error("log is closed"));
    if (this.storageFailure !== null) return Promise.reject(this.storageFailure);
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ command, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        const wait = this.lastFlushAt + this.minCommitIntervalMs - performance.now();
        if (wait > 0 && this.lastBatchSize >= PACE_AFTER_BATCH_OF) setTimeout(() => this.flush(), wait);
        else setImmediate(() => this.flush());
      }
    });
  }

  /**
   * Undefined when everything applied is durable; otherwise a promise of that moment. A read
   * waits for it so that it never shows a client state that a crash of the machine could undo.
   */
  durable(): Promise<void> | undefined {
    if (this.awaitingSync.length === 0 && this.syncing === null) return undefined;
    return new Promise<void>((resolve) => {
      // Only what is already committed matters: the fsync in flight covers it unless more came since.
      (this.awaitingSync.length > 0 ? this.awaitingSync : this.syncing!).push({ barrier: resolve });
    });
  }

  close(): void {
    this.closed = true;
    if (this.pending.length > 0) this.flush();
    // Everything committed, including what the fsync in flight covers, is synced here and now.
    const covered = [...(this.syncing ?? []), ...this.awaitingSync];
    this.syncing = null;
    this.awaitingSync = [];
    if (covered.length > 0 && this.storageFailure === null) {
      try {
        this.wal.syncNow();
        this.deliver(covered);
      } catch (error) {
        this.fail(covered, error);
      }
    }
    this.wal.close();
    this.checkpointer.close();
  }

  private flush(): void {
    this.flushScheduled = false;
    this.lastFlushAt = performance.now();
    const batch = this.pending;
    this.pending = [];
    this.lastBatchSize = batch.length;
    if (batch.length === 0) return;
    let applied: AppliedEntry<C, R>[];
    try {
      applied = this.appendAndApply(batch);
    } catch (error) {
      // Nothing of the batch was committed: every proposer learns it failed.
      this.lastIndex = Math.max(this.applier.lastApplied(), this.storedLastIndex());
      for (const entry of batch) entry.reject(error);
      return;
    }
    this.awaitingSync.push({ batch, applied });
    if (++this.batchesSinceCompaction >= 1_000) this.compact();
    this.checkpointer.committed();
    if (!this.closed) this.startSync();
  }

  private startSync(): void {
    if (this.syncing !== null || this.awaitingSync.length === 0) return;
    const covered = (this.syncing = this.awaitingSync);
    this.awaitingSync = [];
    this.wal.sync().then(
      () => {
        // close() took over what this fsync covered.
        if (this.syncing !== covered) return;
        this.syncing = null;
        this.deliver(covered);
        this.startSync();
      },
      (error: unknown) => {
        if (this.syncing !== covered) return;
        this.syncing = null;
        this.fail([...covered, ...this.awaitingSync.splice(0)], error);
      },
    );
  }

  /** The batches are on disk: answer their proposers, then tell the listeners, in log order. */
  private deliver(covered: AwaitingSync<C, R>[]): void {
    for (const item of covered) {
      if ("barrier" in item) {
        item.barrier();
        continue;
      }
      item.batch.forEach((entry, i) => entry.resolve(item.applied[i]!.result));
      for (const listener of this.listeners) {
        // The entries are committed and their proposers answered: a failing listener must not undo that.
        try {
          listener(item.applied);
        } catch (error) {
          console.error("skyclaw: a listener of applied log entries failed:", error);
        }
      }
    }
  }

  /**
   * An fsync failed: the kernel may have dropped the pages it could not write, so retrying
   * proves nothing (PostgreSQL's "fsyncgate"). Nothing committed since the last good fsync is
   * acknowledged, and the log accepts no more; a restart recovers from what is on disk.
   */
  private fail(covered: AwaitingSync<C, R>[], error: unknown): void {
    const cause = error instanceof Error ? error.message : String(error);
    this.storageFailure = new Error(`the log's storage failed to fsync (${cause}); restart the coordinator`);
    console.error(`skyclaw: ${this.storageFailure.message}`);
    for (const item of covered) {
      if ("barrier" in item) item.barrier();
      else for (const entry of item.batch) entry.reject(this.storageFailure);
    }
  }

  /** Entries logged but not applied (a crash between the two, or entries written by consensus): apply them now. */
  private replayUnapplied(): void {
    const from = this.applier.lastApplied();
    const entries = this.db.query<{ idx: number; data: string }, [number]>("SELECT idx, data FROM raft_log WHERE idx > ? ORDER BY idx").all(from);
    if (entries.length === 0) return;
    this.db.transaction(() => {
      for (const entry of entries) this.applier.apply(entry.idx, JSON.parse(entry.data) as C);
    })();
  }

  private storedLastIndex(): number {
    return this.db.query<{ idx: number | null }, []>("SELECT max(idx) AS idx FROM raft_log").get()?.idx ?? 0;
  }

  private compact(): void {
    this.batchesSinceCompaction = 0;
    this.db.query("DELETE FROM raft_log WHERE idx <= ?").run(this.applier.lastApplied() - RETAINED_ENTRIES);
  }
}
