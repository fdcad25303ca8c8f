/** enqueue and claim: the queue's rows, capability matching, priority then FIFO, slots, host states. */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { claim, drainHost, enqueue, expireLeases, Harness, LEASE_MS, registerHost, T0 } from "./harness";

let h: Harness;
beforeEach(() => {
  h = new Harness();
});
afterEach(() => h.close());

const claimedIds = (value: { jobs: { id: string }[] }) => value.jobs.map((job) => job.id);

describe("enqueue", () => {
  test("inserts one queued job, available now, attempt 0, requiring its kind plus requires", () => {
    const job = h.ok(
      enqueue({
        jobId: "j1",
        at: T0 + 5,
        spec: { kind: "openclaw", message: "hi" },
        requires: ["gpu", "arm64", "gpu"],
        priority: 7,
        timeoutMs: 60_000,
        maxAttempts: 4,
        retryOnFailure: true,
        backoffMs: 250,
      }),
    );
    expect(job).toMatchObject({
      id: "j1",
      kind: "openclaw",
      state: "queued",
      requires: ["arm64", "gpu", "openclaw"],
      attempt: 0,
      availableAt: T0 + 5,
      hostId: null,
      leaseExpiresAt: null,
    });
    expect(h.job("j1")).toEqual({
      seq: 1,
      id: "j1",
      kind: "openclaw",
      spec: '{"kind":"openclaw","message":"hi"}',
      requirement_set: 1,
      submitter: null,
      priority: 7,
      timeout_ms: 60_000,
      state: "queued",
      attempt: 0,
      max_attempts: 4,
      retry_on_failure: 1,
      backoff_ms: 250,
      host_id: null,
      lease_expires_at: null,
      available_at: T0 + 5,
      cancel_requested_at: null,
      created_at: T0 + 5,
      updated_at: T0 + 5,
      finished_at: null,
      result: null,
      last_error: null,
      output_seq: 0,
      output_bytes: 0,
      output_truncated: 0,
      output_marker_seq: null,
      signature: null,
    });
    expect(h.db.query("SELECT id, requires FROM requirement_sets").all()).toEqual([{ id: 1, requires: '["arm64","gpu","openclaw"]' }]);
  });

  test("jobs with the same requirements share one requirement set row", () => {
    h.ok(enqueue({ jobId: "j1", requires: ["gpu"] }));
    h.ok(enqueue({ jobId: "j2", requires: ["gpu", "shell"] }));
    h.ok(enqueue({ jobId: "j3" }));
    expect(h.db.query("SELECT requires FROM requirement_sets ORDER BY id").all()).toEqual([
      { requires: '["gpu","shell"]' },
      { requires: '["shell"]' },
    ]);
  });

  test("refuses an id that already exists with duplicate_id and changes nothing", () => {
    h.ok(enqueue({ jobId: "j1" }));
    const error = h.refusedWithoutChange(enqueue({ jobId: "j1", at: T0 + 1, requires: ["new-cap"] }), "duplicate_id");
    expect(error.field).toBe("id");
  });
});

describe("claim", () => {
  test("refuses an unregistered host with not_found and changes nothing", () => {
    h.ok(enqueue({ jobId: "j1" }));
    h.refusedWithoutChange(claim({ hostId: "ghost" }), "not_found");
  });

  test("leases the job to the host with attempt + 1 and a lease until at + leaseMs", () => {
    h.ok(registerHost({ hostId: "h1" }));
    h.ok(enqueue({ jobId: "j1" }));
    const value = h.ok(claim({ hostId: "h1", at: T0 + 100, leaseMs: 5_000 }));
    expect(value.jobs).toHaveLength(1);
    expect(value.jobs[0]).toMatchObject({ id: "j1", state: "leased", attempt: 1, hostId: "h1", leaseExpiresAt: T0 + 5_100 });
    expect(h.job("j1")).toMatchObject({ state: "leased", attempt: 1, host_id: "h1", lease_expires_at: T0 + 5_100, updated_at: T0 + 100 });
    expect(h.host("h1").last_heartbeat_at).toBe(T0 + 100);
  });

  test("gives a host only jobs whose every requirement it has, the kind included", () => {
    h.ok(registerHost({ hostId: "shell-only", capabilities: ["shell"], slots: 10 }));
    h.ok(registerHost({ hostId: "gpu-shell", capabilities: ["shell", "gpu"], slots: 10 }));
    h.ok(registerHost({ hostId: "gpu-no-shell", capabilities: ["gpu", "openclaw"], slots: 10 }));
    h.ok(enqueue({ jobId: "plain" }));
    h.ok(enqueue({ jobId: "needs-gpu", requires: ["gpu"] }));
    h.ok(enqueue({ jobId: "needs-gpu-and-cuda", requires: ["gpu", "cuda"] }));
    h.ok(enqueue({ jobId: "claw", spec: { kind: "openclaw", message: "m" } }));

    expect(claimedIds(h.ok(claim({ hostId: "gpu-no-shell", maxJobs: 10 })))).toEqual(["claw"]);
    expect(claimedIds(h.ok(claim({ hostId: "shell-only", maxJobs: 10 })))).toEqual(["plain"]);
    expect(claimedIds(h.ok(claim({ hostId: "gpu-shell", maxJobs: 10 })))).toEqual(["needs-gpu"]);
    expect(h.job("needs-gpu-and-cuda")).toMatchObject({ state: "queued", attempt: 0 });
  });

  test("hands out the highest priority first, then the oldest", () => {
    h.ok(registerHost({ hostId: "h1", slots: 10, capabilities: ["shell", "gpu"] }));
    h.ok(enqueue({ jobId: "low-old", priority: -5 }));
    h.ok(enqueue({ jobId: "mid-old", priority: 0 }));
    h.ok(enqueue({ jobId: "high-gpu", priority: 9, requires: ["gpu"] }));
    h.ok(enqueue({ jobId: "mid-new-gpu", priority: 0, requires: ["gpu"] }));
    h.ok(enqueue({ jobId: "high", priority: 9 }));
    h.ok(enqueue({ jobId: "mid-newest", priority: 0 }));
    const order: string[] = [];
    for (let i = 0; i < 7; i++) order.push(...claimedIds(h.ok(claim({ hostId: "h1", at: T0 + i }))));
    expect(order).toEqual(["high-gpu", "high", "mid-old", "mid-new-gpu", "mid-newest", "low-old"]);
  });

  test("one claim returns them in the same order", () => {
    h.ok(registerHost({ hostId: "h1", slots: 10 }));
    h.ok(enqueue({ jobId: "a", priority: 1 }));
    h.ok(enqueue({ jobId: "b", priority: 2 }));
    h.ok(enqueue({ jobId: "c", priority: 1 }));
    expect(claimedIds(h.ok(claim({ hostId: "h1", maxJobs: 10 })))).toEqual(["b", "a", "c"]);
  });

  test("never leases more than min(maxJobs, free slots)", () => {
    h.ok(registerHost({ hostId: "h1", slots: 3 }));
    for (const id of ["a", "b", "c", "d", "e"]) h.ok(enqueue({ jobId: id }));
    expect(claimedIds(h.ok(claim({ hostId: "h1", maxJobs: 2 })))).toEqual(["a", "b"]);
    expect(claimedIds(h.ok(claim({ hostId: "h1", maxJobs: 5 })))).toEqual(["c"]);
    const before = h.dump();
    expect(h.ok(claim({ hostId: "h1", maxJobs: 5 }))).toEqual({ jobs: [] });
    expect(h.dump().jobs).toEqual(before.jobs);
    expect(h.db.query("SELECT count(*) AS n FROM jobs WHERE state = 'leased' AND host_id = 'h1'").get()).toEqual({ n: 3 });
  });

  test("skips jobs not yet available and returns an empty list when nothing matches", () => {
    h.ok(registerHost({ hostId: "h1" }));
    h.ok(enqueue({ jobId: "later", at: T0 + 1_000 }));
    expect(h.ok(claim({ hostId: "h1", at: T0 + 999 }))).toEqual({ jobs: [] });
    expect(claimedIds(h.ok(claim({ hostId: "h1", at: T0 + 1_000 })))).toEqual(["later"]);
  });

  test("a draining host gets nothing", () => {
    h.ok(registerHost({ hostId: "h1", slots: 4 }));
    h.ok(enqueue({ jobId: "j1" }));
    h.ok(drainHost({ hostId: "h1" }));
    expect(h.ok(claim({ hostId: "h1", maxJobs: 4 }))).toEqual({ jobs: [] });
    expect(h.job("j1")).toMatchObject({ state: "queued", attempt: 0, host_id: null });
    expect(h.host("h1").state).toBe("draining");
  });

  test("a lost host that claims is active again and gets work", () => {
    h.ok(registerHost({ hostId: "h1" }));
    h.ok(expireLeases({ at: T0 + 60_000, hostTimeoutMs: 60_000 }));
    expect(h.host("h1").state).toBe("lost");
    h.ok(enqueue({ jobId: "j1", at: T0 + 61_000 }));
    expect(claimedIds(h.ok(claim({ hostId: "h1", at: T0 + 62_000 })))).toEqual(["j1"]);
    expect(h.host("h1")).toMatchObject({ state: "active", last_heartbeat_at: T0 + 62_000 });
    expect(h.job("j1")).toMatchObject({ state: "leased", lease_expires_at: T0 + 62_000 + LEASE_MS });
  });

  test("a lost host that was asked to drain and claims is draining again and gets no work", () => {
    h.ok(registerHost({ hostId: "h1" }));
    h.ok(drainHost({ hostId: "h1", at: T0 + 1 }));
    h.ok(expireLeases({ at: T0 + 60_000, hostTimeoutMs: 60_000 }));
    expect(h.host("h1").state).toBe("lost");
    h.ok(enqueue({ jobId: "j1", at: T0 + 61_000 }));
    expect(h.ok(claim({ hostId: "h1", at: T0 + 62_000 }))).toEqual({ jobs: [] });
    expect(h.host("h1")).toMatchObject({ state: "draining", last_heartbeat_at: T0 + 62_000 });
    expect(h.job("j1")).toMatchObject({ state: "queued", host_id: null });
  });
});
