/**
 * A cluster of one: the log lives in the same SQLite file as the state, and an entry is
 * appended, applied and recorded as applied in one transaction.
 *
 * Group commit: proposals that arrive while the event loop is busy are queued and written by a
 * single transaction at the next turn (setImmediate), so one fsync covers a whole batch instead
 * of one per request. The trade: a lone proposal waits for the current turn to end.
 */
import type { Database, Statement } from "bun:sqlite";
import { migrate } from "../db";
import type { AppliedEntry, Applier, Proposer } from "./proposer";

const LOG_MIGRATIONS = [
  `CREATE TABLE raft_log (
     idx INTEGER PRIMARY KEY,
     term INTEGER NOT NULL,
     data TEXT NOT NULL
   ) STRICT;`,
];

/** Applied entries kept for inspection before they are compacted away. */
const RETAINED_ENTRIES = 10_000;

interface Pending<C, R> {
  command: C;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

export class LocalLog<C, R> implements Proposer<C, R> {
  private pending: Pending<C, R>[] = [];
  private flushScheduled = false;
  private closed = false;
  private lastIndex: number;
  private listeners: ((entries: AppliedEntry<C, R>[]) => void)[] = [];
  private batchesSinceCompaction = 0;
  private readonly append: Statement;
  /** Built once: db.transaction() makes four wrapper functions each time it is called. */
  private readonly appendAndApply: (batch: Pending<C, R>[]) => AppliedEntry<C, R>[];

  constructor(
    private readonly db: Database,
    private readonly applier: Applier<C, R>,
  ) {
    migrate(db, "log", LOG_MIGRATIONS);
    this.append = db.prepare("INSERT INTO raft_log (idx, term, data) VALUES (?, 1, ?)");
    this.appendAndApply = db.transaction((batch: Pending<C, R>[]) =>
      batch.map(({ command }) => {
        const index = this.lastIndex + 1;
        this.append.run(index, JSON.stringify(command));
        const result = this.applier.apply(index, command);
        this.lastIndex = index;
        return { index, command, result };
      }),
    );
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
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ command, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  close(): void {
    this.closed = true;
    if (this.pending.length > 0) this.flush();
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.pending;
    this.pending = [];
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
    batch.forEach((entry, i) => entry.resolve(applied[i]!.result));
    for (const listener of this.listeners) {
      // The entries are committed and their proposers answered: a failing listener must not undo that.
      try {
        listener(applied);
      } catch (error) {
        console.error("skyclaw: a listener of applied log entries failed:", error);
      }
    }
    if (++this.batchesSinceCompaction >= 1_000) this.compact();
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
