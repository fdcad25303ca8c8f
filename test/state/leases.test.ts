/** renewLease, expireLeases and fencing: a stale (jobId, attempt) or another host's write changes nothing. */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import {
  appendOutput,
  cancel,
  claim,
  complete,
  enqueue,
  expireLeases,
  Harness,
  heartbeat,
  LEASE_MS,
  leasedJob,
  registerHost,
  renewLease,
  T0,
} from "./harness";

let h: Harness;
beforeEach(() => {
  h = new Harness();
});
afterEach(() => h.close());

describe("renewLease", () => {
  test("moves the lease expiry to at + leaseMs", () => {
    const lease = leasedJob(h);
    const value = h.ok(renewLease({ ...lease, at: T0 + 10_000, leaseMs: 45_000 }));
    expect(value).toEqual({ jobId: lease.jobId, attempt: 1, leaseExpiresAt: T0 + 55_000 });
    expect(h.job(lease.jobId)).toMatchObject({ state: "leased", host_id: lease.hostId, attempt: 1, lease_expires_at: T0 + 55_000 });
  });

  test("refuses an unknown job with not_found and changes nothing", () => {
    const lease = leasedJob(h);
    h.refusedWithoutChange(renewLease({ ...lease, jobId: "nope" }), "not_found");
  });

  test("refuses a job that is not leased with stale_attempt", () => {
    h.ok(registerHost({ hostId: "host-a" }));
    h.ok(enqueue({ jobId: "queued" }));
    h.refusedWithoutChange(renewLease({ hostId: "host-a", jobId: "queued", attempt: 0 }), "stale_attempt");
  });
});

describe("fencing", () => {
  /** job-1 was leased to host-a (attempt 1), expired, and is now leased to host-b as attempt 2. */
  function reLeased() {
    const first = leasedJob(h, { hostId: "host-a", job: { backoffMs: 0 } });
    h.ok(registerHost({ hostId: "host-b" }));
    h.ok(expireLeases({ at: T0 + LEASE_MS }));
    const { jobs } = h.ok(claim({ hostId: "host-b", at: T0 + LEASE_MS + 1 }));
    expect(jobs[0]).toMatchObject({ id: first.jobId, attempt: 2, hostId: "host-b" });
    return { jobId: first.jobId, current: { hostId: "host-b", attempt: 2 } };
  }

  const staleWriters = [
    { why: "the old attempt from the old host", hostId: "host-a", attempt: 1 },
    { why: "the old attempt from the current host", hostId: "host-b", attempt: 1 },
    { why: "the current attempt from another host", hostId: "host-a", attempt: 2 },
    { why: "a future attempt", hostId: "host-b", attempt: 3 },
  ];

  for (const writer of staleWriters) {
    test(`renewLease, appendOutput and complete with ${writer.why} are refused as stale_attempt`, () => {
      const { jobId } = reLeased();
      const lease = { jobId, hostId: writer.hostId, attempt: writer.attempt };
      const error = h.refusedWithoutChange(renewLease({ ...lease, at: T0 + LEASE_MS + 2 }), "stale_attempt");
      expect(error.field).toBe("attempt");
      h.refusedWithoutChange(appendOutput({ ...lease, at: T0 + LEASE_MS + 2 }), "stale_attempt");
      h.refusedWithoutChange(complete({ ...lease, at: T0 + LEASE_MS + 2, status: "succeeded" }), "stale_attempt");
      h.refusedWithoutChange(complete({ ...lease, at: T0 + LEASE_MS + 2, status: "failed" }), "stale_attempt");
    });
  }

  test("the current lease holder can still renew, write and complete", () => {
    const { jobId, current } = reLeased();
    h.ok(renewLease({ jobId, ...current, at: T0 + LEASE_MS + 2 }));
    h.ok(appendOutput({ jobId, ...current, at: T0 + LEASE_MS + 3 }));
    expect(h.ok(complete({ jobId, ...current, at: T0 + LEASE_MS + 4 }))).toMatchObject({ state: "succeeded", attempt: 2 });
  });

  test("a finished job refuses a completion of its own last attempt", () => {
    const lease = leasedJob(h);
    h.ok(complete({ ...lease, at: T0 + 1 }));
    h.refusedWithoutChange(complete({ ...lease, at: T0 + 2, status: "failed" }), "stale_attempt");
  });
});

describe("expireLeases", () => {
  test("leaves leases that have not expired yet alone", () => {
    const lease = leasedJob(h);
    const before = h.dump();
    const report = h.ok(expireLeases({ at: T0 + LEASE_MS - 1 }));
    expect(report).toEqual({ requeued: [], dead: [], cancelled: [], lostHosts: [], idempotencyRecordsPruned: 0 });
    expect(h.dump()).toEqual(before);
    expect(h.job(lease.jobId).state).toBe("leased");
  });

  test("requeues an expired lease after backoffMs * 2^(attempt-1), then kills the job after maxAttempts", () => {
    const backoffMs = 1_000;
    const lease = leasedJob(h, { job: { maxAttempts: 3, backoffMs } });
    let at = T0 + LEASE_MS;
    for (const attempt of [1, 2]) {
      const report = h.ok(expireLeases({ at }));
      expect(report.requeued).toEqual([lease.jobId]);
      const availableAt = at + backoffMs * 2 ** (attempt - 1);
      expect(h.job(lease.jobId)).toMatchObject({
        state: "queued",
        attempt,
        host_id: null,
        lease_expires_at: null,
        available_at: availableAt,
        updated_at: at,
        finished_at: null,
        last_error: `lease of attempt ${attempt} on host "${lease.hostId}" expired`,
      });
      expect(h.ok(claim({ hostId: lease.hostId, at: availableAt - 1 }))).toEqual({ jobs: [] });
      const { jobs } = h.ok(claim({ hostId: lease.hostId, at: availableAt }));
      expect(jobs[0]).toMatchObject({ id: lease.jobId, attempt: attempt + 1 });
      at = availableAt + LEASE_MS;
    }
    const report = h.ok(expireLeases({ at }));
    expect(report.dead).toEqual([lease.jobId]);
    expect(report.requeued).toEqual([]);
    expect(h.job(lease.jobId)).toMatchObject({
      state: "dead",
      attempt: 3,
      host_id: null,
      lease_expires_at: null,
      finished_at: at,
      last_error: `lease of attempt 3 on host "${lease.hostId}" expired; all 3 attempts used`,
    });
    expect(h.ok(claim({ hostId: lease.hostId, at: at + 10_000_000 }))).toEqual({ jobs: [] });
  });

  test("a job with a pending cancel whose lease expires is cancelled, not requeued", () => {
    const lease = leasedJob(h, { job: { maxAttempts: 5 } });
    h.ok(cancel({ jobId: lease.jobId, at: T0 + 1, reason: "not needed" }));
    const report = h.ok(expireLeases({ at: T0 + LEASE_MS }));
    expect(report.cancelled).toEqual([lease.jobId]);
    expect(h.job(lease.jobId)).toMatchObject({ state: "cancelled", host_id: null, lease_expires_at: null, finished_at: T0 + LEASE_MS });
  });

  test("a renewed lease does not expire at its old deadline", () => {
    const lease = leasedJob(h);
    h.ok(heartbeat({ hostId: lease.hostId, at: T0 + 20_000, running: [{ jobId: lease.jobId, attempt: 1 }] }));
    expect(h.ok(expireLeases({ at: T0 + LEASE_MS })).requeued).toEqual([]);
    expect(h.ok(expireLeases({ at: T0 + 20_000 + LEASE_MS })).requeued).toEqual([lease.jobId]);
  });

  test("marks hosts silent for hostTimeoutMs lost, and only those", () => {
    h.ok(registerHost({ hostId: "quiet", at: T0 }));
    h.ok(registerHost({ hostId: "chatty", at: T0 }));
    h.ok(heartbeat({ hostId: "chatty", at: T0 + 5_000 }));
    const report = h.ok(expireLeases({ at: T0 + 10_000, hostTimeoutMs: 10_000 }));
    expect(report.lostHosts).toEqual(["quiet"]);
    expect(h.host("quiet").state).toBe("lost");
    expect(h.host("chatty").state).toBe("active");
    expect(h.ok(expireLeases({ at: T0 + 11_000, hostTimeoutMs: 10_000 })).lostHosts).toEqual([]);
  });

  test("deletes idempotency records whose expiry has passed", () => {
    const stamp = (key: string, ttlMs: number) => ({ key, requestHash: `hash-${key}`, ttlMs });
    h.ok(enqueue({ jobId: "j1", at: T0, idempotency: stamp("short", 1_000) }));
    h.ok(enqueue({ jobId: "j2", at: T0, idempotency: stamp("long", 5_000) }));
    expect(h.ok(expireLeases({ at: T0 + 999 })).idempotencyRecordsPruned).toBe(0);
    expect(h.ok(expireLeases({ at: T0 + 1_000 })).idempotencyRecordsPruned).toBe(1);
    expect(h.db.query("SELECT key FROM idempotency_records").all()).toEqual([{ key: "long" }]);
  });

  test("prunes idempotency records oldest first, up to the oldest still live (no index on their expiry)", () => {
    const stamp = (key: string, ttlMs: number) => ({ key, requestHash: `hash-${key}`, ttlMs });
    h.ok(enqueue({ jobId: "j1", at: T0, idempotency: stamp("first-long", 5_000) }));
    h.ok(enqueue({ jobId: "j2", at: T0, idempotency: stamp("second-short", 1_000) }));
    h.ok(enqueue({ jobId: "j3", at: T0, idempotency: stamp("third-short", 1_000) }));
    // The short ones expired but wait behind the older live record; a lookup of them is already a miss.
    expect(h.ok(expireLeases({ at: T0 + 1_000 })).idempotencyRecordsPruned).toBe(0);
    expect(h.apply(enqueue({ jobId: "j4", at: T0 + 1_000, idempotency: stamp("second-short", 1_000) }))).toMatchObject({ ok: true, value: { id: "j4" } });
    // Reused: recorded again as the newest record (it expires at T0 + 2_000).
    expect(h.db.query("SELECT key FROM idempotency_records ORDER BY rowid").all()).toEqual([{ key: "first-long" }, { key: "third-short" }, { key: "second-short" }]);
    expect(h.ok(expireLeases({ at: T0 + 4_999 })).idempotencyRecordsPruned).toBe(0);
    expect(h.ok(expireLeases({ at: T0 + 5_000 })).idempotencyRecordsPruned).toBe(3);
    expect(h.db.query("SELECT key FROM idempotency_records").all()).toEqual([]);
    expect(h.db.query("SELECT name FROM sqlite_master WHERE name = 'idempotency_expiry'").get()).toBeNull();
  });
});
