/** Host routes: register, heartbeat, claim, drain, list and get, with their refusals. */
import { afterEach, describe, expect, test } from "bun:test";
import type { Host, Job } from "../../src/api";
import { claimNow, enqueue, errorBody, leasedJob, registerHost, startTestCoordinator, stopTestCoordinators } from "./harness";

afterEach(stopTestCoordinators);

const registration = { name: "build-01", capabilities: ["shell", "gpu"], slots: 2, version: "1.2.3" };

describe("POST /v1/hosts/register", () => {
  test("creates an active host with a generated id and returns the timings it must use", async () => {
    const coordinator = startTestCoordinator();
    const reply = await coordinator.call("POST", "/v1/hosts/register", { body: registration });
    expect(reply.status).toBe(200);
    expect(reply.body.host).toMatchObject({ name: "build-01", capabilities: ["gpu", "shell"], slots: 2, version: "1.2.3", state: "active", runningJobs: 0 });
    expect(reply.body.host.id).toMatch(/^host_[0-9a-f]{32}$/);
    expect(reply.body).toMatchObject({ leaseMs: 5000, heartbeatMs: 100, claimWaitMs: 10000 });
    expect(coordinator.rows("SELECT id, state FROM hosts")).toEqual([{ id: reply.body.host.id, state: "active" }]);
  });

  test("re-registering with the kept id updates the same host and reactivates it", async () => {
    const coordinator = startTestCoordinator();
    const first = await registerHost(coordinator, { hostId: "kept-id" });
    await coordinator.call("POST", `/v1/hosts/${first.id}/drain`);
    const again = await coordinator.call("POST", "/v1/hosts/register", { body: { ...registration, hostId: "kept-id", slots: 8 } });
    expect(again.status).toBe(200);
    expect(again.body.host).toMatchObject({ id: "kept-id", slots: 8, state: "active", registeredAt: first.registeredAt });
    expect(coordinator.rows("SELECT count(*) AS n FROM hosts")).toEqual([{ n: 1 }]);
  });

  test.each([
    [{ ...registration, slots: 0 }, "slots"],
    [{ ...registration, capabilities: ["GPU!"] }, "capabilities.0"],
    [{ ...registration, name: "" }, "name"],
    [{ ...registration, hostId: "has space" }, "hostId"],
    [{ ...registration, color: "blue" }, "color"],
    [{ name: "x", slots: 1, version: "1" }, "capabilities"],
  ])("refuses %j (field %s) and stores nothing", async (body, field) => {
    const coordinator = startTestCoordinator();
    const reply = await coordinator.call("POST", "/v1/hosts/register", { body });
    expect(reply.status).toBe(400);
    expect(errorBody(reply)).toMatchObject({ error: "invalid_request", field });
    expect(coordinator.rows("SELECT id FROM hosts")).toEqual([]);
  });
});

describe("POST /v1/hosts/:id/heartbeat", () => {
  test("renews the leases the host holds and reports the ones it does not", async () => {
    const coordinator = startTestCoordinator();
    const { host, job } = await leasedJob(coordinator);
    const before = coordinator.rows<{ lease_expires_at: number }>("SELECT lease_expires_at FROM jobs WHERE id = ?", job.id)[0]!;
    const reply = await coordinator.call("POST", `/v1/hosts/${host.id}/heartbeat`, {
      body: { running: [{ jobId: job.id, attempt: 1 }, { jobId: job.id, attempt: 2 }, { jobId: "unknown-job", attempt: 1 }] },
    });
    expect(reply.status).toBe(200);
    expect(reply.body.renewed).toHaveLength(1);
    expect(reply.body.renewed[0]).toMatchObject({ jobId: job.id, attempt: 1 });
    expect(reply.body.lost).toEqual([
      { jobId: job.id, attempt: 2 },
      { jobId: "unknown-job", attempt: 1 },
    ]);
    expect(reply.body.cancel).toEqual([]);
    expect(reply.body.drain).toBe(false);
    const after = coordinator.rows<{ lease_expires_at: number }>("SELECT lease_expires_at FROM jobs WHERE id = ?", job.id)[0]!;
    expect(after.lease_expires_at).toBe(reply.body.renewed[0].leaseExpiresAt);
    expect(after.lease_expires_at).toBeGreaterThanOrEqual(before.lease_expires_at);
  });

  test("tells the host which jobs to cancel and when to drain", async () => {
    const coordinator = startTestCoordinator();
    const { host, job } = await leasedJob(coordinator);
    expect((await coordinator.call("POST", `/v1/jobs/${job.id}/cancel`, { body: {} })).status).toBe(200);
    expect((await coordinator.call("POST", `/v1/hosts/${host.id}/drain`)).status).toBe(200);
    const reply = await coordinator.call("POST", `/v1/hosts/${host.id}/heartbeat`, { body: { running: [{ jobId: job.id, attempt: 1 }] } });
    expect(reply.status).toBe(200);
    expect(reply.body.cancel).toEqual([{ jobId: job.id, attempt: 1 }]);
    expect(reply.body.drain).toBe(true);
    expect(reply.body.host.state).toBe("draining");
  });

  test("an empty heartbeat records that the host is alive", async () => {
    const coordinator = startTestCoordinator();
    const host = await registerHost(coordinator);
    const reply = await coordinator.call("POST", `/v1/hosts/${host.id}/heartbeat`, { body: {} });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ renewed: [], cancel: [], lost: [], drain: false });
    expect(reply.body.host.lastHeartbeatAt).toBeGreaterThanOrEqual(host.lastHeartbeatAt);
  });

  test("an unknown host gets 404 and is not created", async () => {
    const coordinator = startTestCoordinator();
    const reply = await coordinator.call("POST", "/v1/hosts/ghost/heartbeat", { body: {} });
    expect(reply.status).toBe(404);
    expect(errorBody(reply).error).toBe("not_found");
    expect(coordinator.rows("SELECT id FROM hosts")).toEqual([]);
  });
});

describe("POST /v1/hosts/:id/claim", () => {
  test("leases the best job first: priority, then oldest", async () => {
    const coordinator = startTestCoordinator();
    const host = await registerHost(coordinator, { slots: 3 });
    const low = await enqueue(coordinator, { priority: -5 });
    const first = await enqueue(coordinator, { priority: 10 });
    const second = await enqueue(coordinator, { priority: 10 });
    const jobs = await claimNow(coordinator, host.id, 3);
    expect(jobs.map((job) => job.id)).toEqual([first.id, second.id, low.id]);
    for (const job of jobs) expect(job).toMatchObject({ state: "leased", attempt: 1, hostId: host.id });
    expect(jobs[0]!.leaseExpiresAt).toBeGreaterThan(jobs[0]!.updatedAt);
  });

  test("gives a host only jobs whose every requirement it has", async () => {
    const coordinator = startTestCoordinator();
    const gpuJob = await enqueue(coordinator, { requires: ["gpu", "linux"] });
    const openclawJob = (await coordinator.call<Job>("POST", "/v1/jobs", { body: { kind: "openclaw", args: ["--help"] } })).body;
    const plain = await registerHost(coordinator, { capabilities: ["shell", "gpu"] });
    expect(await claimNow(coordinator, plain.id, 4)).toEqual([]);
    const openclawHost = await registerHost(coordinator, { capabilities: ["openclaw"] });
    expect((await claimNow(coordinator, openclawHost.id, 4)).map((job) => job.id)).toEqual([openclawJob.id]);
    const full = await registerHost(coordinator, { capabilities: ["shell", "gpu", "linux", "arm64"] });
    expect((await claimNow(coordinator, full.id, 4)).map((job) => job.id)).toEqual([gpuJob.id]);
    expect((await coordinator.call("GET", `/v1/jobs/${gpuJob.id}`)).body.hostId).toBe(full.id);
  });

  test("never returns more jobs than the host has free slots", async () => {
    const coordinator = startTestCoordinator();
    const host = await registerHost(coordinator, { slots: 2 });
    for (let i = 0; i < 3; i++) await enqueue(coordinator);
    expect(await claimNow(coordinator, host.id, 5)).toHaveLength(2);
    expect(await claimNow(coordinator, host.id, 5)).toEqual([]);
    expect((await coordinator.call<Host>("GET", `/v1/hosts/${host.id}`)).body.runningJobs).toBe(2);
    expect(coordinator.rows("SELECT count(*) AS n FROM jobs WHERE state = 'queued'")).toEqual([{ n: 1 }]);
  });

  test("a draining host gets nothing and the job stays queued", async () => {
    const coordinator = startTestCoordinator();
    const host = await registerHost(coordinator);
    const job = await enqueue(coordinator);
    await coordinator.call("POST", `/v1/hosts/${host.id}/drain`);
    expect(await claimNow(coordinator, host.id)).toEqual([]);
    expect((await coordinator.call("GET", `/v1/jobs/${job.id}`)).body.state).toBe("queued");
  });

  test("an unknown host gets 404 and no job is leased", async () => {
    const coordinator = startTestCoordinator();
    const job = await enqueue(coordinator);
    const reply = await coordinator.call("POST", "/v1/hosts/ghost/claim", { body: { slots: 1, waitMs: 0 } });
    expect(reply.status).toBe(404);
    expect(errorBody(reply)).toMatchObject({ error: "not_found", field: "id" });
    expect((await coordinator.call("GET", `/v1/jobs/${job.id}`)).body.state).toBe("queued");
  });

  test("an empty claim with waitMs 0 answers at once with no jobs", async () => {
    const coordinator = startTestCoordinator();
    const host = await registerHost(coordinator);
    const reply = await coordinator.call("POST", `/v1/hosts/${host.id}/claim`, { body: { slots: 1, waitMs: 0 } });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ jobs: [] });
  });
});

describe("POST /v1/hosts/:id/drain", () => {
  test("marks the host draining; it keeps its leases", async () => {
    const coordinator = startTestCoordinator();
    const { host, job } = await leasedJob(coordinator);
    const reply = await coordinator.call("POST", `/v1/hosts/${host.id}/drain`);
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ id: host.id, state: "draining", runningJobs: 1 });
    expect((await coordinator.call("GET", `/v1/jobs/${job.id}`)).body).toMatchObject({ state: "leased", hostId: host.id });
  });

  test("an unknown host gets 404", async () => {
    const coordinator = startTestCoordinator();
    const reply = await coordinator.call("POST", "/v1/hosts/ghost/drain");
    expect(reply.status).toBe(404);
    expect(errorBody(reply).error).toBe("not_found");
  });
});

describe("GET /v1/hosts and /v1/hosts/:id", () => {
  test("list every host in registration order and get one by id", async () => {
    const coordinator = startTestCoordinator();
    expect((await coordinator.call("GET", "/v1/hosts")).body).toEqual({ hosts: [] });
    const a = await registerHost(coordinator, { name: "a" });
    const b = await registerHost(coordinator, { name: "b" });
    const list = await coordinator.call<{ hosts: Host[] }>("GET", "/v1/hosts");
    expect(list.status).toBe(200);
    expect(list.body.hosts.map((host) => host.name)).toEqual(["a", "b"]);
    const one = await coordinator.call<Host>("GET", `/v1/hosts/${b.id}`);
    expect(one.status).toBe(200);
    expect(one.body).toEqual(list.body.hosts[1]!);
    expect(a.id).not.toBe(b.id);
  });

  test("an unknown or malformed id is refused", async () => {
    const coordinator = startTestCoordinator();
    const missing = await coordinator.call("GET", "/v1/hosts/ghost");
    expect(missing.status).toBe(404);
    expect(errorBody(missing)).toMatchObject({ error: "not_found", field: "id" });
    const malformed = await coordinator.call("GET", `/v1/hosts/${"x".repeat(65)}`);
    expect(malformed.status).toBe(400);
    expect(errorBody(malformed)).toMatchObject({ error: "invalid_request", field: "id" });
  });
});
