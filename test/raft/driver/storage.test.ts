/**
 * The Raft log on SQLite: which writes must be synced before the driver sends what depends on
 * them, that the commit index rides along with a new term or vote, and that what was written and synced is what a restarted node loads (long batches are
 * inserted in chunks; an entry at i replaces the stored tail from i on), and that a compaction
 * records its snapshot at once and deletes the entries it covers in bounded steps.
 */
import { afterEach, expect, test } from "bun:test";
import { join } from "node:path";
import { RaftNode, type Entry, type Ready, type Snapshot } from "../../../src/raft/core";
import { RaftStorage, TRIM_STEP_ENTRIES } from "../../../src/raft/driver/storage";
import { tempDir } from "../../helpers/processes";

let open: RaftStorage[] = [];
afterEach(() => {
  for (const storage of open) storage.close();
  open = [];
});

function openStorage(path: string): RaftStorage {
  const storage = new RaftStorage(path);
  open.push(storage);
  return storage;
}

function ready(parts: Partial<Ready>): Ready {
  return { softState: null, hardState: null, snapshot: null, entries: [], messages: [], committedEntries: [], readStates: [], droppedReads: [], ...parts };
}

function entries(from: number, to: number, term: number): Entry[] {
  return Array.from({ length: to - from + 1 }, (_, i) => ({ index: from + i, term, type: "normal" as const, data: JSON.stringify({ n: from + i, term }) }));
}

test("entries and a new term or vote are written and must be synced; a Ready that only moves the commit index is not written", async () => {
  const storage = openStorage(join(tempDir("raft-storage"), "log.raft"));
  expect(storage.write(ready({}))).toBe(false);
  expect(storage.write(ready({ hardState: { term: 2, vote: "a", commit: 0 } }))).toBe(true);
  expect(storage.write(ready({ entries: entries(1, 3, 2) }))).toBe(true);
  expect(storage.write(ready({ hardState: { term: 2, vote: "a", commit: 3 } }))).toBe(false);
  expect(storage.write(ready({ hardState: { term: 3, vote: null, commit: 3 } }))).toBe(true);
  expect(storage.write(ready({ hardState: { term: 3, vote: "b", commit: 3 } }))).toBe(true);
  await storage.sync();
});

test("the commit index is stored only along with a new term or vote", async () => {
  const path = join(tempDir("raft-storage"), "log.raft");
  const first = openStorage(path);
  first.write(ready({ entries: entries(1, 5, 1), hardState: { term: 1, vote: "a", commit: 2 } }));
  expect(first.write(ready({ hardState: { term: 1, vote: "a", commit: 5 } }))).toBe(false);
  expect(first.write(ready({ entries: entries(6, 6, 1) }))).toBe(true);
  await first.sync();
  first.close();
  open = [];
  const reloaded = openStorage(path).load();
  expect(reloaded.hardState).toEqual({ term: 1, vote: "a", commit: 2 });
  expect(reloaded.entries).toEqual(entries(1, 6, 1));

  const second = open[0]!;
  expect(second.write(ready({ hardState: { term: 1, vote: "a", commit: 6 } }))).toBe(false);
  expect(second.write(ready({ hardState: { term: 2, vote: null, commit: 6 } }))).toBe(true);
  await second.sync();
  second.close();
  open = [];
  expect(openStorage(path).load().hardState).toEqual({ term: 2, vote: null, commit: 6 });
});

test("a restarted node loads every entry of a long batch in order, with a conflicting tail replaced", async () => {
  const path = join(tempDir("raft-storage"), "log.raft");
  const storage = openStorage(path);
  storage.write(ready({ entries: entries(1, 200, 1), hardState: { term: 1, vote: "a", commit: 150 } }));
  // A new leader's entries from 151 on replace the old term's tail (151..200).
  storage.write(ready({ entries: entries(151, 170, 2), hardState: { term: 2, vote: "b", commit: 160 } }));
  await storage.sync();
  storage.close();
  open = [];

  const loaded = openStorage(path).load();
  expect(loaded.hardState).toEqual({ term: 2, vote: "b", commit: 160 });
  expect(loaded.entries).toEqual([...entries(1, 150, 1), ...entries(151, 170, 2)]);
});

const storedIndexes = (storage: RaftStorage) =>
  storage.db.query<{ first: number | null; last: number | null; n: number }, []>("SELECT min(idx) AS first, max(idx) AS last, count(*) AS n FROM raft_entries").get()!;

test("a compaction records its snapshot at once and deletes the entries it covers a bounded step at a time, oldest first", async () => {
  const path = join(tempDir("raft-storage"), "log.raft");
  const storage = openStorage(path);
  const total = TRIM_STEP_ENTRIES * 2 + 100;
  storage.write(ready({ entries: entries(1, total, 1), hardState: { term: 1, vote: "a", commit: total } }));
  await storage.sync();
  const snapshot: Snapshot = { index: total - 10, term: 1, membership: { voters: ["a"], learners: [] }, data: "image" };
  const firstKept = total - 50;

  storage.compact(snapshot, firstKept);
  expect(storage.load().snapshot).toEqual(snapshot);
  expect(storedIndexes(storage)).toEqual({ first: 1, last: total, n: total });

  expect(storage.trimStep()).toBe(true);
  expect(storedIndexes(storage)).toEqual({ first: TRIM_STEP_ENTRIES + 1, last: total, n: total - TRIM_STEP_ENTRIES });
  const steps = [true];
  while (steps.at(-1)) steps.push(storage.trimStep());
  expect(steps.length).toBe(Math.ceil((firstKept - 1) / TRIM_STEP_ENTRIES));
  expect(storedIndexes(storage)).toEqual({ first: firstKept, last: total, n: total - firstKept + 1 });
  // Nothing left to trim: entries from firstKept on stay.
  expect(storage.trimStep()).toBe(false);
  expect(storedIndexes(storage).n).toBe(total - firstKept + 1);
});

test("a node restarted before a compaction's entries were all deleted loads a log the core accepts, from the same snapshot", async () => {
  const path = join(tempDir("raft-storage"), "log.raft");
  const storage = openStorage(path);
  const total = TRIM_STEP_ENTRIES * 3;
  storage.write(ready({ entries: entries(1, total, 1), hardState: { term: 1, vote: "a", commit: total } }));
  await storage.sync();
  const snapshot: Snapshot = { index: total - 5, term: 1, membership: { voters: ["a"], learners: [] }, data: "image" };
  storage.compact(snapshot, total - 20);
  expect(storage.trimStep()).toBe(true);
  storage.close();
  open = [];

  const loaded = openStorage(path).load();
  expect(loaded.snapshot).toEqual(snapshot);
  expect(loaded.entries).toEqual(entries(TRIM_STEP_ENTRIES + 1, total, 1));
  const node = new RaftNode({ id: "a", random: () => 0.5 }, loaded, { appliedIndex: snapshot.index });
  expect(node.status()).toMatchObject({ commit: total, applied: snapshot.index, snapshotIndex: snapshot.index, lastIndex: total });
  expect(node.termAt(total)).toBe(1);
});
