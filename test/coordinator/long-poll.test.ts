/** The claim long poll: a parked claim is woken by a matching job, not by a fixed poll interval. */
import { afterEach, expect, test } from "bun:test";
import type { ClaimResponse, Job } from "../../src/api";
import { enqueue, leasedJob, okResult, registerHost, startTestCoordinator, stopTestCoordinators, type TestCoordinator } from "./harness";

afterEach(stopTestCoordinators);

/** Waits (with a deadline) until `count` claims are parked: there is no event for "a request is waiting". */
async function parkedClaims(coordinator: TestCoordinator, count: number): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (coordinator.node.waiters.parkedClaims < count) {
    if (Date.now() > deadline) throw new Error(`only ${coordinator.node.waiters.parkedClaims} of ${count} claims parked`);
    await Bun.sleep(5);
  }
}

function claim(coordinator: TestCoordinator, hostId: string, waitMs = 10_000) {
  return coordinator.call<ClaimResponse>("POST", `/v1/hosts/${hostId}/claim`, { body: { slots: 1, waitMs } });
}

test("a parked claim returns the job as soon as one is enqueued", async () => {
  const coordinator = startTestCoordinator();
  const host = await registerHost(coordinator);
  const startedAt = Date.now();
  const waiting = claim(coordinator, host.id);
  await parkedClaims(coordinator, 1);
  const job = await enqueue(coordinator);
  const reply = await waiting;
  expect(reply.status).toBe(200);
  expect(reply.body.jobs.map((j) => [j.id, j.state, j.attempt])).toEqual([[job.id, "leased", 1]]);
  // Sanity only: it was the enqueue that ended the wait, not the 10 s deadline.
  expect(Date.now() - startedAt).toBeLessThan(9_000);
});

test("a parked claim ignores jobs it cannot run and takes the one it can", async () => {
  const coordinator = startTestCoordinator();
  const host = await registerHost(coordinator, { capabilities: ["shell"] });
  const waiting = claim(coordinator, host.id);
  await parkedClaims(coordinator, 1);
  const gpuJob = await enqueue(coordinator, { requires: ["gpu"] });
  const shellJob = await enqueue(coordinator);
  const reply = await waiting;
  expect(reply.body.jobs.map((j) => j.id)).toEqual([shellJob.id]);
  expect((await coordinator.call<Job>("GET", `/v1/jobs/${gpuJob.id}`)).body.state).toBe("queued");
});

test("one job wakes parked claims but only one host gets it", async () => {
  const coordinator = startTestCoordinator();
  const hosts = [await registerHost(coordinator, { name: "a" }), await registerHost(coordinator, { name: "b" })];
  const waiting = hosts.map((host) => claim(coordinator, host.id, 1_000));
  await parkedClaims(coordinator, 2);
  const job = await enqueue(coordinator);
  const replies = await Promise.all(waiting);
  const winners = replies.flatMap((reply) => reply.body.jobs.map((j) => j.id));
  expect(winners).toEqual([job.id]);
  expect(coordinator.rows("SELECT attempt FROM jobs")).toEqual([{ attempt: 1 }]);
});

test("a job requeued with a backoff wakes a parked claim when the backoff ends", async () => {
  const coordinator = startTestCoordinator();
  const { host, job } = await leasedJob(coordinator, { retryOnFailure: true, backoffMs: 300 });
  const failed = await coordinator.call<Job>("POST", `/v1/jobs/${job.id}/complete`, {
    body: { hostId: host.id, attempt: 1, status: "failed", result: { ...okResult, exitCode: 1 } },
  });
  expect(failed.body.state).toBe("queued");
  expect(failed.body.availableAt).toBeGreaterThan(failed.body.updatedAt);
  const reply = await claim(coordinator, host.id);
  expect(reply.body.jobs.map((j) => [j.id, j.attempt])).toEqual([[job.id, 2]]);
});

test("the wait is capped by SKYCLAW_CLAIM_WAIT_MS and ends empty", async () => {
  const coordinator = startTestCoordinator({ SKYCLAW_CLAIM_WAIT_MS: "200" });
  const host = await registerHost(coordinator);
  const reply = await claim(coordinator, host.id, 300_000);
  expect(reply.status).toBe(200);
  expect(reply.body).toEqual({ jobs: [] });
});

test("a parked output reader is woken when the job is claimed", async () => {
  const coordinator = startTestCoordinator();
  const host = await registerHost(coordinator);
  const job = await enqueue(coordinator);
  const watching = coordinator.call("GET", `/v1/jobs/${job.id}/output?waitMs=10000`);
  const [claimed] = (await claim(coordinator, host.id, 0)).body.jobs;
  expect(claimed?.id).toBe(job.id);
  const reply = await watching;
  expect(reply.body.job).toMatchObject({ state: "leased", hostId: host.id });
});

test("a new job wakes one parked claim, not every idle host", async () => {
  const coordinator = startTestCoordinator();
  const hosts = [await registerHost(coordinator, { name: "a" }), await registerHost(coordinator, { name: "b" }), await registerHost(coordinator, { name: "c" })];
  const waiting = hosts.map((host) => claim(coordinator, host.id));
  await parkedClaims(coordinator, 3);
  const job = await enqueue(coordinator);
  const first = await Promise.race(waiting);
  expect(first.body.jobs.map((j) => j.id)).toEqual([job.id]);
  // The other two are still parked: no claim was proposed for them, so no log entry was spent.
  expect(coordinator.node.waiters.parkedClaims).toBe(2);
  expect(coordinator.rows("SELECT count(*) AS n FROM raft_log WHERE data LIKE '%\"type\":\"claim\"%'")).toEqual([{ n: 1 }]);
});

test("a job left over when a woken host took a better one wakes another parked host", async () => {
  const coordinator = startTestCoordinator();
  const gpuHost = await registerHost(coordinator, { name: "gpu", capabilities: ["gpu", "shell"] });
  const shellHost = await registerHost(coordinator, { name: "shell", capabilities: ["shell"] });
  const gpuClaim = claim(coordinator, gpuHost.id);
  await parkedClaims(coordinator, 1);
  const shellClaim = claim(coordinator, shellHost.id);
  await parkedClaims(coordinator, 2);
  // Both jobs in one log batch: the shell job wakes the longest-parked host (gpu), the gpu job
  // finds no other gpu host to wake, and the gpu host takes the more urgent gpu job. The shell
  // job must then go to the shell host at once, not when its long poll times out.
  const spec = { kind: "shell" as const, command: "true" };
  const base = { requires: [], timeoutMs: null, maxAttempts: 3, retryOnFailure: false, backoffMs: 1_000 };
  const [shellJob, gpuJob] = await Promise.all([
    coordinator.node.submit<Job>({ type: "enqueue", jobId: "shell-job", spec, ...base, priority: 0 }),
    coordinator.node.submit<Job>({ type: "enqueue", jobId: "gpu-job", spec, ...base, requires: ["gpu"], priority: 5 }),
  ]);
  expect((await gpuClaim).body.jobs.map((j) => j.id)).toEqual([gpuJob.id]);
  const startedAt = Date.now();
  expect((await shellClaim).body.jobs.map((j) => j.id)).toEqual([shellJob.id]);
  // Sanity only: woken by the leftover job, not by the 10 s deadline.
  expect(Date.now() - startedAt).toBeLessThan(9_000);
});

test("an idle host's claim is committed in the same batch as the enqueue that woke it", async () => {
  const coordinator = startTestCoordinator();
  const batches: string[][] = [];
  coordinator.node.log.onApplied((entries) => batches.push(entries.map((entry) => entry.command.type)));
  const host = await registerHost(coordinator);
  const waiting = claim(coordinator, host.id);
  await parkedClaims(coordinator, 1);
  const job = await enqueue(coordinator);
  expect((await waiting).body.jobs.map((j) => j.id)).toEqual([job.id]);
  // One commit carried both: the dispatch paid for one fsync, not two.
  expect(batches).toContainEqual(["enqueue", "claim"]);
});
