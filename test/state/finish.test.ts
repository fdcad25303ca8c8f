/** complete and cancel: final states, retry on failure with backoff, cancellation of queued and leased jobs. */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { cancel, claim, complete, enqueue, expireLeases, Harness, LEASE_MS, leasedJob, T0 } from "./harness";

let h: Harness;
beforeEach(() => {
  h = new Harness();
});
afterEach(() => h.close());

const failedRun = { exitCode: 3, signal: null, durationMs: 40, stderrTail: "boom" };

describe("complete", () => {
  test("refuses an unknown job with not_found and changes nothing", () => {
    const lease = leasedJob(h);
    h.refusedWithoutChange(complete({ ...lease, jobId: "nope" }), "not_found");
  });

  test("succeeded is final: lease gone, result recorded, finished at `at`", () => {
    const lease = leasedJob(h, { job: { retryOnFailure: true } });
    const result = { exitCode: 0, signal: null, durationMs: 12, stdoutTail: "ok\n" };
    const job = h.ok(complete({ ...lease, at: T0 + 50, status: "succeeded", result }));
    expect(job).toMatchObject({ state: "succeeded", attempt: 1, hostId: null, result, lastError: null });
    expect(h.job(lease.jobId)).toMatchObject({
      state: "succeeded",
      host_id: null,
      lease_expires_at: null,
      finished_at: T0 + 50,
      updated_at: T0 + 50,
      result: JSON.stringify(result),
      last_error: null,
    });
  });

  test("failed without retryOnFailure is final and says why", () => {
    const lease = leasedJob(h, { job: { retryOnFailure: false, maxAttempts: 5 } });
    h.ok(complete({ ...lease, at: T0 + 50, status: "failed", result: failedRun }));
    expect(h.job(lease.jobId)).toMatchObject({
      state: "failed",
      host_id: null,
      lease_expires_at: null,
      finished_at: T0 + 50,
      last_error: "attempt 1: exit code 3",
      result: JSON.stringify(failedRun),
    });
  });

  test("failed with retryOnFailure and attempts left is queued again after backoffMs * 2^(attempt-1)", () => {
    const backoffMs = 500;
    const lease = leasedJob(h, { job: { retryOnFailure: true, maxAttempts: 3, backoffMs } });
    h.ok(complete({ ...lease, at: T0 + 100, status: "failed", result: failedRun }));
    expect(h.job(lease.jobId)).toMatchObject({
      state: "queued",
      attempt: 1,
      host_id: null,
      lease_expires_at: null,
      available_at: T0 + 100 + backoffMs,
      finished_at: null,
      last_error: "attempt 1: exit code 3",
    });

    const second = h.ok(claim({ hostId: lease.hostId, at: T0 + 100 + backoffMs })).jobs[0];
    expect(second).toMatchObject({ id: lease.jobId, attempt: 2 });
    h.ok(complete({ ...lease, attempt: 2, at: T0 + 1_000, status: "failed", result: { exitCode: null, signal: "SIGKILL", durationMs: 1 } }));
    expect(h.job(lease.jobId)).toMatchObject({ state: "queued", available_at: T0 + 1_000 + backoffMs * 2, last_error: "attempt 2: killed by SIGKILL" });

    h.ok(claim({ hostId: lease.hostId, at: T0 + 2_000 }));
    h.ok(complete({ ...lease, attempt: 3, at: T0 + 3_000, status: "failed", result: { ...failedRun, reason: "timeout", message: "ran 10s" } }));
    expect(h.job(lease.jobId)).toMatchObject({ state: "failed", attempt: 3, finished_at: T0 + 3_000, last_error: "attempt 3: timeout: ran 10s" });
  });

  test("failed with a pending cancel is final even when retries are left", () => {
    const lease = leasedJob(h, { job: { retryOnFailure: true, maxAttempts: 3 } });
    h.ok(cancel({ jobId: lease.jobId, at: T0 + 1 }));
    h.ok(complete({ ...lease, at: T0 + 2, status: "failed", result: failedRun }));
    expect(h.job(lease.jobId)).toMatchObject({ state: "failed", finished_at: T0 + 2 });
  });

  test("cancelled is final", () => {
    const lease = leasedJob(h, { job: { retryOnFailure: true, maxAttempts: 3 } });
    h.ok(cancel({ jobId: lease.jobId, at: T0 + 1 }));
    const result = { exitCode: null, signal: "SIGTERM", durationMs: 9, reason: "cancelled" };
    h.ok(complete({ ...lease, at: T0 + 2, status: "cancelled", result }));
    expect(h.job(lease.jobId)).toMatchObject({ state: "cancelled", host_id: null, finished_at: T0 + 2, last_error: "attempt 1: cancelled" });
  });
});

describe("cancel", () => {
  test("refuses an unknown job with not_found and changes nothing", () => {
    h.ok(enqueue({ jobId: "j1" }));
    const error = h.refusedWithoutChange(cancel({ jobId: "nope" }), "not_found");
    expect(error.field).toBe("id");
  });

  test("cancels a queued job at once", () => {
    h.ok(enqueue({ jobId: "j1" }));
    const job = h.ok(cancel({ jobId: "j1", at: T0 + 5, reason: "typo" }));
    expect(job).toMatchObject({ state: "cancelled", cancelRequestedAt: T0 + 5, finishedAt: T0 + 5 });
    expect(h.job("j1")).toMatchObject({
      state: "cancelled",
      cancel_requested_at: T0 + 5,
      finished_at: T0 + 5,
      updated_at: T0 + 5,
      last_error: "cancelled: typo",
    });
  });

  test("a leased job records the request and stays leased to its host", () => {
    const lease = leasedJob(h);
    h.ok(cancel({ jobId: lease.jobId, at: T0 + 5 }));
    expect(h.job(lease.jobId)).toMatchObject({
      state: "leased",
      host_id: lease.hostId,
      attempt: 1,
      cancel_requested_at: T0 + 5,
      finished_at: null,
      last_error: "cancelled",
    });
  });

  test("cancelling twice is not an error and keeps the first request", () => {
    const lease = leasedJob(h);
    h.ok(cancel({ jobId: lease.jobId, at: T0 + 5, reason: "first" }));
    const before = h.dump();
    expect(h.ok(cancel({ jobId: lease.jobId, at: T0 + 6, reason: "second" }))).toMatchObject({ cancelRequestedAt: T0 + 5 });
    expect(h.dump()).toEqual(before);

    h.ok(enqueue({ jobId: "q" }));
    h.ok(cancel({ jobId: "q", at: T0 + 7 }));
    const cancelled = h.dump();
    expect(h.ok(cancel({ jobId: "q", at: T0 + 8 }))).toMatchObject({ state: "cancelled" });
    expect(h.dump()).toEqual(cancelled);
  });

  for (const status of ["succeeded", "failed"] as const) {
    test(`refuses a job that already ${status} with invalid_state and changes nothing`, () => {
      const lease = leasedJob(h);
      h.ok(complete({ ...lease, at: T0 + 1, status }));
      h.refusedWithoutChange(cancel({ jobId: lease.jobId, at: T0 + 2 }), "invalid_state");
    });
  }

  test("refuses a dead job with invalid_state and changes nothing", () => {
    const lease = leasedJob(h, { job: { maxAttempts: 1 } });
    h.ok(expireLeases({ at: T0 + LEASE_MS }));
    expect(h.job(lease.jobId).state).toBe("dead");
    h.refusedWithoutChange(cancel({ jobId: lease.jobId, at: T0 + LEASE_MS + 1 }), "invalid_state");
  });
});
