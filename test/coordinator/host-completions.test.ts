/**
 * `POST /v1/hosts/:id/complete`: several finished jobs of one host in one request, each fenced
 * by its own attempt and answered on its own; one log entry and one idempotency record.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { CompleteJobsResponse, Job } from "../../src/api";
import { LIMITS } from "../../src/api";
import { claimNow, enqueue, errorBody, okResult, registerHost, startTestCoordinator, stopTestCoordinators, type TestCoordinator } from "./harness";

afterEach(stopTestCoordinators);

/** A host holding leases on `count` fresh jobs. */
async function hostWithJobs(coordinator: TestCoordinator, count: number) {
  const host = await registerHost(coordinator, { slots: count });
  for (let i = 0; i < count; i++) await enqueue(coordinator);
  const jobs = await claimNow(coordinator, host.id, count);
  expect(jobs).toHaveLength(count);
  return { host, jobs };
}

const completion = (job: Job, extra: Record<string, unknown> = {}) => ({ jobId: job.id, attempt: job.attempt, status: "succeeded", result: okResult, ...extra });
const logEntries = (coordinator: TestCoordinator) => coordinator.rows<{ n: number }>("SELECT count(*) AS n FROM raft_log")[0]!.n;

describe("POST /v1/hosts/:id/complete", () => {
  test("completes every job in one log entry and answers each with its new state, in order", async () => {
    const coordinator = startTestCoordinator();
    const { host, jobs } = await hostWithJobs(coordinator, 3);
    const entriesBefore = logEntries(coordinator);
    const reply = await coordinator.call<CompleteJobsResponse>("POST", `/v1/hosts/${host.id}/complete`, {
      body: { completions: [completion(jobs[0]!), completion(jobs[1]!, { status: "failed", result: { ...okResult, exitCode: 3 } }), completion(jobs[2]!)] },
    });

    expect(reply.status).toBe(200);
    expect(reply.body.results.map((r) => [r.jobId, r.ok, r.ok && r.state])).toEqual([
      [jobs[0]!.id, true, "succeeded"],
      [jobs[1]!.id, true, "failed"],
      [jobs[2]!.id, true, "succeeded"],
    ]);
    expect(coordinator.rows("SELECT id, state, host_id FROM jobs ORDER BY seq")).toEqual([
      { id: jobs[0]!.id, state: "succeeded", host_id: null },
      { id: jobs[1]!.id, state: "failed", host_id: null },
      { id: jobs[2]!.id, state: "succeeded", host_id: null },
    ]);
    expect(logEntries(coordinator)).toBe(entriesBefore + 1);
    expect((await coordinator.call("GET", `/v1/hosts/${host.id}`)).body.runningJobs).toBe(0);
  });

  test("a stale or unknown completion is refused on its own, changes nothing, and the others still apply", async () => {
    const coordinator = startTestCoordinator();
    const { host, jobs } = await hostWithJobs(coordinator, 2);
    const reply = await coordinator.call<CompleteJobsResponse>("POST", `/v1/hosts/${host.id}/complete`, {
      body: { completions: [completion(jobs[0]!, { attempt: 7 }), completion(jobs[1]!), { ...completion(jobs[1]!), jobId: "no-such-job" }] },
    });

    expect(reply.status).toBe(200);
    const [stale, fine, unknown] = reply.body.results;
    expect(stale).toMatchObject({ jobId: jobs[0]!.id, ok: false, status: 409, error: { error: "stale_attempt" } });
    expect(fine).toEqual({ jobId: jobs[1]!.id, ok: true, state: "succeeded" });
    expect(unknown).toMatchObject({ jobId: "no-such-job", ok: false, status: 404, error: { error: "not_found", field: "completions.2.jobId" } });
    expect(coordinator.rows("SELECT state, attempt, host_id FROM jobs WHERE id = ?", jobs[0]!.id)).toEqual([
      { state: "leased", attempt: 1, host_id: host.id },
    ]);
  });

  test("a completion for a job leased to another host is refused as stale", async () => {
    const coordinator = startTestCoordinator();
    const { jobs } = await hostWithJobs(coordinator, 1);
    const other = await registerHost(coordinator, { name: "other" });
    const reply = await coordinator.call<CompleteJobsResponse>("POST", `/v1/hosts/${other.id}/complete`, { body: { completions: [completion(jobs[0]!)] } });
    expect(reply.body.results[0]).toMatchObject({ ok: false, status: 409 });
    expect(coordinator.rows("SELECT state FROM jobs")).toEqual([{ state: "leased" }]);
  });

  test("the same idempotency key and body replays the answer; another body under that key is a 409", async () => {
    const coordinator = startTestCoordinator();
    const { host, jobs } = await hostWithJobs(coordinator, 2);
    const body = { completions: [completion(jobs[0]!)] };
    const first = await coordinator.call<CompleteJobsResponse>("POST", `/v1/hosts/${host.id}/complete`, { body, idempotencyKey: "batch-1" });
    const again = await coordinator.call<CompleteJobsResponse>("POST", `/v1/hosts/${host.id}/complete`, { body, idempotencyKey: "batch-1" });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);

    const other = await coordinator.call("POST", `/v1/hosts/${host.id}/complete`, {
      body: { completions: [completion(jobs[0]!), completion(jobs[1]!)] },
      idempotencyKey: "batch-1",
    });
    expect(other.status).toBe(409);
    expect(errorBody(other).error).toBe("idempotency_conflict");
    expect(coordinator.rows("SELECT state FROM jobs WHERE id = ?", jobs[1]!.id)).toEqual([{ state: "leased" }]);
  });

  test("an empty list, too many completions, or a bad item is a 400 naming the field", async () => {
    const coordinator = startTestCoordinator();
    const { host, jobs } = await hostWithJobs(coordinator, 1);
    const path = `/v1/hosts/${host.id}/complete`;
    const empty = await coordinator.call("POST", path, { body: { completions: [] } });
    expect(empty.status).toBe(400);
    expect(errorBody(empty).field).toBe("completions");
    const tooMany = await coordinator.call("POST", path, { body: { completions: Array.from({ length: LIMITS.completionsPerRequest + 1 }, () => completion(jobs[0]!)) } });
    expect(tooMany.status).toBe(400);
    expect(errorBody(tooMany).field).toBe("completions");
    const badStatus = await coordinator.call("POST", path, { body: { completions: [completion(jobs[0]!, { status: "done" })] } });
    expect(badStatus.status).toBe(400);
    expect(errorBody(badStatus).field).toBe("completions.0.status");
    expect(coordinator.rows("SELECT state FROM jobs")).toEqual([{ state: "leased" }]);
  });

  test("a follower of the job's output is woken when it finishes (long before its 60 s wait would end)", async () => {
    const coordinator = startTestCoordinator();
    const { host, jobs } = await hostWithJobs(coordinator, 1);
    const following = coordinator.call("GET", `/v1/jobs/${jobs[0]!.id}/output?waitMs=60000`);
    await coordinator.call("POST", `/v1/hosts/${host.id}/complete`, { body: { completions: [completion(jobs[0]!)] } });
    const page = await following;
    expect(page.status).toBe(200);
    expect(page.body.job.state).toBe("succeeded");
  });
});

describe("POST /v1/hosts/:id/complete with claimSlots", () => {
  test("leases the next jobs for the freed slots: a claim entry right behind the completions, applied after them", async () => {
    const coordinator = startTestCoordinator();
    const { host, jobs } = await hostWithJobs(coordinator, 2);
    const waiting = [await enqueue(coordinator), await enqueue(coordinator), await enqueue(coordinator)];
    const entriesBefore = logEntries(coordinator);
    // Two slots, both busy: only the completions free room, so claiming 3 gets 2.
    const reply = await coordinator.call<CompleteJobsResponse>("POST", `/v1/hosts/${host.id}/complete`, {
      body: { completions: [completion(jobs[0]!), completion(jobs[1]!)], claimSlots: 3 },
    });

    expect(reply.status).toBe(200);
    expect(reply.body.results.map((r) => r.ok && r.state)).toEqual(["succeeded", "succeeded"]);
    expect(reply.body.jobs!.map((job) => [job.id, job.state, job.attempt, job.hostId])).toEqual([
      [waiting[0]!.id, "leased", 1, host.id],
      [waiting[1]!.id, "leased", 1, host.id],
    ]);
    expect(coordinator.rows("SELECT id, state, host_id FROM jobs ORDER BY seq")).toEqual([
      { id: jobs[0]!.id, state: "succeeded", host_id: null },
      { id: jobs[1]!.id, state: "succeeded", host_id: null },
      { id: waiting[0]!.id, state: "leased", host_id: host.id },
      { id: waiting[1]!.id, state: "leased", host_id: host.id },
      { id: waiting[2]!.id, state: "queued", host_id: null },
    ]);
    expect(logEntries(coordinator)).toBe(entriesBefore + 2);
  });

  test("answers jobs: [] at once when nothing is queued, and no jobs field without claimSlots", async () => {
    const coordinator = startTestCoordinator();
    const { host, jobs } = await hostWithJobs(coordinator, 2);
    const claimed = await coordinator.call<CompleteJobsResponse>("POST", `/v1/hosts/${host.id}/complete`, {
      body: { completions: [completion(jobs[0]!)], claimSlots: 1 },
    });
    expect(claimed.status).toBe(200);
    expect(claimed.body.jobs).toEqual([]);
    const plain = await coordinator.call<CompleteJobsResponse>("POST", `/v1/hosts/${host.id}/complete`, {
      body: { completions: [completion(jobs[1]!)], claimSlots: 0 },
    });
    expect(plain.body).toEqual({ results: [{ jobId: jobs[1]!.id, ok: true, state: "succeeded" }] });
  });

  test("a retry under the same idempotency key gets the same jobs back and leases nothing more", async () => {
    const coordinator = startTestCoordinator();
    const { host, jobs } = await hostWithJobs(coordinator, 1);
    await enqueue(coordinator);
    await enqueue(coordinator);
    const body = { completions: [completion(jobs[0]!)], claimSlots: 1 };
    const first = await coordinator.call<CompleteJobsResponse>("POST", `/v1/hosts/${host.id}/complete`, { body, idempotencyKey: "done-and-next" });
    const again = await coordinator.call<CompleteJobsResponse>("POST", `/v1/hosts/${host.id}/complete`, { body, idempotencyKey: "done-and-next" });
    expect(first.body.jobs).toHaveLength(1);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(coordinator.rows("SELECT state, count(*) AS n FROM jobs GROUP BY state ORDER BY state")).toEqual([
      { state: "leased", n: 1 },
      { state: "queued", n: 1 },
      { state: "succeeded", n: 1 },
    ]);
  });

  test("a draining host reports its jobs and gets none", async () => {
    const coordinator = startTestCoordinator();
    const { host, jobs } = await hostWithJobs(coordinator, 1);
    await enqueue(coordinator);
    expect((await coordinator.call("POST", `/v1/hosts/${host.id}/drain`)).status).toBe(200);
    const reply = await coordinator.call<CompleteJobsResponse>("POST", `/v1/hosts/${host.id}/complete`, {
      body: { completions: [completion(jobs[0]!)], claimSlots: 1 },
    });
    expect(reply.body.results[0]).toMatchObject({ ok: true, state: "succeeded" });
    expect(reply.body.jobs).toEqual([]);
    expect(coordinator.rows("SELECT state FROM jobs ORDER BY seq")).toEqual([{ state: "succeeded" }, { state: "queued" }]);
  });

  test("a claimSlots that is not an integer from 0 to 1024 is a 400 naming it, and nothing changes", async () => {
    const coordinator = startTestCoordinator();
    const { host, jobs } = await hostWithJobs(coordinator, 1);
    for (const claimSlots of [-1, 1_025, 1.5, "2", null]) {
      const reply = await coordinator.call("POST", `/v1/hosts/${host.id}/complete`, { body: { completions: [completion(jobs[0]!)], claimSlots } });
      expect(reply.status).toBe(400);
      expect(errorBody(reply).field).toBe("claimSlots");
    }
    expect(coordinator.rows("SELECT state FROM jobs")).toEqual([{ state: "leased" }]);
  });
});
