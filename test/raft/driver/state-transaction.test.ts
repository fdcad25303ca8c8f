/**
 * The state database's long-lived write transaction: writes of several turns share one
 * transaction that commits once, within its interval; other connections see only what is
 * committed; commitNow and rollback act at once; a write that throws rolls back everything open;
 * a COMMIT that fails on the timer is reported.
 */
import { Database } from "bun:sqlite";
import { afterEach, expect, test } from "bun:test";
import { join } from "node:path";
import { openDatabase } from "../../../src/db";
import { StateTransaction } from "../../../src/raft/driver/state-transaction";
import { tempDir } from "../../helpers/processes";

let cleanup: (() => void)[] = [];
afterEach(() => {
  for (const action of cleanup.splice(0)) action();
});

function fixture(commitAfterMs: number) {
  const path = join(tempDir("state-transaction"), "state.db");
  const db = openDatabase(path);
  db.exec("CREATE TABLE parent (id INTEGER PRIMARY KEY); CREATE TABLE child (id INTEGER PRIMARY KEY, parent INTEGER REFERENCES parent (id))");
  const other = new Database(path, { readonly: true });
  const events = { commits: 0, failures: [] as unknown[] };
  const transaction = new StateTransaction(db, { commitAfterMs, committed: () => events.commits++, failed: (error) => events.failures.push(error) });
  cleanup.push(() => {
    transaction.rollback();
    db.close();
    other.close();
  });
  const insert = (id: number) => transaction.run(() => db.run("INSERT INTO parent (id) VALUES (?)", [id]));
  const count = (on: Database) => on.query<{ n: number }, []>("SELECT count(*) AS n FROM parent").get()!.n;
  return { db, other, transaction, events, insert, count };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

test("writes of several turns share one transaction, committed once within the interval; other connections see only the commit", async () => {
  const f = fixture(30);
  f.insert(1);
  await new Promise((resolve) => setImmediate(resolve));
  f.insert(2);
  expect(f.transaction.open).toBe(true);
  expect(f.count(f.db)).toBe(2);
  expect(f.count(f.other)).toBe(0);
  await until(() => f.events.commits > 0, "the commit");
  expect(f.events.commits).toBe(1);
  expect(f.count(f.other)).toBe(2);
  expect(f.transaction.open).toBe(false);
});

test("commitNow commits at once, rollback discards at once, and neither leaves a commit pending", async () => {
  const f = fixture(20);
  f.insert(1);
  f.transaction.commitNow();
  expect(f.count(f.other)).toBe(1);
  f.insert(2);
  f.transaction.rollback();
  expect(f.count(f.db)).toBe(1);
  f.transaction.commitNow();
  expect(f.events.commits).toBe(1);
});

test("a write that throws rolls back everything the transaction held, and the error reaches the caller", () => {
  const f = fixture(60_000);
  f.insert(1);
  expect(() => f.insert(1)).toThrow(/UNIQUE/);
  expect(f.transaction.open).toBe(false);
  expect(f.count(f.db)).toBe(0);
});

test("a COMMIT that fails on the timer is rolled back and reported", async () => {
  const f = fixture(10);
  // A deferred foreign key is checked at COMMIT: this one fails there.
  f.transaction.run(() => {
    f.db.run("PRAGMA defer_foreign_keys = ON");
    f.db.run("INSERT INTO child (id, parent) VALUES (1, 99)");
  });
  await until(() => f.events.failures.length > 0, "the failure");
  expect(String(f.events.failures[0])).toContain("FOREIGN KEY");
  expect(f.transaction.open).toBe(false);
  expect(f.events.commits).toBe(0);
});
