/**
 * The lease-fenced writes a host makes about a job (renew, output, complete), following output,
 * and cancelling. A write naming a lease the host does not hold is refused with 409 and changes
 * nothing.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { Job, OutputPage } from "../../src/api";
import { enqueue, errorBody, leasedJob, okResult, registerHost, startTestCoordinator, stopTestCoordinators, type TestCoordinator } from "./harness";

afterEach(stopTestCoordinators);

/** Everything a refused write could have touched. */
function snapshot(coordinator: TestCoordinator, jobId: string) {
  return {
    job: coordinator.rows("SELECT * FROM jobs WHERE id = ?", jobId),
    output: coordinator.rows("SELECT * FROM job_output WHERE job_id = ?", jobId),
  };
}

describe("POST /v1/jobs/:id/renew", () => {
  test("extends the current lease", async () => {
    const coordinator = startTestCoordinator();
    const { host, job } = await leasedJob(coordinator);
    const reply = await coordinator.call("POST", `/v1/jobs/${job.id}/renew`, { body: { hostId: host.id, attempt: 1 } });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ jobId: job.id, attempt: 1 });
    expect(reply.body.leaseExpiresAt).toBeGreaterThanOrEqual(job.leaseExpiresAt!);
    expect((await coordinator.call<Job>("GET", `/v1/jobs/${job.id}`)).body.leaseExpiresAt).toBe(reply.body.leaseExpiresAt);
  });
});

describe("fencing: a write about a lease the host does not hold", () => {
  const writes = (hostId: string, attempt: number) => [
    ["renew", { hostId, attempt }],
    ["output", { hostId, attempt, chunks: [{ stream: "stdout", data: "late\n" }] }],
    ["complete", { hostId, attempt, status: "succeeded", result: okResult }],
  ] as const;

  test("with a wrong attempt, or from another host, is refused with 409 and changes nothing", async () => {
    const coordinator = startTestCoordinator();
    const { host, job } = await leasedJob(coordinator);
    const other = await registerHost(coordinator, { name: "other" });
    const before = snapshot(coordinator, job.id);
    for (const [route, body] of [...writes(host.id, 2), ...writes(other.id, 1)]) {
      const reply = await coordinator.call("POST", `/v1/jobs/${job.id}/${route}`, { body });
      expect(reply.status).toBe(409);
      expect(errorBody(reply)).toMatchObject({ error: "stale_attempt", field: "attempt" });
    }
    expect(snapshot(coordinator, job.id)).toEqual(before);
  });

  test("on a job that is not leased (queued, or finished) is refused with 409", async () => {
    const coordinator = startTestCoordinator();
    const host = await registerHost(coordinator);
    const queued = await enqueue(coordinator);
    for (const [route, body] of writes(host.id, 1)) {
      const reply = await coordinator.call("POST", `/v1/jobs/${queued.id}/${route}`, { body });
      expect(reply.status).toBe(409);
      expect(errorBody(reply).error).toBe("stale_attempt");
    }
    expect((await coordinator.call("GET", `/v1/jobs/${queued.id}`)).body).toEqual(queued);
  });

  test("on an unknown job is 404", async () => {
    const coordinator = startTestCoordinator();
    const host = await registerHost(coordinator);
    for (const [route, body] of writes(host.id, 1)) {
      const reply = await coordinator.call("POST", `/v1/jobs/no-such-job/${route}`, { body });
      expect(reply.status).toBe(404);
      expect(errorBody(reply)).toMatchObject({ error: "not_found", field: "id" });
    }
  });
});

describe("POST /v1/jobs/:id/output and GET /v1/jobs/:id/output", () => {
  test("chunks are stored in order and read back page by page with after", async () => {
    const coordinator = startTestCoordinator();
    const { host, job } = await leasedJob(coordinator);
    const append = await coordinator.call("POST", `/v1/jobs/${job.id}/output`, {
      body: {
        hostId: host.id,
        attempt: 1,
        chunks: [
          { stream: "stdout", data: "one\n" },
          { stream: "stderr", data: "two\n" },
          { stream: "stdout", data: "drei ✓\n" },
        ],
      },
    });
    expect(append.status).toBe(200);
    expect(append.body).toEqual({ accepted: 3, truncated: false });
    const first = await coordinator.call<OutputPage>("GET", `/v1/jobs/${job.id}/output?limit=2`);
    expect(first.status).toBe(200);
    expect(first.body.chunks.map((chunk) => [chunk.stream, chunk.data, chunk.attempt])).toEqual([
      ["stdout", "one\n", 1],
      ["stderr", "two\n", 1],
    ]);
    expect(first.body.job.id).toBe(job.id);
    const rest = await coordinator.call<OutputPage>("GET", `/v1/jobs/${job.id}/output?after=${first.body.lastSeq}`);
    expect(rest.body.chunks.map((chunk) => chunk.data)).toEqual(["drei ✓\n"]);
    const none = await coordinator.call<OutputPage>("GET", `/v1/jobs/${job.id}/output?after=${rest.body.lastSeq}`);
    expect(none.body).toMatchObject({ chunks: [], lastSeq: rest.body.lastSeq });
    expect((await coordinator.call<Job>("GET", `/v1/jobs/${job.id}`)).body.outputBytes).toBe(Buffer.byteLength("one\ntwo\ndrei ✓\n"));
  });

  test("a long poll returns as soon as output arrives", async () => {
    const coordinator = startTestCoordinator();
    const { host, job } = await leasedJob(coordinator);
    const waiting = coordinator.call<OutputPage>("GET", `/v1/jobs/${job.id}/output?waitMs=10000`);
    await coordinator.call("POST", `/v1/jobs/${job.id}/output`, { body: { hostId: host.id, attempt: 1, chunks: [{ stream: "stdout", data: "hello\n" }] } });
    const reply = await waiting;
    expect(reply.status).toBe(200);
    expect(reply.body.chunks.map((chunk) => chunk.data)).toEqual(["hello\n"]);
  });

  test("a long poll on a finished job answers at once", async () => {
    const coordinator = startTestCoordinator();
    const job = await enqueue(coordinator);
    await coordinator.call("POST", `/v1/jobs/${job.id}/cancel`, { body: {} });
    const reply = await coordinator.call<OutputPage>("GET", `/v1/jobs/${job.id}/output?waitMs=60000`);
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ chunks: [], lastSeq: 0, job: { state: "cancelled" } });
  });

  test("an unknown job is 404", async () => {
    const coordinator = startTestCoordinator();
    const reply = await coordinator.call("GET", "/v1/jobs/nope/output");
    expect(reply.status).toBe(404);
    expect(errorBody(reply).error).toBe("not_found");
  });
});

describe("POST /v1/jobs/:id/complete", () => {
  test("records the result; the lease and the host's slot are freed", async () => {
    const coordinator = startTestCoordinator();
    const { host, job } = await leasedJob(coordinator);
    const result = { ...okResult, stdoutTail: "done\n" };
    const reply = await coordinator.call<Job>("POST", `/v1/jobs/${job.id}/complete`, { body: { hostId: host.id, attempt: 1, status: "succeeded", result } });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ state: "succeeded", result, hostId: null, leaseExpiresAt: null, lastError: null });
    expect(reply.body.finishedAt).not.toBeNull();
    expect((await coordinator.call("GET", `/v1/hosts/${host.id}`)).body.runningJobs).toBe(0);
  });

  test("a failed job that retries on failure is queued again after its backoff, until its attempts run out", async () => {
    const coordinator = startTestCoordinator();
    const { host, job } = await leasedJob(coordinator, { retryOnFailure: true, maxAttempts: 2, backoffMs: 0 });
    const failed = { exitCode: 3, signal: null, durationMs: 1 };
    const first = await coordinator.call<Job>("POST", `/v1/jobs/${job.id}/complete`, { body: { hostId: host.id, attempt: 1, status: "failed", result: failed } });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ state: "queued", attempt: 1, lastError: "attempt 1: exit code 3", finishedAt: null });
    const [again] = (await coordinator.call<{ jobs: Job[] }>("POST", `/v1/hosts/${host.id}/claim`, { body: { slots: 1, waitMs: 0 } })).body.jobs;
    expect(again).toMatchObject({ id: job.id, attempt: 2 });
    const last = await coordinator.call<Job>("POST", `/v1/jobs/${job.id}/complete`, { body: { hostId: host.id, attempt: 2, status: "failed", result: failed } });
    expect(last.body).toMatchObject({ state: "failed", attempt: 2 });
  });

  test("a failed job that does not retry is final", async () => {
    const coordinator = startTestCoordinator();
    const { host, job } = await leasedJob(coordinator);
    const reply = await coordinator.call<Job>("POST", `/v1/jobs/${job.id}/complete`, {
      body: { hostId: host.id, attempt: 1, status: "failed", result: { exitCode: null, signal: "SIGKILL", durationMs: 9, reason: "timeout" } },
    });
    expect(reply.body).toMatchObject({ state: "failed", lastError: "attempt 1: timeout" });
  });

  test("completing twice is refused the second time and the first result stays", async () => {
    const coordinator = startTestCoordinator();
    const { host, job } = await leasedJob(coordinator);
    const body = { hostId: host.id, attempt: 1, status: "succeeded", result: okResult };
    expect((await coordinator.call("POST", `/v1/jobs/${job.id}/complete`, { body })).status).toBe(200);
    const before = snapshot(coordinator, job.id);
    const again = await coordinator.call("POST", `/v1/jobs/${job.id}/complete`, { body: { ...body, status: "failed" } });
    expect(again.status).toBe(409);
    expect(errorBody(again).error).toBe("stale_attempt");
    expect(snapshot(coordinator, job.id)).toEqual(before);
  });
});

describe("POST /v1/jobs/:id/cancel", () => {
  test("a queued job is cancelled at once and never claimed", async () => {
    const coordinator = startTestCoordinator();
    const host = await registerHost(coordinator);
    const job = await enqueue(coordinator);
    const reply = await coordinator.call<Job>("POST", `/v1/jobs/${job.id}/cancel`, { body: { reason: "not needed" } });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ state: "cancelled", lastError: "cancelled: not needed" });
    expect(reply.body.finishedAt).not.toBeNull();
    expect((await coordinator.call("POST", `/v1/hosts/${host.id}/claim`, { body: { slots: 1, waitMs: 0 } })).body.jobs).toEqual([]);
  });

  test("a leased job records the request, its host learns it by heartbeat and completes it as cancelled", async () => {
    const coordinator = startTestCoordinator();
    const { host, job } = await leasedJob(coordinator);
    const reply = await coordinator.call<Job>("POST", `/v1/jobs/${job.id}/cancel`, { body: {} });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ state: "leased", hostId: host.id });
    expect(reply.body.cancelRequestedAt).not.toBeNull();
    const again = await coordinator.call<Job>("POST", `/v1/jobs/${job.id}/cancel`, { body: { reason: "twice" } });
    expect(again.status).toBe(200);
    expect(again.body.cancelRequestedAt).toBe(reply.body.cancelRequestedAt);
    const heartbeat = await coordinator.call("POST", `/v1/hosts/${host.id}/heartbeat`, { body: { running: [{ jobId: job.id, attempt: 1 }] } });
    expect(heartbeat.body.cancel).toEqual([{ jobId: job.id, attempt: 1 }]);
    const done = await coordinator.call<Job>("POST", `/v1/jobs/${job.id}/complete`, {
      body: { hostId: host.id, attempt: 1, status: "cancelled", result: { exitCode: null, signal: "SIGTERM", durationMs: 3, reason: "cancelled" } },
    });
    expect(done.body.state).toBe("cancelled");
  });

  test("a finished job is refused with 409 and keeps its state", async () => {
    const coordinator = startTestCoordinator();
    const { host, job } = await leasedJob(coordinator);
    await coordinator.call("POST", `/v1/jobs/${job.id}/complete`, { body: { hostId: host.id, attempt: 1, status: "succeeded", result: okResult } });
    const before = snapshot(coordinator, job.id);
    const reply = await coordinator.call("POST", `/v1/jobs/${job.id}/cancel`, { body: {} });
    expect(reply.status).toBe(409);
    expect(errorBody(reply)).toMatchObject({ error: "invalid_state", field: "id" });
    expect(reply.body.message).toContain("succeeded");
    expect(snapshot(coordinator, job.id)).toEqual(before);
  });

  test("cancelling a cancelled job again is not an error; an unknown job is 404", async () => {
    const coordinator = startTestCoordinator();
    const job = await enqueue(coordinator);
    await coordinator.call("POST", `/v1/jobs/${job.id}/cancel`, { body: {} });
    expect((await coordinator.call("POST", `/v1/jobs/${job.id}/cancel`, { body: {} })).status).toBe(200);
    const missing = await coordinator.call("POST", "/v1/jobs/nope/cancel", { body: {} });
    expect(missing.status).toBe(404);
    expect(errorBody(missing).error).toBe("not_found");
  });
});
