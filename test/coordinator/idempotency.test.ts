/**
 * x-idempotency-key on the write routes: the same key with the same request replays the first
 * answer and changes nothing more; the same key with a different request is a 409.
 */
import { afterEach, describe, expect, test } from "bun:test";
import type { Job } from "../../src/api";
import { enqueue, errorBody, leasedJob, okResult, registerHost, startTestCoordinator, stopTestCoordinators, type TestCoordinator } from "./harness";

afterEach(stopTestCoordinators);

function counts(coordinator: TestCoordinator) {
  return coordinator.rows(
    `SELECT (SELECT count(*) FROM jobs) AS jobs, (SELECT count(*) FROM hosts) AS hosts,
            (SELECT count(*) FROM job_output) AS chunks, (SELECT count(*) FROM jobs WHERE state = 'leased') AS leased`,
  )[0];
}

function expectConflict(reply: { status: number; body: unknown }) {
  expect(reply.status).toBe(409);
  expect(errorBody(reply as never)).toMatchObject({ error: "idempotency_conflict", field: "x-idempotency-key" });
}

describe("POST /v1/jobs", () => {
  test("the same key and body returns the same job, and only one exists", async () => {
    const coordinator = startTestCoordinator();
    const body = { kind: "shell", command: "echo", args: ["once"] };
    const first = await coordinator.call<Job>("POST", "/v1/jobs", { body, idempotencyKey: "enqueue-1" });
    const second = await coordinator.call<Job>("POST", "/v1/jobs", { body: { args: ["once"], command: "echo", kind: "shell" }, idempotencyKey: "enqueue-1" });
    expect(first.status).toBe(201);
    expect(second.status).toBe(201);
    expect(second.body).toEqual(first.body);
    expect(coordinator.rows("SELECT id FROM jobs")).toEqual([{ id: first.body.id }]);
  });

  test("the same key replays even after the job has moved on", async () => {
    const coordinator = startTestCoordinator();
    const body = { kind: "shell", command: "echo" };
    const first = await coordinator.call<Job>("POST", "/v1/jobs", { body, idempotencyKey: "enqueue-2" });
    await coordinator.call("POST", `/v1/jobs/${first.body.id}/cancel`, { body: {} });
    const second = await coordinator.call<Job>("POST", "/v1/jobs", { body, idempotencyKey: "enqueue-2" });
    expect(second.body.id).toBe(first.body.id);
    expect(counts(coordinator)?.jobs).toBe(1);
  });

  test("the same key with a different body is a 409 and creates nothing", async () => {
    const coordinator = startTestCoordinator();
    await coordinator.call("POST", "/v1/jobs", { body: { kind: "shell", command: "echo" }, idempotencyKey: "enqueue-3" });
    const before = counts(coordinator);
    expectConflict(await coordinator.call("POST", "/v1/jobs", { body: { kind: "shell", command: "rm" }, idempotencyKey: "enqueue-3" }));
    expect(counts(coordinator)).toEqual(before);
  });

  test("different keys make different jobs", async () => {
    const coordinator = startTestCoordinator();
    const body = { kind: "shell", command: "echo" };
    const a = await coordinator.call<Job>("POST", "/v1/jobs", { body, idempotencyKey: "k-a" });
    const b = await coordinator.call<Job>("POST", "/v1/jobs", { body, idempotencyKey: "k-b" });
    expect(a.body.id).not.toBe(b.body.id);
    expect(counts(coordinator)?.jobs).toBe(2);
  });

  test("a refusal is replayed too, so a retry cannot turn it into a success", async () => {
    const coordinator = startTestCoordinator();
    await enqueue(coordinator, { id: "taken" });
    const body = { kind: "shell", command: "echo", id: "taken" };
    const first = await coordinator.call("POST", "/v1/jobs", { body, idempotencyKey: "dup-key" });
    expect(first.status).toBe(409);
    expect(errorBody(first).error).toBe("duplicate_id");
    const again = await coordinator.call("POST", "/v1/jobs", { body, idempotencyKey: "dup-key" });
    expect(again.status).toBe(409);
    expect(again.body).toEqual(first.body);
  });

  test.each(["", "has space", "tab\tkey", "x".repeat(201), "naïve"])("a malformed key %j is refused with 400 and creates nothing", async (key) => {
    const coordinator = startTestCoordinator();
    const reply = await coordinator.call("POST", "/v1/jobs", { body: { kind: "shell", command: "echo" }, headers: { "x-idempotency-key": key } });
    expect(reply.status).toBe(400);
    expect(errorBody(reply)).toMatchObject({ error: "invalid_request", field: "x-idempotency-key" });
    expect(counts(coordinator)?.jobs).toBe(0);
  });
});

describe("host writes", () => {
  test("register: a replay returns the same host id and adds no host", async () => {
    const coordinator = startTestCoordinator();
    const body = { name: "h", capabilities: ["shell"], slots: 1, version: "1" };
    const first = await coordinator.call("POST", "/v1/hosts/register", { body, idempotencyKey: "reg-1" });
    const second = await coordinator.call("POST", "/v1/hosts/register", { body, idempotencyKey: "reg-1" });
    expect(second.status).toBe(200);
    expect(second.body.host.id).toBe(first.body.host.id);
    expect(counts(coordinator)?.hosts).toBe(1);
    expectConflict(await coordinator.call("POST", "/v1/hosts/register", { body: { ...body, slots: 2 }, idempotencyKey: "reg-1" }));
    expect(coordinator.rows("SELECT slots FROM hosts")).toEqual([{ slots: 1 }]);
  });

  test("claim: a retried claim gets the same jobs back and leases no more", async () => {
    const coordinator = startTestCoordinator();
    const host = await registerHost(coordinator, { slots: 4 });
    const job = await enqueue(coordinator);
    const first = await coordinator.call("POST", `/v1/hosts/${host.id}/claim`, { body: { slots: 1, waitMs: 0 }, idempotencyKey: "claim-1" });
    await enqueue(coordinator);
    const second = await coordinator.call("POST", `/v1/hosts/${host.id}/claim`, { body: { slots: 1, waitMs: 0 }, idempotencyKey: "claim-1" });
    expect(first.body.jobs.map((j: Job) => j.id)).toEqual([job.id]);
    expect(second.body).toEqual(first.body);
    expect(counts(coordinator)?.leased).toBe(1);
    expectConflict(await coordinator.call("POST", `/v1/hosts/${host.id}/claim`, { body: { slots: 2, waitMs: 0 }, idempotencyKey: "claim-1" }));
    expect(counts(coordinator)?.leased).toBe(1);
  });
});

describe("job writes", () => {
  test("output: a retried append stores the chunks once", async () => {
    const coordinator = startTestCoordinator();
    const { host, job } = await leasedJob(coordinator);
    const body = { hostId: host.id, attempt: 1, chunks: [{ stream: "stdout", data: "line\n" }] };
    const first = await coordinator.call("POST", `/v1/jobs/${job.id}/output`, { body, idempotencyKey: "out-1" });
    const second = await coordinator.call("POST", `/v1/jobs/${job.id}/output`, { body, idempotencyKey: "out-1" });
    expect(first.status).toBe(200);
    expect(second.body).toEqual(first.body);
    expect(counts(coordinator)?.chunks).toBe(1);
    expectConflict(
      await coordinator.call("POST", `/v1/jobs/${job.id}/output`, { body: { ...body, chunks: [{ stream: "stdout", data: "other\n" }] }, idempotencyKey: "out-1" }),
    );
    expect(counts(coordinator)?.chunks).toBe(1);
  });

  test("complete: a retried completion gets the same answer, not a fencing refusal", async () => {
    const coordinator = startTestCoordinator();
    const { host, job } = await leasedJob(coordinator);
    const body = { hostId: host.id, attempt: 1, status: "succeeded", result: okResult };
    const first = await coordinator.call("POST", `/v1/jobs/${job.id}/complete`, { body, idempotencyKey: "done-1" });
    const second = await coordinator.call("POST", `/v1/jobs/${job.id}/complete`, { body, idempotencyKey: "done-1" });
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.body).toEqual(first.body);
    const before = coordinator.rows("SELECT * FROM jobs");
    expectConflict(await coordinator.call("POST", `/v1/jobs/${job.id}/complete`, { body: { ...body, status: "failed" }, idempotencyKey: "done-1" }));
    expect(coordinator.rows("SELECT * FROM jobs")).toEqual(before);
  });

  test("cancel: replayed, and a key reused on another route is a conflict", async () => {
    const coordinator = startTestCoordinator();
    const job = await enqueue(coordinator);
    const other = await enqueue(coordinator);
    const first = await coordinator.call("POST", `/v1/jobs/${job.id}/cancel`, { body: {}, idempotencyKey: "cancel-1" });
    const second = await coordinator.call("POST", `/v1/jobs/${job.id}/cancel`, { body: {}, idempotencyKey: "cancel-1" });
    expect(second.body).toEqual(first.body);
    expectConflict(await coordinator.call("POST", `/v1/jobs/${other.id}/cancel`, { body: {}, idempotencyKey: "cancel-1" }));
    expect((await coordinator.call("GET", `/v1/jobs/${other.id}`)).body.state).toBe("queued");
  });

  test("renew and drain replay their answer", async () => {
    const coordinator = startTestCoordinator();
    const { host, job } = await leasedJob(coordinator);
    const renew1 = await coordinator.call("POST", `/v1/jobs/${job.id}/renew`, { body: { hostId: host.id, attempt: 1 }, idempotencyKey: "renew-1" });
    const renew2 = await coordinator.call("POST", `/v1/jobs/${job.id}/renew`, { body: { hostId: host.id, attempt: 1 }, idempotencyKey: "renew-1" });
    expect(renew2.body).toEqual(renew1.body);
    const drain1 = await coordinator.call("POST", `/v1/hosts/${host.id}/drain`, { idempotencyKey: "drain-1" });
    const drain2 = await coordinator.call("POST", `/v1/hosts/${host.id}/drain`, { idempotencyKey: "drain-1" });
    expect(drain1.status).toBe(200);
    expect(drain2.body).toEqual(drain1.body);
  });
});
