/**
 * Worker thread that checkpoints a SQLite WAL into its database file (wal-checkpointer.ts), so
 * that copying pages and the two fsyncs of a checkpoint never run on the coordinator's event
 * loop. PASSIVE: it copies what no reader still needs and never waits for, or blocks, the
 * writer on the main thread.
 *
 * An extra entrypoint of `bun build --compile` (package.json `build`, src/release/build-release.ts).
 */
import { Database } from "bun:sqlite";
import type { CheckpointReply, CheckpointRequest } from "./wal-checkpointer";

declare const self: Worker;

let connection: Database | null = null;

self.onmessage = (event: MessageEvent<CheckpointRequest>) => {
  let reply: CheckpointReply;
  try {
    connection ??= openConnection(event.data.path);
    const row = connection.query<{ busy: number; log: number; checkpointed: number }, []>("PRAGMA wal_checkpoint(PASSIVE)").get()!;
    reply = { ok: true, walFrames: row.log, checkpointedFrames: row.checkpointed };
  } catch (error) {
    reply = { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
  self.postMessage(reply);
};

function openConnection(path: string): Database {
  const db = new Database(path);
  db.exec("PRAGMA busy_timeout = 5000");
  // The checkpoint fsyncs the WAL before copying from it, and the database file before it
  // records the copy as done: only then may the writer start the WAL over.
  db.exec("PRAGMA synchronous = NORMAL");
  db.exec("PRAGMA wal_autocheckpoint = 0");
  return db;
}
