/**
 * Lease expiry through HTTP with a one-second lease: an unrenewed lease is requeued, then the
 * job is dead once its attempts are used; the old holder's writes are fenced off. State changes
 * are awaited with the output long poll, which returns when the job changes.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { Job, OutputPage } from "../../src/api";
import { claimNow, enqueue, errorBody, okResult, registerHost, startTestCoordinator, stopTestCoordinators, type TestCoordinator } from "./harness";

afterEach(stopTestCoordinators);

const SHORT_LEASE = { SKYCLAW_LEASE_MS: "1000", SKYCLAW_HEARTBEAT_MS: "100" };

/** Long-polls the job until it changes from what it is now (or 10 s pass). */
async function nextChange(coordinator: TestCoordinator, jobId: string): Promise<Job> {
  const reply = await coordinator.call<OutputPage>("GET", `/v1/jobs/${jobId}/output?waitMs=10000`);
  expect(reply.status).toBe(200);
  return reply.body.job;
}

describe("an unrenewed lease", () => {
  test("is requeued, then the job is dead after its last attempt; stale writes are refused", async () => {
    const coordinator = startTestCoordinator(SHORT_LEASE);
    const host = await registerHost(coordinator);
    const job = await enqueue(coordinator, { maxAttempts: 2, backoffMs: 0 });
    expect((await claimNow(coordinator, host.id)).map((j) => j.id)).toEqual([job.id]);

    const requeued = await nextChange(coordinator, job.id);
    expect(requeued).toMatchObject({ state: "queued", attempt: 1, hostId: null, leaseExpiresAt: null });
    expect(requeued.lastError).toContain("lease of attempt 1");

    const heartbeat = await coordinator.call("POST", `/v1/hosts/${host.id}/heartbeat`, { body: { running: [{ jobId: job.id, attempt: 1 }] } });
    expect(heartbeat.body.lost).toEqual([{ jobId: job.id, attempt: 1 }]);
    expect(heartbeat.body.renewed).toEqual([]);

    const second = await claimNow(coordinator, host.id);
    expect(second.map((j) => [j.id, j.attempt])).toEqual([[job.id, 2]]);

    // The first attempt's holder comes back late: every write of attempt 1 is fenced off.
    const before = coordinator.rows("SELECT * FROM jobs WHERE id = ?", job.id);
    for (const [route, body] of [
      ["renew", { hostId: host.id, attempt: 1 }],
      ["output", { hostId: host.id, attempt: 1, chunks: [{ stream: "stdout", data: "stale\n" }] }],
      ["complete", { hostId: host.id, attempt: 1, status: "succeeded", result: okResult }],
    ] as const) {
      const reply = await coordinator.call("POST", `/v1/jobs/${job.id}/${route}`, { body });
      expect(reply.status).toBe(409);
      expect(errorBody(reply).error).toBe("stale_attempt");
    }
    expect(coordinator.rows("SELECT * FROM jobs WHERE id = ?", job.id)).toEqual(before);
    expect(coordinator.rows("SELECT * FROM job_output WHERE job_id = ?", job.id)).toEqual([]);

    const dead = await nextChange(coordinator, job.id);
    expect(dead).toMatchObject({ state: "dead", attempt: 2, hostId: null });
    expect(dead.lastError).toContain("all 2 attempts used");
    expect(dead.finishedAt).not.toBeNull();

    const late = await coordinator.call("POST", `/v1/jobs/${job.id}/complete`, { body: { hostId: host.id, attempt: 2, status: "succeeded", result: okResult } });
    expect(late.status).toBe(409);
    expect((await coordinator.call<Job>("GET", `/v1/jobs/${job.id}`)).body.state).toBe("dead");
  });

  test("of a job whose cancel was requested ends it cancelled", async () => {
    const coordinator = startTestCoordinator(SHORT_LEASE);
    const host = await registerHost(coordinator);
    const job = await enqueue(coordinator, { maxAttempts: 3 });
    await claimNow(coordinator, host.id);
    const requested = await coordinator.call<Job>("POST", `/v1/jobs/${job.id}/cancel`, { body: {} });
    expect(requested.body.state).toBe("leased");
    const ended = await nextChange(coordinator, job.id);
    expect(ended.state).toBe("cancelled");
  });

  test("a silent host is marked lost and comes back active when it claims", async () => {
    const coordinator = startTestCoordinator(SHORT_LEASE);
    const host = await registerHost(coordinator);
    const job = await enqueue(coordinator, { maxAttempts: 2, backoffMs: 0 });
    await claimNow(coordinator, host.id);
    await nextChange(coordinator, job.id);
    expect((await coordinator.call("GET", `/v1/hosts/${host.id}`)).body.state).toBe("lost");
    await claimNow(coordinator, host.id);
    expect((await coordinator.call("GET", `/v1/hosts/${host.id}`)).body.state).toBe("active");
  });
});

test("heartbeats keep a lease alive past its original expiry", async () => {
  const coordinator = startTestCoordinator(SHORT_LEASE);
  const host = await registerHost(coordinator);
  const job = await enqueue(coordinator);
  await claimNow(coordinator, host.id);
  // Act as the host: heartbeat at its cadence while a reader waits 2.5 leases for a change.
  const watch = coordinator.call<OutputPage>("GET", `/v1/jobs/${job.id}/output?waitMs=2500`);
  let watching = true;
  void watch.finally(() => (watching = false));
  let heartbeats = 0;
  while (watching) {
    const reply = await coordinator.call("POST", `/v1/hosts/${host.id}/heartbeat`, { body: { running: [{ jobId: job.id, attempt: 1 }] } });
    expect(reply.body.lost).toEqual([]);
    heartbeats++;
    await Bun.sleep(100);
  }
  const reply = await watch;
  expect(heartbeats).toBeGreaterThan(2);
  expect(reply.body.job).toMatchObject({ state: "leased", attempt: 1, hostId: host.id });
});
