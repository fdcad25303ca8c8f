/**
 * Making SQLite commits durable without blocking the event loop.
 *
 * With synchronous=FULL every COMMIT fsyncs the WAL on the calling thread: the coordinator's
 * only thread then sits 1–5 ms per batch in the kernel, serving nobody. With
 * synchronous=NORMAL a COMMIT only write()s its WAL frames; this class then syncs the WAL
 * file on Bun's thread pool, and the caller acknowledges a batch only once a sync that
 * started after its COMMIT has completed. That is the same durability as FULL (a sync of
 * the file covers every frame written before it), while the next batches are applied meanwhile.
 * The sync is fdatasync, as SQLite's own unix VFS uses: the frames and the file's size reach
 * the disk, its timestamps need not.
 *
 * SQLite still syncs the WAL itself before it checkpoints it into the database file (NORMAL
 * does that), so a checkpoint never copies frames that are not on disk.
 */
import type { Database } from "bun:sqlite";
import { closeSync, fdatasync, fdatasyncSync, fstatSync, fsyncSync, openSync } from "node:fs";
import { dirname } from "node:path";

/** What the local log needs of it (a test substitutes one it controls). */
export interface CommitSync {
  readonly onDisk: boolean;
  sync(): Promise<void>;
  syncNow(): void;
  close(): void;
}

export class WalFsync implements CommitSync {
  private readonly walPath: string | null;
  private fd: number | null = null;

  /** The WAL of `db`, or of the database file at `db` (used by the local log and the Raft log alike). */
  constructor(db: Database | string) {
    const file = typeof db === "string" ? db : db.filename;
    // An in-memory database has no file to make durable.
    this.walPath = file === "" || file === ":memory:" ? null : `${file}-wal`;
  }

  /** Whether there is a file to sync at all (false for an in-memory database). */
  get onDisk(): boolean {
    return this.walPath !== null;
  }

  /** Fsyncs the WAL on the thread pool; resolves when everything written before the call is on disk. */
  sync(): Promise<void> {
    const fd = this.currentFd();
    if (fd === null) return Promise.resolve();
    return new Promise((resolve, reject) => fdatasync(fd, (error) => (error === null ? resolve() : reject(error))));
  }

  /** The same, on this thread: when the caller may not go on before it is durable (closing, compaction). */
  syncNow(): void {
    const fd = this.currentFd();
    if (fd !== null) fdatasyncSync(fd);
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  /**
   * An fd of the WAL file SQLite is writing now. The WAL exists from the first commit on and
   * SQLite keeps it (same file, rewritten from the start after a checkpoint) while the
   * connection is open. Were it ever deleted and created anew, the file held here would have no
   * name left (nlink 0): then the new one is opened. One fstat per sync, not an fstat and a stat.
   */
  private currentFd(): number | null {
    if (this.walPath === null) return null;
    if (this.fd !== null && fstatSync(this.fd).nlink > 0) return this.fd;
    if (this.fd !== null) closeSync(this.fd);
    this.fd = openSync(this.walPath, "r");
    // A WAL created since the last check needs its directory entry on disk too.
    const directory = openSync(dirname(this.walPath), "r");
    try {
      fsyncSync(directory);
    } finally {
      closeSync(directory);
    }
    return this.fd;
  }
}
