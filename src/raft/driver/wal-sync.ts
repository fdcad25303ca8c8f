/**
 * Fsync of a SQLite database's WAL file off the event loop. The Raft log commits with
 * synchronous=NORMAL (COMMIT only write()s its WAL frames); an fsync of the WAL that starts after
 * a COMMIT makes that commit durable, exactly as synchronous=FULL would have, but on Bun's
 * thread pool while the event loop serves requests. SQLite still syncs the WAL itself before a
 * checkpoint copies it into the database file, so a checkpoint never copies unsynced frames.
 */
import { closeSync, fstatSync, fsync, fsyncSync, openSync, statSync } from "node:fs";
import { dirname } from "node:path";

export class WalSync {
  private fd: number | null = null;

  constructor(private readonly walPath: string) {}

  /** Resolves once everything written to the WAL before the call is on disk. */
  sync(): Promise<void> {
    const fd = this.currentFd();
    return new Promise((resolve, reject) => fsync(fd, (error) => (error === null ? resolve() : reject(error))));
  }

  /** The same on this thread, for the rare writes that must be durable before the next statement. */
  syncNow(): void {
    fsyncSync(this.currentFd());
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  /**
   * An fd of the WAL file SQLite writes now. SQLite keeps the file while the connection is open
   * (rewriting it from the start after a checkpoint); were it ever replaced, the inode check
   * opens the new one, and a new WAL's directory entry is synced once.
   */
  private currentFd(): number {
    if (this.fd !== null && fstatSync(this.fd).ino === statSync(this.walPath, { throwIfNoEntry: false })?.ino) return this.fd;
    if (this.fd !== null) closeSync(this.fd);
    this.fd = openSync(this.walPath, "r");
    const directory = openSync(dirname(this.walPath), "r");
    try {
      fsyncSync(directory);
    } finally {
      closeSync(directory);
    }
    return this.fd;
  }
}
