/** Idempotency records inside apply: replay of the original result, conflicts, expiry, and what is not recorded. */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { EnqueueCommand, IdempotencyStamp } from "../../src/state/commands";
import { claim, complete, enqueue, Harness, leasedJob, registerHost, T0 } from "./harness";

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
