/**
 * A follower's deferred apply: entries wait up to the delay, then a batch is applied a slice per
 * event-loop turn (the loop serves other work between slices) in the state transaction, which
 * commits once at the end of the batch; taking over applies everything at once; closing stops it;
 * a failure rolls the transaction back and is reported. What is checked is what the state
 * database shows: to the applying connection, and to another one (which sees only commits).
 */
import { Database } from "bun:sqlite";
import { afterEach, expect, test } from "bun:test";
import { join } from "node:path";
import { openDatabase } from "../../../src/db";
import type { Entry } from "../../../src/raft/core";
import { FollowerApply, SLICE_ENTRIES } from "../../../src/raft/driver/follower-apply";
import { StateTransaction } from "../../../src/raft/driver/state-transaction";
import type { AppliedEntry } from "../../../src/raft/proposer";
import { tempDir } from "../../helpers/processes";

interface Fixture {
  apply: FollowerApply<string, number>;
  transaction: StateTransaction;
  /** The applying connection. */
  db: Database;
  /** Another connection to the same file. */
  other: Database;
  /** Sizes of the slices reported applied, in order. */
  slices: number[];
  commits: number;
  failures: unknown[];
}

let fixtures: Fixture[] = [];
afterEach(() => {
  for (const fixture of fixtures) {
    fixture.apply.close();
    fixture.transaction.rollback();
    fixture.db.close();
    fixture.other.close();
  }
  fixtures = [];
});

function fixture(delayMs: number, failAt?: number): Fixture {
  const path = join(tempDir("follower-apply"), "state.db");
  const db = openDatabase(path);
  db.exec("CREATE TABLE applied (idx INTEGER PRIMARY KEY)");
  const insert = db.prepare("INSERT INTO applied (idx) VALUES (?)");
  const f: Fixture = { db, other: new Database(path, { readonly: true }), slices: [], commits: 0, failures: [], apply: undefined as never, transaction: undefined as never };
  // Its own timer never fires here: every commit seen is a batch's.
  const transaction = new StateTransaction(db, { commitAfterMs: 60_000, committed: () => f.commits++, failed: (error) => f.failures.push(error) });
  f.transaction = transaction;
  f.apply = new FollowerApply<string, number>({
    transaction,
    delayMs,
    applyEntries: (entries: Entry[]): AppliedEntry<string, number>[] =>
      entries.map((entry) => {
        if (entry.index === failAt) throw new Error(`entry ${entry.index} cannot be applied`);
        insert.run(entry.index);
        return { index: entry.index, command: entry.data, result: entry.index };
      }),
    applied: (entries) => f.slices.push(entries.length),
    failed: (error) => f.failures.push(error),
  });
  fixtures.push(f);
  return f;
}

function entries(from: number, to: number): Entry[] {
  return Array.from({ length: to - from + 1 }, (_, i) => ({ index: from + i, term: 1, type: "normal" as const, data: `c${from + i}` }));
}

const count = (db: Database) => db.query<{ n: number }, []>("SELECT count(*) AS n FROM applied").get()!.n;
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
/** The slice sizes of a batch of `n` entries: full slices, then the rest. */
const slicesOf = (n: number) => [...Array<number>(Math.floor(n / SLICE_ENTRIES)).fill(SLICE_ENTRIES), ...(n % SLICE_ENTRIES > 0 ? [n % SLICE_ENTRIES] : [])];

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await turn();
  }
}

test("a batch is applied a slice per turn in one transaction, committed once: other connections see all of it or none", async () => {
  const f = fixture(10);
  f.apply.add(entries(1, 100));
  f.apply.add(entries(101, 200));
  expect(count(f.db)).toBe(0);
  const seenByOther = new Set<number>();
  await until(() => f.slices.length > 0, "the first slice");
  // Between slices the loop runs this test: the applying connection sees a prefix, the other none of it.
  expect(count(f.db)).toBe(SLICE_ENTRIES);
  while (f.commits === 0) {
    seenByOther.add(count(f.other));
    await turn();
  }
  expect(f.slices).toEqual(slicesOf(200));
  expect(f.commits).toBe(1);
  expect(count(f.other)).toBe(200);
  expect([...seenByOther]).toEqual([0]);
  expect(f.db.inTransaction).toBe(false);
});

test("entries added while a batch is applied go in the next batch, after the delay", async () => {
  const f = fixture(20);
  f.apply.add(entries(1, 100));
  await until(() => f.slices.length > 0, "the first slice");
  f.apply.add(entries(101, 110));
  await until(() => f.commits === 2, "a second batch");
  expect(f.slices).toEqual([...slicesOf(100), ...slicesOf(10)]);
  expect(count(f.other)).toBe(110);
});

test("applyAll applies and commits everything at once, including the rest of a batch in progress", async () => {
  const f = fixture(10_000);
  f.apply.add(entries(1, 10));
  f.apply.applyAll();
  expect(count(f.other)).toBe(10);
  expect(f.commits).toBe(1);

  const g = fixture(10);
  g.apply.add(entries(1, 150));
  await until(() => g.slices.length > 0, "the first slice");
  g.apply.add(entries(151, 160));
  g.apply.applyAll();
  expect(count(g.other)).toBe(160);
  expect(g.db.inTransaction).toBe(false);
});

test("dropThrough forgets waiting entries a snapshot covers", () => {
  const f = fixture(10_000);
  f.apply.add(entries(1, 10));
  f.apply.dropThrough(7);
  f.apply.applyAll();
  expect(f.db.query<{ idx: number }, []>("SELECT idx FROM applied ORDER BY idx").all().map((row) => row.idx)).toEqual([8, 9, 10]);
});

test("close stops a batch in progress: nothing more is applied, and the owner decides about the open transaction", async () => {
  const f = fixture(10);
  f.apply.add(entries(1, 200));
  await until(() => f.slices.length > 0, "the first slice");
  f.apply.close();
  f.apply.add(entries(201, 210));
  f.apply.applyAll();
  for (let i = 0; i < 5; i++) await turn();
  expect(f.slices).toEqual([SLICE_ENTRIES]);
  expect(count(f.db)).toBe(SLICE_ENTRIES);
  expect(f.transaction.open).toBe(true);
  f.transaction.rollback();
  expect(count(f.db)).toBe(0);
});

test("an entry that cannot be applied rolls its batch back and is reported", async () => {
  const f = fixture(10, 100);
  f.apply.add(entries(1, 150));
  await until(() => f.failures.length > 0, "the failure");
  expect(String(f.failures[0])).toContain("entry 100 cannot be applied");
  expect(f.db.inTransaction).toBe(false);
  expect(count(f.db)).toBe(0);
  expect(f.commits).toBe(0);
});
