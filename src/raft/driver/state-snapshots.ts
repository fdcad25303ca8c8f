/**
 * State-machine snapshots as SQLite images, one file each in a directory next to the state
 * database. The Raft core carries only the file's name in `Snapshot.data`; the transport sends
 * the file itself, so a large state never sits in memory as a string.
 *
 * Taking one: a worker thread writes a temporary file with `VACUUM INTO` (a consistent copy,
 * read inside one read transaction) and fsyncs it (snapshot-worker.ts); `adopt` then names it. Installing one: ATTACH the image and replace the contents of every
 * table it holds in one transaction, so the state connections stay open and valid and readers
 * see either the old state or the new one. The image carries its own `last_applied`.
 *
 * Generic on purpose: this module copies tables, it does not know what a job is.
 */
import type { Database } from "bun:sqlite";
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Tables that belong to the file, not to the replicated state. */
const LOCAL_TABLES = new Set(["schema_migrations", "raft_log"]);
const NAME_PATTERN = /^snapshot-(\d+)-(\d+)\.db$/;

export class StateSnapshots {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    for (const name of readdirSync(dir)) if (name.endsWith(".tmp")) rmSync(join(dir, name), { force: true });
  }

  static fileName(index: number, term: number): string {
    return `snapshot-${String(index).padStart(12, "0")}-${term}.db`;
  }

  path(name: string): string {
    if (!NAME_PATTERN.test(name)) throw new Error(`not a snapshot file name: ${name}`);
    return join(this.dir, name);
  }

  /** A fresh path for an image being written; left-over ones are removed at the next start. */
  temporaryPath(): string {
    return join(this.dir, `image.${process.pid}.${Bun.randomUUIDv7()}.tmp`);
  }

  /** Names an image written (and fsynced) at `temporary` as the snapshot of log index `index`. */
  adopt(temporary: string, index: number, term: number): string {
    const name = StateSnapshots.fileName(index, term);
    renameSync(temporary, join(this.dir, name));
    this.syncDirectory();
    return name;
  }

  discard(temporary: string): void {
    rmSync(temporary, { force: true });
  }

  bytes(name: string): number {
    try {
      return statSync(this.path(name)).size;
    } catch {
      return 0;
    }
  }

  /** Stores an image received from the leader under its canonical name. */
  async receive(index: number, term: number, bytes: Uint8Array): Promise<string> {
    const name = StateSnapshots.fileName(index, term);
    const temporary = join(this.dir, `${name}.${process.pid}.${Bun.randomUUIDv7()}.tmp`);
    writeFileSync(temporary, bytes);
    this.seal(temporary, name);
    return name;
  }

  /** Replaces the state tables of `db` with the image's, in one transaction. */
  install(db: Database, name: string): void {
    db.run("ATTACH DATABASE ? AS snapshot_image", [this.path(name)]);
    try {
      const tables = db
        .query<{ name: string }, []>("SELECT name FROM snapshot_image.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .all()
        .map((row) => row.name)
        .filter((table) => !LOCAL_TABLES.has(table));
      db.transaction(() => {
        db.run("PRAGMA defer_foreign_keys = ON");
        for (const table of tables) {
          const columns = db
            .query<{ name: string }, []>(`SELECT name FROM pragma_table_info('${table.replaceAll("'", "''")}', 'main')`)
            .all()
            .map((column) => `"${column.name.replaceAll('"', '""')}"`)
            .join(", ");
          if (columns === "") throw new Error(`snapshot has table ${table}, which this database does not (different versions?)`);
          const quoted = `"${table.replaceAll('"', '""')}"`;
          db.run(`DELETE FROM main.${quoted}`);
          db.run(`INSERT INTO main.${quoted} (${columns}) SELECT ${columns} FROM snapshot_image.${quoted}`);
        }
      })();
    } finally {
      db.run("DETACH DATABASE snapshot_image");
    }
  }

  /** Deletes images older than `keepIndex` (the latest persisted snapshot's index). */
  prune(keepIndex: number): void {
    for (const name of readdirSync(this.dir)) {
      const match = NAME_PATTERN.exec(name);
      if (match !== null && Number(match[1]) < keepIndex) rmSync(join(this.dir, name), { force: true });
    }
  }

  private seal(temporary: string, name: string): void {
    const fd = openSync(temporary, "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, join(this.dir, name));
    this.syncDirectory();
  }

  private syncDirectory(): void {
    const dirFd = openSync(this.dir, "r");
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  }
}
