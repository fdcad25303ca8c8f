/** The same log applied to two fresh databases yields the same results and byte-identical tables. */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Command, EnqueueCommand } from "../../src/state/commands";
import {
  appendOutput,
  cancel,
  claim,
  complete,
  drainHost,
  dumpTables,
  enqueue,
  expireLeases,
  Harness,
  heartbeat,
  LEASE_MS,
  registerHost,
  renewLease,
  T0,
} from "./harness";

const dir = mkdtempSync(join(tmpdir(), "skyclaw-determinism-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A log touching every command, with refusals, retries, truncation, expiry and idempotent replays. */
function scriptedLog(): Command[] {
  const log: Command[] = [];
  const key = (n: number) => ({ key: `k${n}`, requestHash: `h${n % 7}`, ttlMs: 5_000 });
  log.push(registerHost({ hostId: "a", capabilities: ["shell", "gpu"], slots: 3, at: T0 }));
  log.push(registerHost({ hostId: "b", capabilities: ["shell"], slots: 2, at: T0 }));
  log.push(registerHost({ hostId: "c", capabilities: ["openclaw"], slots: 1, at: T0 }));
  for (let i = 0; i < 24; i++) {
    const at = T0 + i * 100;
    log.push(
      enqueue({
        jobId: `job-${i}`,
        at,
        priority: i % 3,
        requires: i % 4 === 0 ? ["gpu"] : [],
        spec: i % 5 === 0 ? { kind: "openclaw", message: `task ${i}` } : { kind: "shell", command: "echo", args: [String(i)] },
        maxAttempts: 1 + (i % 3),
        retryOnFailure: i % 2 === 0,
        backoffMs: 50,
        idempotency: i % 6 === 0 ? key(i) : undefined,
      }),
    );
    if (i % 6 === 0) log.push(enqueue({ jobId: `job-${i}-retry`, at: at + 1, idempotency: key(i) }));
    if (i % 7 === 3) log.push(enqueue({ jobId: `job-${i}-conflict`, at: at + 2, idempotency: { ...key(0), requestHash: "other" } }));
    for (const hostId of ["a", "b", "c"]) log.push(claim({ hostId, at: at + 10, maxJobs: 2 }));
    // Hosts act on jobs by guessing the attempt; wrong guesses are refusals, which are part of the log too.
    log.push(appendOutput({ hostId: "a", jobId: `job-${Math.max(0, i - 1)}`, attempt: 1, at: at + 20, maxOutputBytes: 1_024, chunks: [{ stream: "stdout", data: `out ${i} `.repeat(40) }] }));
    log.push(renewLease({ hostId: "b", jobId: `job-${Math.max(0, i - 2)}`, attempt: 1, at: at + 30 }));
    log.push(heartbeat({ hostId: "c", at: at + 40, running: [{ jobId: `job-${Math.max(0, i - 5)}`, attempt: 1 }] }));
    log.push(
      complete({
        hostId: i % 2 === 0 ? "a" : "b",
        jobId: `job-${Math.max(0, i - 3)}`,
        attempt: 1,
        at: at + 50,
        status: i % 3 === 0 ? "failed" : "succeeded",
        result: { exitCode: i % 3 === 0 ? 1 : 0, signal: null, durationMs: i },
      }),
    );
    if (i % 5 === 2) log.push(cancel({ jobId: `job-${i - 1}`, at: at + 60, reason: `r${i}` }));
    if (i === 12) log.push(drainHost({ hostId: "b", at: at + 70 }));
    if (i % 8 === 7) log.push(expireLeases({ at: at + LEASE_MS, hostTimeoutMs: 20_000 }));
  }
  log.push(expireLeases({ at: T0 + 10 * LEASE_MS, hostTimeoutMs: 20_000 }));
  return log;
}

test("two fresh databases fed the same log end with the same results and identical tables", () => {
  const log = scriptedLog();
  const memory = new Harness();
  const onDisk = new Harness(join(dir, "replica.db"));
  try {
    const memoryResults = log.map((command) => memory.apply(command));
    const diskResults = log.map((command) => onDisk.apply(command));
    expect(diskResults).toEqual(memoryResults);
    expect(dumpTables(onDisk.db)).toEqual(dumpTables(memory.db));

    // The log must exercise real work, or the comparison proves little.
    const dump = dumpTables(memory.db);
    expect(memoryResults.filter((result) => result.ok).length).toBeGreaterThan(60);
    expect(memoryResults.some((result) => !result.ok && result.error.code === "stale_attempt")).toBe(true);
    expect(memoryResults.some((result) => !result.ok && result.error.code === "idempotency_conflict")).toBe(true);
    expect(dump.job_output!.length).toBeGreaterThan(3);
    const states = new Set((dump.jobs as { state: string }[]).map((job) => job.state));
    expect(states.size).toBeGreaterThanOrEqual(3);
    expect(dump.state_meta).toEqual([{ key: "last_applied", value: log.length }]);
  } finally {
    memory.close();
    onDisk.close();
  }
});

test("a log differing in one entry gives different tables (the comparison can fail)", () => {
  const log = scriptedLog();
  const a = new Harness();
  const b = new Harness();
  try {
    for (const command of log) a.apply(command);
    // job-1 is enqueued with another priority: the same number of entries, a different history.
    const changed = log.map((command) => (command.type === "enqueue" && command.jobId === "job-1" ? { ...command, priority: 99 } : command));
    expect(changed).not.toEqual(log);
    for (const command of changed) b.apply(command);
    expect(dumpTables(b.db)).not.toEqual(dumpTables(a.db));
  } finally {
    a.close();
    b.close();
  }
});

test("applying the log in runs gives what applying it entry by entry gives, wherever the runs are cut", () => {
  const log = scriptedLog();
  const oneByOne = new Harness();
  try {
    const expected = log.map((command) => oneByOne.apply(command));
    // Runs that hold refusals (applied again a savepoint per command) and runs that do not.
    for (const size of [2, 3, 7, 16, log.length]) {
      const inRuns = new Harness();
      try {
        const results: unknown[] = [];
        for (let start = 0; start < log.length; start += size) results.push(...inRuns.applyRun(log.slice(start, start + size)));
        expect(results).toEqual(expected);
        expect(dumpTables(inRuns.db)).toEqual(dumpTables(oneByOne.db));
      } finally {
        inRuns.close();
      }
    }
  } finally {
    oneByOne.close();
  }
});

test("a command that throws inside a run loses its own writes only; the run's others are applied", () => {
  const h = new Harness();
  try {
    // No kind: the enqueue records a new requirement set, then its job's insert fails.
    const broken = { ...enqueue({ jobId: "broken", requires: ["gpu"] }), spec: {} } as unknown as EnqueueCommand;
    const results = h.applyRun([enqueue({ jobId: "before" }), broken, enqueue({ jobId: "after" })]);
    expect(results.map((result) => (result.ok ? "ok" : result.error.code))).toEqual(["ok", "internal", "ok"]);
    expect(h.db.query("SELECT id FROM jobs ORDER BY seq").all()).toEqual([{ id: "before" }, { id: "after" }]);
    expect(h.db.query("SELECT requires FROM requirement_sets").all()).toEqual([{ requires: '["shell"]' }]);
    expect(h.machine.lastApplied()).toBe(3);
  } finally {
    h.close();
  }
});
