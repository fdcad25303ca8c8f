/** Idempotency records inside apply: replay of the original result, conflicts, expiry, and what is not recorded. */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { EnqueueCommand, IdempotencyStamp } from "../../src/state/commands";
import { appendOutput, claim, complete, enqueue, Harness, LEASE_MS, leasedJob, registerHost, T0 } from "./harness";

let h: Harness;
beforeEach(() => {
  h = new Harness();
});
afterEach(() => h.close());

const stamp = (requestHash: string, ttlMs = 60_000): IdempotencyStamp => ({ key: "key-1", requestHash, ttlMs });

describe("idempotency", () => {
  test("same key and same request: the original result, and no second job", () => {
    const first = h.apply(enqueue({ jobId: "job-first", at: T0, idempotency: stamp("hash-a") }));
    expect(first.ok).toBe(true);
    expect(h.db.query("SELECT key, request_hash, expires_at FROM idempotency_records").all()).toEqual([
      { key: "key-1", request_hash: "hash-a", expires_at: T0 + 60_000 },
    ]);
    const before = h.dump();
    // A retry is stamped with a fresh job id; the record must win.
    const retry = h.apply(enqueue({ jobId: "job-retry", at: T0 + 10, idempotency: stamp("hash-a") }));
    expect(retry).toEqual(first);
    expect(h.dump()).toEqual(before);
    expect(h.db.query("SELECT id FROM jobs").all()).toEqual([{ id: "job-first" }]);
  });

  test("an enqueue retried after its job moved on is answered with the job as it was created, from a record of its id", () => {
    const signature = { publicKey: "pk", value: "sig" };
    const first = h.apply(enqueue({ jobId: "job-first", at: T0, priority: 3, submitter: "ci", signature, idempotency: stamp("hash-a") }));
    expect(first.ok).toBe(true);
    expect(h.db.query("SELECT result FROM idempotency_records").all()).toEqual([{ result: JSON.stringify({ created: "job-first" }) }]);
    h.ok(registerHost({ hostId: "h1", at: T0 + 1 }));
    h.ok(claim({ hostId: "h1", at: T0 + 2 }));
    h.ok(complete({ hostId: "h1", jobId: "job-first", attempt: 1, at: T0 + 3 }));

    const retry = h.apply(enqueue({ jobId: "job-retry", at: T0 + 10, priority: 3, submitter: "ci", signature, idempotency: stamp("hash-a") }));
    // The same answer, field for field and in the same order, although the job has finished since.
    expect(JSON.stringify(retry)).toBe(JSON.stringify(first));
    expect(h.db.query("SELECT id, state FROM jobs").all()).toEqual([{ id: "job-first", state: "succeeded" }]);
  });

  test("a claim retried after its jobs finished is answered with the jobs as they were leased, from a record of their ids", () => {
    const signature = { publicKey: "pk", value: "sig" };
    h.ok(enqueue({ jobId: "job-a", at: T0, priority: 2, submitter: "ci", signature }));
    h.ok(enqueue({ jobId: "job-b", at: T0 + 1, requires: ["gpu"], timeoutMs: 5_000 }));
    h.ok(registerHost({ hostId: "h1", at: T0 + 2, slots: 2, capabilities: ["gpu", "shell"] }));
    const first = h.apply(claim({ hostId: "h1", at: T0 + 3, maxJobs: 2, idempotency: stamp("claim-hash") }));
    expect(first).toMatchObject({ ok: true, value: { jobs: [{ id: "job-a", state: "leased", attempt: 1 }, { id: "job-b", attempt: 1 }] } });
    const record = JSON.parse(h.db.query<{ result: string }, []>("SELECT result FROM idempotency_records").get()!.result);
    expect(record).toEqual({ claimed: { hostId: "h1", at: T0 + 3, leaseExpiresAt: T0 + 3 + LEASE_MS, jobs: ["job-a", "job-b"] } });
    h.ok(complete({ hostId: "h1", jobId: "job-a", attempt: 1, at: T0 + 4 }));
    h.ok(complete({ hostId: "h1", jobId: "job-b", attempt: 1, at: T0 + 5, status: "failed" }));

    const retry = h.apply(claim({ hostId: "h1", at: T0 + 10, maxJobs: 2, idempotency: stamp("claim-hash") }));
    // The same answer, field for field and in the same order, although both jobs have finished since.
    expect(JSON.stringify(retry)).toBe(JSON.stringify(first));
  });

  test("a claim of a job on its second attempt keeps that job's whole view in the record, and replays it", () => {
    const lease = leasedJob(h, { job: { retryOnFailure: true, maxAttempts: 3, backoffMs: 100 } });
    h.ok(appendOutput({ ...lease, at: T0 + 50 }));
    h.ok(complete({ ...lease, at: T0 + 100, status: "failed", result: { exitCode: 3, signal: null, durationMs: 9 } }));
    h.ok(enqueue({ jobId: "job-fresh", at: T0 + 150 }));
    h.ok(registerHost({ hostId: "h2", at: T0 + 150, slots: 2 }));

    const first = h.apply(claim({ hostId: "h2", at: T0 + 200, maxJobs: 2, idempotency: stamp("claim-hash") }));
    expect(first).toMatchObject({ ok: true, value: { jobs: [{ id: lease.jobId, attempt: 2, lastError: "attempt 1: exit code 3" }, { id: "job-fresh" }] } });
    const record = JSON.parse(h.db.query<{ result: string }, []>("SELECT result FROM idempotency_records").get()!.result);
    expect(record.claimed.jobs).toEqual([(first as { value: { jobs: unknown[] } }).value.jobs[0], "job-fresh"]);
    h.ok(complete({ hostId: "h2", jobId: lease.jobId, attempt: 2, at: T0 + 300 }));

    const retry = h.apply(claim({ hostId: "h2", at: T0 + 400, maxJobs: 2, idempotency: stamp("claim-hash") }));
    expect(JSON.stringify(retry)).toBe(JSON.stringify(first));
  });

  test("same key and a different request: idempotency_conflict, and nothing changes", () => {
    h.ok(enqueue({ jobId: "job-first", idempotency: stamp("hash-a") }));
    const error = h.refusedWithoutChange(enqueue({ jobId: "job-other", at: T0 + 10, idempotency: stamp("hash-b") }), "idempotency_conflict");
    expect(error.field).toBe("x-idempotency-key");
  });

  test("a completion retried after it was applied gets the original answer instead of a stale_attempt refusal", () => {
    const lease = leasedJob(h);
    const first = h.apply(complete({ ...lease, at: T0 + 5, idempotency: stamp("complete-hash") }));
    expect(first).toMatchObject({ ok: true, value: { state: "succeeded" } });
    expect(h.apply(complete({ ...lease, at: T0 + 6, idempotency: stamp("complete-hash") }))).toEqual(first);
  });

  test("a refusal is remembered and replayed like a success", () => {
    h.ok(enqueue({ jobId: "taken" }));
    const first = h.apply(enqueue({ jobId: "taken", at: T0 + 1, idempotency: stamp("hash-a") }));
    expect(first).toMatchObject({ ok: false, error: { code: "duplicate_id" } });
    expect(h.apply(enqueue({ jobId: "fresh", at: T0 + 2, idempotency: stamp("hash-a") }))).toEqual(first);
    expect(h.db.query("SELECT 1 FROM jobs WHERE id = 'fresh'").get()).toBeNull();
  });

  test("a record is honoured until at reaches expires_at, then the key is free again", () => {
    h.ok(enqueue({ jobId: "job-first", at: T0, idempotency: stamp("hash-a", 1_000) }));
    expect(h.apply(enqueue({ jobId: "job-late", at: T0 + 999, idempotency: stamp("hash-b", 1_000) }))).toMatchObject({
      ok: false,
      error: { code: "idempotency_conflict" },
    });

    const reused = h.apply(enqueue({ jobId: "job-second", at: T0 + 1_000, idempotency: stamp("hash-b", 1_000) }));
    expect(reused).toMatchObject({ ok: true, value: { id: "job-second" } });
    expect(h.db.query("SELECT key, request_hash, expires_at FROM idempotency_records").all()).toEqual([
      { key: "key-1", request_hash: "hash-b", expires_at: T0 + 2_000 },
    ]);

    // Same request as the expired record: it is a new request, not a replay.
    const again = h.apply(enqueue({ jobId: "job-third", at: T0 + 2_000, idempotency: stamp("hash-a", 1_000) }));
    expect(again).toMatchObject({ ok: true, value: { id: "job-third" } });
    expect(h.db.query("SELECT id FROM jobs ORDER BY seq").all()).toEqual([{ id: "job-first" }, { id: "job-second" }, { id: "job-third" }]);
  });

  test("a command that throws is rolled back, reported as internal, and leaves its key unused", () => {
    h.ok(enqueue({ jobId: "before" }));
    const broken = { ...enqueue({ jobId: "broken", idempotency: stamp("hash-a") }), spec: {} } as unknown as EnqueueCommand;
    const before = h.dump();
    const result = h.apply(broken);
    expect(result).toMatchObject({ ok: false, error: { code: "internal" } });
    expect(h.dump()).toEqual(before);
    expect(h.db.query("SELECT count(*) AS n FROM idempotency_records").get()).toEqual({ n: 0 });
    expect(h.apply(enqueue({ jobId: "fixed", idempotency: stamp("hash-a") }))).toMatchObject({ ok: true, value: { id: "fixed" } });
  });
});
