/** registerHost, heartbeat and drainHost: preconditions and effects on the hosts and jobs tables. */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import {
  cancel,
  claim,
  drainHost,
  enqueue,
  expireLeases,
  Harness,
  heartbeat,
  LEASE_MS,
  leasedJob,
  registerHost,
  T0,
} from "./harness";

let h: Harness;
beforeEach(() => {
  h = new Harness();
});
afterEach(() => h.close());

describe("registerHost", () => {
  test("creates an active host with sorted, de-duplicated capabilities and last heartbeat = at", () => {
    const host = h.ok(registerHost({ hostId: "h1", name: "box", capabilities: ["shell", "gpu", "shell"], slots: 4, version: "1.2.3" }));
    expect(host).toMatchObject({ id: "h1", name: "box", capabilities: ["gpu", "shell"], slots: 4, state: "active", runningJobs: 0 });
    expect(h.host("h1")).toEqual({
      id: "h1",
      name: "box",
      capabilities: '["gpu","shell"]',
      slots: 4,
      version: "1.2.3",
      state: "active",
      registered_at: T0,
      last_heartbeat_at: T0,
      drain_requested_at: null,
      credential_hash: null,
      revoked_at: null,
    });
  });

  test("re-registering a known id updates it, keeps registered_at and brings a drained host back to active", () => {
    h.ok(registerHost({ hostId: "h1", slots: 1 }));
    h.ok(drainHost({ hostId: "h1" }));
    expect(h.host("h1").state).toBe("draining");
    h.ok(registerHost({ hostId: "h1", at: T0 + 500, name: "renamed", capabilities: ["openclaw"], slots: 8, version: "2.0.0" }));
    expect(h.host("h1")).toEqual({
      id: "h1",
      name: "renamed",
      capabilities: '["openclaw"]',
      slots: 8,
      version: "2.0.0",
      state: "active",
      registered_at: T0,
      last_heartbeat_at: T0 + 500,
      drain_requested_at: null,
      credential_hash: null,
      revoked_at: null,
    });
    expect(h.db.query("SELECT count(*) AS n FROM hosts").get()).toEqual({ n: 1 });
  });

  test("re-registering brings a lost host back to active", () => {
    h.ok(registerHost({ hostId: "h1" }));
    h.ok(expireLeases({ at: T0 + 10_000, hostTimeoutMs: 10_000 }));
    expect(h.host("h1").state).toBe("lost");
    h.ok(registerHost({ hostId: "h1", at: T0 + 20_000 }));
    expect(h.host("h1").state).toBe("active");
  });
});

describe("heartbeat", () => {
  test("refuses an unknown host with not_found and changes nothing", () => {
    h.ok(registerHost({ hostId: "h1" }));
    const error = h.refusedWithoutChange(heartbeat({ hostId: "nope", at: T0 + 1 }), "not_found");
    expect(error.field).toBe("hostId");
  });

  test("records the heartbeat time and renews every lease the host holds to at + leaseMs", () => {
    const lease = leasedJob(h);
    expect(h.job(lease.jobId).lease_expires_at).toBe(T0 + LEASE_MS);
    const response = h.ok(heartbeat({ hostId: lease.hostId, at: T0 + 7_000, leaseMs: 20_000, running: [{ jobId: lease.jobId, attempt: 1 }] }));
    expect(response.renewed).toEqual([{ jobId: lease.jobId, attempt: 1, leaseExpiresAt: T0 + 27_000 }]);
    expect(response.cancel).toEqual([]);
    expect(response.lost).toEqual([]);
    expect(response.drain).toBe(false);
    expect(h.job(lease.jobId).lease_expires_at).toBe(T0 + 27_000);
    expect(h.host(lease.hostId).last_heartbeat_at).toBe(T0 + 7_000);
  });

  test("reports leases it does not hold as lost and leaves them untouched", () => {
    const a = leasedJob(h, { hostId: "host-a", jobId: "job-a" });
    const b = leasedJob(h, { hostId: "host-b", jobId: "job-b" });
    const before = h.job(b.jobId);
    const response = h.ok(
      heartbeat({
        hostId: a.hostId,
        at: T0 + 1_000,
        running: [
          { jobId: a.jobId, attempt: 2 }, // stale attempt
          { jobId: b.jobId, attempt: 1 }, // another host's lease
          { jobId: "job-unknown", attempt: 1 },
        ],
      }),
    );
    expect(response.renewed).toEqual([]);
    expect(response.lost).toEqual([
      { jobId: a.jobId, attempt: 2 },
      { jobId: b.jobId, attempt: 1 },
      { jobId: "job-unknown", attempt: 1 },
    ]);
    expect(h.job(a.jobId).lease_expires_at).toBe(T0 + LEASE_MS);
    expect(h.job(b.jobId)).toEqual(before);
  });

  test("tells the host which of its jobs have a pending cancel", () => {
    const lease = leasedJob(h);
    h.ok(cancel({ jobId: lease.jobId, at: T0 + 1 }));
    const response = h.ok(heartbeat({ hostId: lease.hostId, at: T0 + 2, running: [{ jobId: lease.jobId, attempt: 1 }] }));
    expect(response.cancel).toEqual([{ jobId: lease.jobId, attempt: 1 }]);
    expect(response.renewed.map((r: { jobId: string }) => r.jobId)).toEqual([lease.jobId]);
  });

  test("brings a lost host back to active", () => {
    h.ok(registerHost({ hostId: "h1" }));
    h.ok(expireLeases({ at: T0 + 10_000, hostTimeoutMs: 10_000 }));
    expect(h.host("h1").state).toBe("lost");
    const response = h.ok(heartbeat({ hostId: "h1", at: T0 + 11_000 }));
    expect(response.host.state).toBe("active");
    expect(h.host("h1")).toMatchObject({ state: "active", last_heartbeat_at: T0 + 11_000 });
  });

  test("tells a draining host to drain and keeps it draining", () => {
    h.ok(registerHost({ hostId: "h1" }));
    h.ok(drainHost({ hostId: "h1" }));
    const response = h.ok(heartbeat({ hostId: "h1", at: T0 + 1 }));
    expect(response.drain).toBe(true);
    expect(h.host("h1").state).toBe("draining");
  });

  test("a draining host that was lost comes back draining, not active, and still gets no jobs", () => {
    h.ok(registerHost({ hostId: "h1" }));
    h.ok(drainHost({ hostId: "h1", at: T0 + 1 }));
    h.ok(expireLeases({ at: T0 + 10_000, hostTimeoutMs: 10_000 }));
    expect(h.host("h1").state).toBe("lost");
    const response = h.ok(heartbeat({ hostId: "h1", at: T0 + 11_000 }));
    expect(response.drain).toBe(true);
    expect(h.host("h1")).toMatchObject({ state: "draining", drain_requested_at: T0 + 1 });
    h.ok(expireLeases({ at: T0 + 30_000, hostTimeoutMs: 10_000 }));
    h.ok(enqueue({ jobId: "j1", at: T0 + 30_001 }));
    expect(h.ok(claim({ hostId: "h1", at: T0 + 30_002 })).jobs).toEqual([]);
    expect(h.host("h1").state).toBe("draining");
  });
});

describe("drainHost", () => {
  test("refuses an unknown host with not_found and changes nothing", () => {
    h.ok(registerHost({ hostId: "h1" }));
    h.refusedWithoutChange(drainHost({ hostId: "nope" }), "not_found");
  });

  test("marks the host draining: it keeps its leases and claims get no new jobs", () => {
    const lease = leasedJob(h, { job: { maxAttempts: 1 } });
    h.ok(registerHost({ hostId: lease.hostId, slots: 4 }));
    h.ok(enqueue({ jobId: "job-2" }));
    const host = h.ok(drainHost({ hostId: lease.hostId, at: T0 + 1 }));
    expect(host).toMatchObject({ state: "draining", runningJobs: 1 });
    expect(h.job(lease.jobId)).toMatchObject({ state: "leased", host_id: lease.hostId, attempt: 1 });
    expect(h.ok(claim({ hostId: lease.hostId, at: T0 + 2, maxJobs: 4 }))).toEqual({ jobs: [] });
    expect(h.job("job-2")).toMatchObject({ state: "queued", attempt: 0, host_id: null });
  });
});
