/**
 * WorkerLog: the LocalLog on a writer thread. Results and onApplied batches in log order, a write
 * visible to the main thread's own connection as soon as its proposal resolves, close() that
 * commits what is pending, and failures of the writer that reject proposals instead of hanging them.
 */
import { Database } from "bun:sqlite";
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase } from "../../src/db";
import type { AppliedEntry } from "../../src/raft/proposer";
import { WorkerLog } from "../../src/raft/worker-log";
import type { Command, CommandResult } from "../../src/state/commands";
import { enqueue, registerHost, T0 } from "../state/harness";

const dir = mkdtempSync(join(tmpdir(), "skyclaw-worker-log-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileCount = 0;
const freshPath = () => join(dir, `log-${++fileCount}.db`);

const open: WorkerLog<Command, CommandResult>[] = [];
afterEach(() => {
  for (const log of open.splice(0)) log.close();
});

function openLog(path: string, writerEntry?: string): { log: WorkerLog<Command, CommandResult>; batches: AppliedEntry<Command, CommandResult>[][] } {
  const log = new WorkerLog<Command, CommandResult>(path, writerEntry);
  open.push(log);
  const batches: AppliedEntry<Command, CommandResult>[][] = [];
  log.onApplied((entries) => batches.push(entries));
  return { log, batches };
}

function readRows<T>(path: string, sql: string): T[] {
  const db = new Database(path, { readonly: true });
  try {
    return db.query(sql).all() as T[];
  } finally {
    db.close();
  }
}

const jobIds = (result: CommandResult) => (result.ok ? (result.value as { id: string }).id : result.error.code);

describe("proposals through the writer thread", () => {
  test("concurrent proposals resolve with their own results, and onApplied sees every entry once, in log order", async () => {
    const path = freshPath();
    const { log, batches } = openLog(path);
    const first = Array.from({ length: 30 }, (_, i) => enqueue({ jobId: `a-${i}`, at: T0 + i }));
    const firstResults = Promise.all(first.map((command) => log.propose(command)));
    // Proposed while the first batch is (probably) still being committed: queued for the next one.
    await new Promise((resolve) => setImmediate(resolve));
    const second = Array.from({ length: 30 }, (_, i) => enqueue({ jobId: `b-${i}`, at: T0 + 100 + i }));
    const results = [...(await firstResults), ...(await Promise.all(second.map((command) => log.propose(command))))];
    const commands = [...first, ...second];

    expect(results.map(jobIds)).toEqual(commands.map((command) => command.jobId));
    expect(batches.flat().map((entry) => entry.index)).toEqual(commands.map((_, i) => i + 1));
    expect(batches.flat().map((entry) => entry.command)).toEqual(commands);
    expect(batches.length).toBeLessThan(commands.length);
    expect(readRows<{ id: string }>(path, "SELECT id FROM jobs ORDER BY seq")).toEqual(commands.map((command) => ({ id: command.jobId })));
    expect(readRows<{ idx: number }>(path, "SELECT idx FROM raft_log ORDER BY idx").length).toBe(60);
  });

  test("a write is visible to the main thread's own read connection once its proposal resolves", async () => {
    const path = freshPath();
    const { log } = openLog(path);
    await log.propose(registerHost({ hostId: "h1" }));
    const reader = openDatabase(path);
    try {
      for (let i = 0; i < 20; i++) {
        await log.propose(enqueue({ jobId: `job-${i}`, at: T0 + i }));
        expect(reader.query("SELECT count(*) AS n FROM jobs").get()).toEqual({ n: i + 1 });
      }
    } finally {
      reader.close();
    }
  });

  test("a refusal resolves its own proposal and does not disturb the rest of the batch", async () => {
    const { log } = openLog(freshPath());
    const results = await Promise.all([
      log.propose(enqueue({ jobId: "same" })),
      log.propose(enqueue({ jobId: "same", at: T0 + 1 })),
      log.propose(enqueue({ jobId: "other", at: T0 + 2 })),
    ]);
    expect(results.map(jobIds)).toEqual(["same", "duplicate_id", "other"]);
  });

  test("close commits the proposals still pending before it returns, and later proposals are rejected", async () => {
    const path = freshPath();
    const log = new WorkerLog<Command, CommandResult>(path);
    const pending = Array.from({ length: 5 }, (_, i) => log.propose(enqueue({ jobId: `last-${i}`, at: T0 + i })));
    log.close();
    // The writer's connection is closed and its commits are on disk before close() returns.
    expect(readRows<{ id: string }>(path, "SELECT id FROM jobs ORDER BY seq").map((row) => row.id)).toEqual(
      ["last-0", "last-1", "last-2", "last-3", "last-4"],
    );
    expect((await Promise.all(pending)).map(jobIds)).toEqual(["last-0", "last-1", "last-2", "last-3", "last-4"]);
    await expect(log.propose(enqueue({ jobId: "too-late" }))).rejects.toThrow("closed");
  });
});

describe("failures of the writer reject proposals", () => {
  test("a batch whose transaction fails is rejected with the reason, and the log goes on", async () => {
    const path = freshPath();
    const { log } = openLog(path);
    await log.propose(registerHost({ hostId: "h1" }));
    // Another writer moves last_applied behind the log's back: the next entry is out of order.
    const intruder = openDatabase(path);
    intruder.query("UPDATE state_meta SET value = value + 5 WHERE key = 'last_applied'").run();
    intruder.close();

    const outcomes = await Promise.allSettled([log.propose(enqueue({ jobId: "x" })), log.propose(enqueue({ jobId: "y" }))]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(["rejected", "rejected"]);
    expect(String((outcomes[0] as PromiseRejectedResult).reason)).toContain("out of order");
    expect(readRows(path, "SELECT id FROM jobs")).toEqual([]);

    expect(jobIds(await log.propose(enqueue({ jobId: "after" })))).toBe("after");
    expect(readRows(path, "SELECT id FROM jobs")).toEqual([{ id: "after" }]);
  });

  test("a database the writer cannot open rejects every proposal with the reason", async () => {
    const { log } = openLog(join("/dev/null", "not-a-dir", "log.db"));
    await expect(log.propose(enqueue({ jobId: "j" }))).rejects.toThrow("could not open");
    await expect(log.propose(enqueue({ jobId: "k" }))).rejects.toThrow("could not open");
  });

  test("a writer thread that dies rejects the proposals it held and every later one", async () => {
    const { log } = openLog(freshPath(), new URL("./fixtures/crashing-log-writer.ts", import.meta.url).href);
    const outcomes = await Promise.allSettled([log.propose(enqueue({ jobId: "a" })), log.propose(enqueue({ jobId: "b" }))]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(["rejected", "rejected"]);
    expect(String((outcomes[0] as PromiseRejectedResult).reason)).toContain("log writer");
    await expect(log.propose(enqueue({ jobId: "c" }))).rejects.toThrow("log writer");
  });
});
