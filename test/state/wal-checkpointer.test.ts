/** WalCheckpointer: checkpoints on a worker thread after commits, and a WAL that starts over instead of growing. */
import type { Database } from "bun:sqlite";
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase } from "../../src/db";
import { WalCheckpointer, type CheckpointReply, type WalCheckpointerOptions } from "../../src/raft/wal-checkpointer";

const dir = mkdtempSync(join(tmpdir(), "skyclaw-checkpointer-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fileCount = 0;

const opened: { db: Database; checkpointer: WalCheckpointer }[] = [];
afterEach(() => {
  for (const { db, checkpointer } of opened.splice(0)) {
    checkpointer.close();
    db.close();
  }
});

/** A database with a table of page-sized rows, and a checkpointer whose replies arrive in order. */
function openWithCheckpointer(options: WalCheckpointerOptions = {}, path = join(dir, `db-${++fileCount}.db`)) {
  const db = openDatabase(path);
  db.exec("CREATE TABLE pages (id INTEGER PRIMARY KEY, data BLOB NOT NULL) STRICT");
  const replies: CheckpointReply[] = [];
  const waiting: ((reply: CheckpointReply) => void)[] = [];
  const checkpointer = new WalCheckpointer(db, {
    intervalMs: 0,
    ...options,
    onCheckpoint: (reply) => {
      replies.push(reply);
      waiting.shift()?.(reply);
    },
  });
  opened.push({ db, checkpointer });
  const insert = db.prepare("INSERT INTO pages (data) VALUES (?)");
  /** One write transaction of `rows` 4 KiB rows, reported to the checkpointer. */
  const commit = (rows = 1) => {
    db.transaction(() => {
      for (let i = 0; i < rows; i++) insert.run(new Uint8Array(4_000));
    })();
    checkpointer.committed();
  };
  const nextCheckpoint = () => new Promise<CheckpointReply>((resolve) => waiting.push(resolve));
  return { db, checkpointer, commit, nextCheckpoint, replies };
}

describe("WalCheckpointer", () => {
  test("turns off the writer's own checkpoints and checkpoints committed frames on a worker", async () => {
    const { db, commit, nextCheckpoint } = openWithCheckpointer();
    expect(db.query<{ wal_autocheckpoint: number }, []>("PRAGMA wal_autocheckpoint").get()!.wal_autocheckpoint).toBe(0);
    const reply = nextCheckpoint();
    commit(3);
    const done = await reply;
    expect(done.ok).toBe(true);
    if (!done.ok) return;
    expect(done.walFrames).toBeGreaterThan(0);
    // Every frame of the WAL was copied into the database file.
    expect(done.checkpointedFrames).toBe(done.walFrames);
  });

  test("a WAL past restartFrames starts over at the next commit instead of growing", async () => {
    const { commit, nextCheckpoint } = openWithCheckpointer({ restartFrames: 20 });
    const sizes: number[] = [];
    for (let round = 0; round < 30; round++) {
      const reply = nextCheckpoint();
      commit(4);
      const done = await reply;
      if (!done.ok) throw new Error(done.message);
      sizes.push(done.walFrames);
    }
    // 30 commits of 4+ pages each wrote well over 100 frames; the WAL never held more than a few commits' worth.
    expect(Math.max(...sizes)).toBeLessThan(20 + 12);
    expect(sizes.filter((frames, i) => i > 0 && frames < sizes[i - 1]!).length).toBeGreaterThan(0);
  });

  test("commits between intervals share one checkpoint", async () => {
    const { commit, nextCheckpoint, replies } = openWithCheckpointer({ intervalMs: 200 });
    const first = nextCheckpoint();
    commit();
    await first;
    const second = nextCheckpoint();
    for (let i = 0; i < 10; i++) commit();
    await second;
    expect(replies).toHaveLength(2);
  });

  test("an in-memory database has no WAL: nothing is started", async () => {
    const db = openDatabase(":memory:");
    const replies: CheckpointReply[] = [];
    const checkpointer = new WalCheckpointer(db, { intervalMs: 0, onCheckpoint: (reply) => replies.push(reply) });
    opened.push({ db, checkpointer });
    db.exec("CREATE TABLE t (x INTEGER) STRICT");
    checkpointer.committed();
    await Bun.sleep(50);
    expect(replies).toEqual([]);
  });

  test("after close no checkpoint is started", async () => {
    const { checkpointer, commit, replies } = openWithCheckpointer({ intervalMs: 0 });
    checkpointer.close();
    commit();
    await Bun.sleep(50);
    expect(replies).toEqual([]);
  });
});
