/**
 * Each documented limit (LIMITS in src/api/common.ts, SKYCLAW_MAX_BODY_BYTES): a request at
 * the limit is accepted, one past it is a 400 (413 for the body) naming the field and the
 * number, and changes nothing.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { LIMITS } from "../../src/api";
import { errorBody, leasedJob, shellJob, startTestCoordinator, stopTestCoordinators, type Reply, type TestCoordinator } from "./harness";

const MAX_BODY_BYTES = 2 * 1_048_576;
let coordinator: TestCoordinator;
let lease: { hostId: string; attempt: number };
let jobId = "";

beforeAll(async () => {
  coordinator = startTestCoordinator({ SKYCLAW_MAX_BODY_BYTES: String(MAX_BODY_BYTES) });
  const leased = await leasedJob(coordinator);
  lease = { hostId: leased.host.id, attempt: leased.job.attempt };
  jobId = leased.job.id;
});
afterAll(stopTestCoordinators);

const jobCount = () => coordinator.rows("SELECT count(*) AS n FROM jobs")[0].n as number;
const enqueue = (extra: Record<string, unknown>, headers: Record<string, string> = {}) =>
  coordinator.call("POST", "/v1/jobs", { body: shellJob(extra), headers });

async function expectRefused(reply: Reply<any>, field: string, limit: number | string): Promise<void> {
  expect(reply.status).toBe(400);
  const body = errorBody(reply);
  expect(body.field).toBe(field);
  expect(body.message).toContain(String(limit));
}

describe("a job's spec", () => {
  test(`env: at most ${LIMITS.envEntries} entries`, async () => {
    const env = (count: number) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`VAR_${i}`, "x"]));
    expect((await enqueue({ env: env(LIMITS.envEntries) })).status).toBe(201);
    const before = jobCount();
    await expectRefused(await enqueue({ env: env(LIMITS.envEntries + 1) }), "env", LIMITS.envEntries);
    expect(jobCount()).toBe(before);
  });

  test(`env: values of at most ${LIMITS.envValueLength} characters`, async () => {
    expect((await enqueue({ env: { BIG: "v".repeat(LIMITS.envValueLength) } })).status).toBe(201);
    await expectRefused(await enqueue({ env: { BIG: "v".repeat(LIMITS.envValueLength + 1) } }), "env.BIG", LIMITS.envValueLength);
  });

  test(`args: at most ${LIMITS.args} arguments of at most ${LIMITS.argLength} characters`, async () => {
    expect((await enqueue({ args: Array.from({ length: LIMITS.args }, () => "a") })).status).toBe(201);
    expect((await enqueue({ args: ["a".repeat(LIMITS.argLength)] })).status).toBe(201);
    const before = jobCount();
    await expectRefused(await enqueue({ args: Array.from({ length: LIMITS.args + 1 }, () => "a") }), "args", LIMITS.args);
    await expectRefused(await enqueue({ args: ["ok", "a".repeat(LIMITS.argLength + 1)] }), "args.1", LIMITS.argLength);
    expect(jobCount()).toBe(before);
  });

  test(`requires: at most ${LIMITS.requirements} capabilities`, async () => {
    const requires = (count: number) => Array.from({ length: count }, (_, i) => `cap-${i}`);
    expect((await enqueue({ requires: requires(LIMITS.requirements) })).status).toBe(201);
    await expectRefused(await enqueue({ requires: requires(LIMITS.requirements + 1) }), "requires", LIMITS.requirements);
  });
});

describe("headers and paging", () => {
  test(`x-idempotency-key: at most ${LIMITS.idempotencyKeyLength} characters`, async () => {
    expect((await enqueue({}, { "x-idempotency-key": "k".repeat(LIMITS.idempotencyKeyLength) })).status).toBe(201);
    const before = jobCount();
    await expectRefused(await enqueue({}, { "x-idempotency-key": "k".repeat(LIMITS.idempotencyKeyLength + 1) }), "x-idempotency-key", LIMITS.idempotencyKeyLength);
    expect(jobCount()).toBe(before);
  });

  test(`page size: limit at most ${LIMITS.pageSize}, for jobs and for output`, async () => {
    expect((await coordinator.call("GET", `/v1/jobs?limit=${LIMITS.pageSize}`)).status).toBe(200);
    await expectRefused(await coordinator.call("GET", `/v1/jobs?limit=${LIMITS.pageSize + 1}`), "limit", LIMITS.pageSize);
    expect((await coordinator.call("GET", `/v1/jobs/${jobId}/output?limit=${LIMITS.pageSize}`)).status).toBe(200);
    await expectRefused(await coordinator.call("GET", `/v1/jobs/${jobId}/output?limit=${LIMITS.pageSize + 1}`), "limit", LIMITS.pageSize);
  });

  test("body size: over SKYCLAW_MAX_BODY_BYTES is a 413 that names the limit, decided before the body is read", async () => {
    const before = jobCount();
    const reply = await coordinator.call("POST", "/v1/jobs", { rawBody: JSON.stringify(shellJob({ args: ["x".repeat(MAX_BODY_BYTES)] })) });
    expect(reply.status).toBe(413);
    expect(errorBody(reply)).toMatchObject({ error: "body_too_large" });
    expect(errorBody(reply).message).toContain(String(MAX_BODY_BYTES));
    expect(jobCount()).toBe(before);
  });
});

describe("a host's output", () => {
  const outputRows = () => coordinator.rows("SELECT count(*) AS n FROM job_output WHERE job_id = ?", jobId)[0].n as number;
  const append = (chunks: unknown[]) => coordinator.call("POST", `/v1/jobs/${jobId}/output`, { body: { ...lease, chunks } });

  test(`chunks of at most ${LIMITS.outputChunkBytes} characters, at most ${LIMITS.outputChunksPerRequest} per request`, async () => {
    expect((await append([{ stream: "stdout", data: "x".repeat(LIMITS.outputChunkBytes) }])).status).toBe(200);
    const before = outputRows();
    await expectRefused(await append([{ stream: "stdout", data: "x".repeat(LIMITS.outputChunkBytes + 1) }]), "chunks.0.data", LIMITS.outputChunkBytes);
    await expectRefused(
      await append(Array.from({ length: LIMITS.outputChunksPerRequest + 1 }, () => ({ stream: "stdout", data: "x" }))),
      "chunks",
      LIMITS.outputChunksPerRequest,
    );
    // Counted in bytes: fewer characters than the limit, but three bytes each.
    await expectRefused(
      await append([{ stream: "stdout", data: "€".repeat(Math.floor(LIMITS.outputChunkBytes / 3) + 1) }]),
      "chunks.0.data",
      LIMITS.outputChunkBytes,
    );
    expect(outputRows()).toBe(before);
  });
});
