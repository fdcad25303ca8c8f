/** LocalLog over the state machine: group commit, durability before answers, replay of logged-but-unapplied entries, ordering. */
import type { Database } from "bun:sqlite";
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase } from "../../src/db";
import { LocalLog } from "../../src/raft/local-log";
import type { AppliedEntry } from "../../src/raft/proposer";
import type { Command, CommandResult } from "../../src/state/commands";
import type { CommitSync } from "../../src/raft/wal-fsync";
import { StateMachine } from "../../src/state/state-machine";
import { dumpTables, enqueue, registerHost, T0 } from "./harness";

const dir = mkdtempSync(join(tmpdir(), "skyclaw-local-log-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileCount = 0;
const freshPath = () => join(dir, `log-${++fileCount}.db`);

interface Node {
  db: Database;
  machine: StateMachine;
  log: LocalLog<Command, CommandResult>;
  batches: AppliedEntry<Command, CommandResult>[][];
}

const open: Node[] = [];
afterEach(() => {
  for (const node of open.splice(0)) closeNode(node);
});

function openNode(path: string): Node {
  const db = openDatabase(path);
  const machine = new StateMachine(db);
  const log = new LocalLog<Command, CommandResult>(db, machine);
  const batches: AppliedEntry<Command, CommandResult>[][] = [];
  log.onApplied((entries) => batches.push(entries));
  const node = { db, machine, log, batches };
  open.push(node);
  return node;
}

function closeNode(node: Node): void {
  const index = open.indexOf(node);
  if (index >= 0) open.splice(index, 1);
  node.log.close();
  node.db.close();
}

const logRows = (db: Database) => db.query<{ idx: number; data: string }, []>("SELECT idx, data FROM raft_log ORDER BY idx").all();

describe("group commit", () => {
  test("concurrent proposals all resolve, in order, with fewer batches than proposals", async () => {
    const node = openNode(freshPath());
    const commands = Array.from({ length: 40 }, (_, i) => enqueue({ jobId: `job-${i}`, at: T0 + i }));
    const results = await Promise.all(commands.map((command) => node.log.propose(command)));

    expect(results.map((result) => result.ok && (result.value as { id: string }).id)).toEqual(commands.map((c) => c.jobId));
    expect(logRows(node.db)).toEqual(commands.map((command, i) => ({ idx: i + 1, data: JSON.stringify(command) })));
    expect(node.machine.lastApplied()).toBe(40);
    const batchSizes = node.batches.map((batch) => batch.length);
    expect(batchSizes.reduce((sum, size) => sum + size, 0)).toBe(40);
    expect(batchSizes.length).toBeLessThan(40);
    expect(node.batches.flat().map((entry) => entry.index)).toEqual(commands.map((_, i) => i + 1));
    expect(node.db.query("SELECT id FROM jobs ORDER BY seq").all()).toEqual(commands.map((c) => ({ id: c.jobId })));
  });

  test("a refusal resolves its own proposal and does not disturb the rest of the batch", async () => {
    const node = openNode(freshPath());
    const [first, duplicate, third] = await Promise.all([
      node.log.propose(enqueue({ jobId: "same" })),
      node.log.propose(enqueue({ jobId: "same", at: T0 + 1 })),
      node.log.propose(enqueue({ jobId: "other", at: T0 + 2 })),
    ]);
    expect(first!.ok).toBe(true);
    expect(duplicate).toMatchObject({ ok: false, error: { code: "duplicate_id" } });
    expect(third!.ok).toBe(true);
    expect(node.machine.lastApplied()).toBe(3);
  });

  test("a batch whose apply throws is not committed, every proposer of it is rejected, and the log goes on", async () => {
    const db = openDatabase(freshPath());
    const machine = new StateMachine(db);
    const exploding = {
      lastApplied: () => machine.lastApplied(),
      apply: (index: number, command: Command) => {
        if (command.type === "enqueue" && command.jobId === "boom") throw new Error("disk on fire");
        return machine.apply(index, command);
      },
    };
    const log = new LocalLog<Command, CommandResult>(db, exploding);
    try {
      await log.propose(registerHost({ hostId: "h1" }));
      const before = dumpTables(db);
      const outcomes = await Promise.allSettled([
        log.propose(enqueue({ jobId: "fine" })),
        log.propose(enqueue({ jobId: "boom" })),
      ]);
      expect(outcomes.map((outcome) => outcome.status)).toEqual(["rejected", "rejected"]);
      expect(dumpTables(db)).toEqual(before);
      expect(logRows(db).map((row) => row.idx)).toEqual([1]);

      expect(await log.propose(enqueue({ jobId: "after" }))).toMatchObject({ ok: true });
      expect(logRows(db).map((row) => row.idx)).toEqual([1, 2]);
      expect(machine.lastApplied()).toBe(2);
    } finally {
      log.close();
      db.close();
    }
  });

  test("close applies proposals still waiting for their batch, and later proposals are rejected", async () => {
    const node = openNode(freshPath());
    const pending = node.log.propose(enqueue({ jobId: "last-one" }));
    node.log.close();
    expect(await pending).toMatchObject({ ok: true, value: { id: "last-one" } });
    await expect(node.log.propose(enqueue({ jobId: "too-late" }))).rejects.toThrow("closed");
    expect(node.db.query("SELECT id FROM jobs").all()).toEqual([{ id: "last-one" }]);
  });
});

/** An fsync the test completes (or fails) by hand, counting how many were started. */
class ManualSync implements CommitSync {
  readonly onDisk = true;
  started = 0;
  syncedNow = 0;
  private inFlight: { resolve: () => void; reject: (error: Error) => void } | null = null;
  private startWaiters: (() => void)[] = [];

  sync(): Promise<void> {
    this.started++;
    for (const wake of this.startWaiters.splice(0)) wake();
    return new Promise((resolve, reject) => (this.inFlight = { resolve, reject }));
  }
  /** Resolves when the log starts its next fsync (right after its next commit). */
  nextStart(): Promise<void> {
    return new Promise((resolve) => this.startWaiters.push(resolve));
  }
  syncNow(): void {
    this.syncedNow++;
  }
  close(): void {}

  /** Completes the fsync in flight, then lets the log react to it. */
  async complete(): Promise<void> {
    const inFlight = this.inFlight!;
    this.inFlight = null;
    inFlight.resolve();
    await settle();
  }
  async fail(message: string): Promise<void> {
    const inFlight = this.inFlight!;
    this.inFlight = null;
    inFlight.reject(new Error(message));
    await settle();
  }
}

/** Lets the log run its group-commit turn and every promise callback that follows. */
const settle = () => new Promise<void>((resolve) => setImmediate(() => setImmediate(resolve)));

/** A log whose fsyncs the test completes by hand; commits are paced only where a test asks. */
function openWithSync(path: string, minCommitIntervalMs = 0) {
  const db = openDatabase(path);
  const machine = new StateMachine(db);
  const sync = new ManualSync();
  const log = new LocalLog<Command, CommandResult>(db, machine, sync, { minCommitIntervalMs });
  const batches: AppliedEntry<Command, CommandResult>[][] = [];
  log.onApplied((entries) => batches.push(entries));
  return { db, machine, log, sync, batches, close: () => (log.close(), db.close()) };
}

describe("durability: answered only after an fsync that began after the commit", () => {
  test("a committed batch is neither answered nor announced before its fsync completes", async () => {
    const node = openWithSync(freshPath());
    try {
      let answered = false;
      const proposal = node.log.propose(enqueue({ jobId: "j1" })).then((result) => ((answered = true), result));
      await settle();
      // Committed (another connection sees it) but not yet acknowledged.
      const other = openDatabase(node.db.filename);
      expect(other.query("SELECT id FROM jobs").all()).toEqual([{ id: "j1" }]);
      other.close();
      expect(node.sync.started).toBe(1);
      expect(answered).toBe(false);
      expect(node.batches).toEqual([]);

      await node.sync.complete();
      expect(answered).toBe(true);
      expect(await proposal).toMatchObject({ ok: true, value: { id: "j1" } });
      expect(node.batches.map((batch) => batch.map((entry) => entry.index))).toEqual([[1]]);
    } finally {
      node.close();
    }
  });

  test("batches committed while an fsync is in flight wait for the next one, which covers them all", async () => {
    const node = openWithSync(freshPath());
    try {
      const answered: string[] = [];
      const propose = (jobId: string) => node.log.propose(enqueue({ jobId })).then(() => answered.push(jobId));
      void propose("first");
      await settle();
      void propose("second");
      await settle();
      void propose("third");
      await settle();
      // Two batches committed behind the fsync of the first: no second fsync yet.
      expect(node.sync.started).toBe(1);
      expect(node.machine.lastApplied()).toBe(3);

      await node.sync.complete();
      expect(answered).toEqual(["first"]);
      expect(node.sync.started).toBe(2);

      await node.sync.complete();
      expect(answered).toEqual(["first", "second", "third"]);
      expect(node.batches.map((batch) => batch.map((entry) => entry.index))).toEqual([[1], [2], [3]]);
    } finally {
      node.close();
    }
  });

  test("durable() is undefined when nothing waits, else resolves with the fsync that covers what is applied", async () => {
    const node = openWithSync(freshPath());
    try {
      expect(node.log.durable()).toBeUndefined();
      void node.log.propose(enqueue({ jobId: "j1" }));
      await settle();
      let readable = false;
      void node.log.durable()!.then(() => (readable = true));
      await settle();
      expect(readable).toBe(false);
      await node.sync.complete();
      expect(readable).toBe(true);
      expect(node.log.durable()).toBeUndefined();
    } finally {
      node.close();
    }
  });

  test("a failed fsync rejects what it covered and every later proposal, naming the failure", async () => {
    const node = openWithSync(freshPath());
    try {
      const first = node.log.propose(enqueue({ jobId: "j1" }));
      await settle();
      const second = node.log.propose(enqueue({ jobId: "j2" }));
      const outcomes = Promise.allSettled([first, second]);
      await settle();
      await node.sync.fail("EIO: i/o error");
      const reasons = (await outcomes).map((outcome) => (outcome.status === "rejected" ? String(outcome.reason) : "answered"));
      expect(reasons).toEqual([
        "Error: the log's storage failed to fsync (EIO: i/o error); restart the coordinator",
        "Error: the log's storage failed to fsync (EIO: i/o error); restart the coordinator",
      ]);
      await expect(node.log.propose(enqueue({ jobId: "j3" }))).rejects.toThrow("failed to fsync");
      expect(node.batches).toEqual([]);
    } finally {
      node.close();
    }
  });

  test("close syncs on the spot and answers everything committed, including what the fsync in flight covered", async () => {
    const node = openWithSync(freshPath());
    const first = node.log.propose(enqueue({ jobId: "j1" }));
    await settle();
    const second = node.log.propose(enqueue({ jobId: "j2" }));
    node.close();
    expect(node.sync.syncedNow).toBe(1);
    expect(await first).toMatchObject({ ok: true });
    expect(await second).toMatchObject({ ok: true });
    expect(node.batches.flat().map((entry) => entry.index)).toEqual([1, 2]);
  });
});

describe("replay at start-up", () => {
  test("entries in raft_log beyond last_applied are applied when a LocalLog opens the file", async () => {
    const path = freshPath();
    const first = openNode(path);
    await first.log.propose(registerHost({ hostId: "h1" }));
    closeNode(first);

    // As if the process died after the entries were logged but before they were applied.
    const raw = openDatabase(path);
    const insert = raw.query("INSERT INTO raft_log (idx, term, data) VALUES (?, 1, ?)");
    insert.run(2, JSON.stringify(enqueue({ jobId: "logged-only", at: T0 + 1 })));
    insert.run(3, JSON.stringify(enqueue({ jobId: "logged-too", at: T0 + 2 })));
    expect(new StateMachine(raw).lastApplied()).toBe(1);
    raw.close();

    const second = openNode(path);
    expect(second.machine.lastApplied()).toBe(3);
    expect(second.db.query("SELECT id, state FROM jobs ORDER BY seq").all()).toEqual([
      { id: "logged-only", state: "queued" },
      { id: "logged-too", state: "queued" },
    ]);
    // New proposals continue after the replayed entries.
    await second.log.propose(enqueue({ jobId: "new", at: T0 + 3 }));
    expect(logRows(second.db).map((row) => row.idx)).toEqual([1, 2, 3, 4]);
    expect(second.machine.lastApplied()).toBe(4);
  });

  test("reopening a fully applied log applies nothing twice", async () => {
    const path = freshPath();
    const first = openNode(path);
    await Promise.all([first.log.propose(registerHost({ hostId: "h1" })), first.log.propose(enqueue({ jobId: "j1" }))]);
    const before = dumpTables(first.db);
    closeNode(first);

    const second = openNode(path);
    expect(dumpTables(second.db)).toEqual(before);
    expect(second.machine.lastApplied()).toBe(2);
  });
});

describe("ordering", () => {
  test("a run of entries is applied only right after last_applied, and records the run's last index", () => {
    const db = openDatabase(":memory:");
    const machine = new StateMachine(db);
    try {
      const run = (first: number, ids: string[]) => db.transaction(() => machine.applyRun(first, ids.map((jobId) => enqueue({ jobId }))))();
      expect(() => run(2, ["a", "b"])).toThrow("out of order");
      expect(run(1, ["a", "b"]).map((result) => result.ok)).toEqual([true, true]);
      expect(machine.lastApplied()).toBe(2);
      const before = dumpTables(db);
      expect(() => run(2, ["c"])).toThrow("out of order");
      expect(dumpTables(db)).toEqual(before);
      expect(run(3, ["c"]).map((result) => result.ok)).toEqual([true]);
      expect(machine.lastApplied()).toBe(3);
    } finally {
      db.close();
    }
  });

  test("the state machine refuses to apply an entry out of order, and changes nothing", () => {
    const db = openDatabase(":memory:");
    const machine = new StateMachine(db);
    try {
      const applyAt = (index: number) => db.transaction(() => machine.apply(index, enqueue({ jobId: `job-at-${index}` })))();
      expect(() => applyAt(2)).toThrow("out of order");
      expect(() => applyAt(0)).toThrow("out of order");
      expect(applyAt(1).ok).toBe(true);
      const before = dumpTables(db);
      expect(() => applyAt(1)).toThrow("out of order");
      expect(() => applyAt(3)).toThrow("out of order");
      expect(dumpTables(db)).toEqual(before);
      expect(machine.lastApplied()).toBe(1);
    } finally {
      db.close();
    }
  });
});

describe("commit pacing", () => {
  const proposeMany = (node: ReturnType<typeof openWithSync>, prefix: string, count: number) => {
    for (let i = 0; i < count; i++) void node.log.propose(enqueue({ jobId: `${prefix}-${i}` }));
  };

  test("after a batch of 8 or more, the next commit waits for the rest of minCommitIntervalMs and takes what came meanwhile", async () => {
    const node = openWithSync(freshPath(), 200);
    try {
      const startedAt = performance.now();
      proposeMany(node, "busy", 8);
      await settle();
      // Nothing committed before it: at once.
      expect(node.machine.lastApplied()).toBe(8);
      await node.sync.complete();

      const secondCommit = node.sync.nextStart();
      proposeMany(node, "next", 2);
      await settle();
      // After a batch that shows load: held for the rest of the interval, then committed together.
      expect(node.machine.lastApplied()).toBe(8);
      await secondCommit;
      expect(performance.now() - startedAt).toBeGreaterThanOrEqual(195);
      expect(node.machine.lastApplied()).toBe(10);
      await node.sync.complete();
      expect(node.batches.map((batch) => batch.length)).toEqual([8, 2]);
    } finally {
      node.close();
    }
  });

  test("after a small batch (one client writing request after request) the next is committed at the next turn", async () => {
    const node = openWithSync(freshPath(), 200);
    try {
      proposeMany(node, "single", 1);
      await settle();
      await node.sync.complete();
      proposeMany(node, "again", 1);
      await settle();
      expect(node.machine.lastApplied()).toBe(2);
    } finally {
      node.close();
    }
  });
});
