/**
 * Durable Raft state on SQLite, in a file of its own next to the state database: the log
 * entries, the hard state (term, vote, commit) and the metadata of the latest snapshot (its
 * image is a separate file, see state-snapshots.ts).
 *
 * Each Ready is written by one transaction, in the order the core's contract asks: snapshot
 * (replaces the whole log), entries (an entry at i replaces any stored at i and after), hard
 * state. The database runs synchronous=NORMAL (WAL): a COMMIT only write()s, and `sync()`
 * fsyncs the WAL on the thread pool, so the event loop goes on serving while the disk works.
 * The driver sends what depends on the write (votes, acknowledgements) only after that fsync.
 * Checkpoints run on a worker (wal-checkpointer.ts), not inside a COMMIT on the event loop.
 *
 * Compaction records the snapshot at once (synced), but deletes the entries it covers a step at
 * a time (`trimStep`, a bounded DELETE per event-loop turn): deleting tens of thousands of
 * entries in one statement held the event loop 15-20 ms. Entries left behind by a crash are
 * harmless: the log still starts with contiguous entries, and the next compaction deletes them.
 *
 * The commit index is stored only along with a new term or vote: Raft does not need it durable
 * (a node restarted with an older one learns it again from the leader, and the core takes
 * max(stored commit, last_applied); applied entries were synced). So a Ready whose only change is
 * the commit index writes nothing (on a follower most do: each append and heartbeat advances it),
 * and one with entries writes no hard-state page.
 */
import type { Database, Statement } from "bun:sqlite";
import { migrate, MultiRowInsert, openDatabase } from "../../db";
import { decodeMembership, encodeMembership } from "../core";
import type { Entry, EntryType, HardState, PersistedState, Ready, Snapshot } from "../core";
import { WalCheckpointer } from "../wal-checkpointer";
import { WalFsync } from "../wal-fsync";

/** Entries deleted per trim step: well under a millisecond of work. */
export const TRIM_STEP_ENTRIES = 256;

const RAFT_MIGRATIONS = [
  `CREATE TABLE raft_entries (
     idx INTEGER PRIMARY KEY,
     term INTEGER NOT NULL,
     type TEXT NOT NULL CHECK (type IN ('normal', 'noop', 'config')),
     data TEXT NOT NULL
   ) STRICT;
   CREATE TABLE raft_hard_state (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     term INTEGER NOT NULL,
     vote TEXT,
     commit_index INTEGER NOT NULL
   ) STRICT;
   CREATE TABLE raft_snapshot (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     idx INTEGER NOT NULL,
     term INTEGER NOT NULL,
     membership TEXT NOT NULL,
     data TEXT NOT NULL                       -- the image's file name in the snapshot directory
   ) STRICT;`,
];

export class RaftStorage {
  readonly db: Database;
  private readonly truncateFrom: Statement;
  private readonly saveHardState: Statement;
  private readonly saveSnapshot: Statement;
  private readonly deleteEntriesBefore: Statement;
  private readonly deleteAllEntries: Statement;
  private readonly persistTransaction: (ready: Ready, termOrVoteChanged: boolean) => void;
  private readonly insertEntries: MultiRowInsert;
  /** The hard state as last written, and as the core last reported it (written with the next term or vote). */
  private stored: HardState = { term: 0, vote: null, commit: 0 };
  private latest: HardState = this.stored;
  /** Entries before this index are compacted away and wait for `trimStep` (0: none wait). */
  private trimBefore = 0;
  private readonly wal: WalFsync;
  private readonly checkpointer: WalCheckpointer;

  constructor(path: string) {
    this.db = openDatabase(path);
    migrate(this.db, "raft", RAFT_MIGRATIONS);
    this.db.exec("PRAGMA synchronous = NORMAL");
    this.wal = new WalFsync(path);
    this.checkpointer = new WalCheckpointer(this.db);
    this.insertEntries = new MultiRowInsert(this.db, "INSERT INTO raft_entries (idx, term, type, data)", "(?, ?, ?, ?)");
    this.truncateFrom = this.db.prepare("DELETE FROM raft_entries WHERE idx >= ?");
    // The oldest `?2` entries at most, of those before `?1`: the log's indexes are contiguous.
    this.deleteEntriesBefore = this.db.prepare("DELETE FROM raft_entries WHERE idx < min(?1, (SELECT min(idx) FROM raft_entries) + ?2)");
    this.deleteAllEntries = this.db.prepare("DELETE FROM raft_entries");
    this.saveHardState = this.db.prepare(
      `INSERT INTO raft_hard_state (id, term, vote, commit_index) VALUES (1, ?1, ?2, ?3)
       ON CONFLICT (id) DO UPDATE SET term = ?1, vote = ?2, commit_index = ?3`,
    );
    this.saveSnapshot = this.db.prepare(
      `INSERT INTO raft_snapshot (id, idx, term, membership, data) VALUES (1, ?1, ?2, ?3, ?4)
       ON CONFLICT (id) DO UPDATE SET idx = ?1, term = ?2, membership = ?3, data = ?4`,
    );
    this.persistTransaction = this.db.transaction((ready: Ready, termOrVoteChanged: boolean) => {
      if (ready.snapshot) {
        this.deleteAllEntries.run();
        this.writeSnapshot(ready.snapshot);
      }
      const first = ready.entries[0];
      if (first) {
        this.truncateFrom.run(first.index);
        this.insertEntries.run(ready.entries.map((entry) => [entry.index, entry.term, entry.type, entry.data]));
      }
      if (termOrVoteChanged) this.writeHardState(this.latest);
    });
  }

  /** Everything the core needs to start again after a restart. */
  load(): PersistedState {
    const hard = this.db
      .query<{ term: number; vote: string | null; commit_index: number }, []>("SELECT term, vote, commit_index FROM raft_hard_state")
      .get();
    const snapshotRow = this.db
      .query<{ idx: number; term: number; membership: string; data: string }, []>("SELECT idx, term, membership, data FROM raft_snapshot")
      .get();
    const entries = this.db
      .query<{ idx: number; term: number; type: string; data: string }, []>("SELECT idx, term, type, data FROM raft_entries ORDER BY idx")
      .all()
      .map((row): Entry => ({ index: row.idx, term: row.term, type: row.type as EntryType, data: row.data }));
    return {
      hardState: this.remember(hard === null ? { term: 0, vote: null, commit: 0 } : { term: hard.term, vote: hard.vote, commit: hard.commit_index }),
      snapshot:
        snapshotRow === null
          ? null
          : { index: snapshotRow.idx, term: snapshotRow.term, membership: decodeMembership(snapshotRow.membership), data: snapshotRow.data },
      entries,
    };
  }

  /**
   * Writes what `ready` asks to persist, in one transaction, without an fsync. Returns whether it
   * wrote anything; if so, the write must be synced (`sync()`) before anything that depends on it
   * is sent.
   */
  write(ready: Ready): boolean {
    if (ready.hardState !== null) this.latest = ready.hardState;
    const termOrVoteChanged = this.latest.term !== this.stored.term || this.latest.vote !== this.stored.vote;
    if (ready.snapshot === null && ready.entries.length === 0 && !termOrVoteChanged) return false;
    this.persistTransaction(ready, termOrVoteChanged);
    this.checkpointer.committed();
    if (termOrVoteChanged) this.stored = this.latest;
    return true;
  }

  /** Resolves once every write made before the call is on disk. */
  sync(): Promise<void> {
    return this.wal.sync();
  }

  /** Writes and syncs `ready` before returning. */
  persist(ready: Ready): void {
    if (this.write(ready)) this.wal.syncNow();
  }

  /**
   * Records a snapshot taken locally, durable on return. The entries before `firstKeptIndex` are
   * then deleted by `trimStep`, a step at a time.
   */
  compact(snapshot: Snapshot, firstKeptIndex: number): void {
    this.writeSnapshot(snapshot);
    this.checkpointer.committed();
    this.wal.syncNow();
    this.trimBefore = Math.max(this.trimBefore, firstKeptIndex);
  }

  /**
   * Deletes up to TRIM_STEP_ENTRIES of the entries a compaction covers, oldest first, in a
   * transaction of its own (not synced: entries left by a crash are deleted by the next
   * compaction). Returns whether any are left.
   */
  trimStep(): boolean {
    if (this.trimBefore === 0) return false;
    const { changes } = this.deleteEntriesBefore.run(this.trimBefore, TRIM_STEP_ENTRIES);
    if (changes > 0) this.checkpointer.committed();
    if (changes === TRIM_STEP_ENTRIES) return true;
    this.trimBefore = 0;
    return false;
  }

  close(): void {
    this.checkpointer.close();
    this.wal.close();
    this.db.close();
  }

  private remember(hardState: HardState): HardState {
    this.stored = this.latest = hardState;
    return hardState;
  }

  private writeSnapshot(snapshot: Snapshot): void {
    this.saveSnapshot.run(snapshot.index, snapshot.term, encodeMembership(snapshot.membership), snapshot.data);
  }

  private writeHardState(hardState: HardState): void {
    this.saveHardState.run(hardState.term, hardState.vote, hardState.commit);
  }
}

