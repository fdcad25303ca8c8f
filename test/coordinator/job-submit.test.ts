/** POST /v1/jobs, GET /v1/jobs/:id and the paged GET /v1/jobs. */
import { afterEach, describe, expect, test } from "bun:test";
import type { Job, JobList } from "../../src/api";
import { enqueue, errorBody, startTestCoordinator, stopTestCoordinators } from "./harness";

afterEach(stopTestCoordinators);

describe("POST /v1/jobs", () => {
  test("a shell job is queued with defaults and answered with 201", async () => {
    const coordinator = startTestCoordinator();
    const reply = await coordinator.call<Job>("POST", "/v1/jobs", {
      body: { kind: "shell", command: "make", args: ["test"], env: { CI: "1" }, cwd: "/src", requires: ["linux"] },
    });
    expect(reply.status).toBe(201);
    expect(reply.body).toMatchObject({
      kind: "shell",
      state: "queued",
      spec: { kind: "shell", command: "make", args: ["test"], env: { CI: "1" }, cwd: "/src" },
      requires: ["linux", "shell"],
      priority: 0,
      attempt: 0,
      maxAttempts: 3,
      retryOnFailure: false,
      hostId: null,
      result: null,
    });
    expect(reply.body.id).toMatch(/^job_[0-9a-f]{32}$/);
    expect(coordinator.rows("SELECT id, state FROM jobs")).toEqual([{ id: reply.body.id, state: "queued" }]);
  });

  test("an openclaw job in the agent form and one with a chosen id", async () => {
    const coordinator = startTestCoordinator();
    const agent = await coordinator.call<Job>("POST", "/v1/jobs", {
      body: { kind: "openclaw", message: "Summarize the logs", model: "ollama/qwen", thinking: "low", agent: "main" },
    });
    expect(agent.status).toBe(201);
    expect(agent.body.spec).toEqual({ kind: "openclaw", message: "Summarize the logs", model: "ollama/qwen", thinking: "low", agent: "main" });
    expect(agent.body.requires).toEqual(["openclaw"]);
    const chosen = await coordinator.call<Job>("POST", "/v1/jobs", {
      body: { kind: "openclaw", args: ["--version"], id: "my-job-1", priority: 7, maxAttempts: 1, timeoutMs: 60000 },
    });
    expect(chosen.status).toBe(201);
    expect(chosen.body).toMatchObject({ id: "my-job-1", priority: 7, maxAttempts: 1, timeoutMs: 60000 });
  });

  test("a second job with the same chosen id is refused with 409 and the first is untouched", async () => {
    const coordinator = startTestCoordinator();
    const first = await enqueue(coordinator, { id: "dup" });
    const reply = await coordinator.call("POST", "/v1/jobs", { body: { kind: "shell", command: "rm", id: "dup" } });
    expect(reply.status).toBe(409);
    expect(errorBody(reply)).toMatchObject({ error: "duplicate_id", field: "id" });
    expect((await coordinator.call("GET", "/v1/jobs/dup")).body).toEqual(first);
  });

  const invalid: [string, unknown, string][] = [
    ["an unknown field", { kind: "shell", command: "ls", colour: "red" }, "colour"],
    ["a wrong type", { kind: "shell", command: "ls", priority: "high" }, "priority"],
    ["a non-integer number", { kind: "shell", command: "ls", maxAttempts: 1.5 }, "maxAttempts"],
    ["an unknown kind", { kind: "python", command: "ls" }, "kind"],
    ["a shell job without command", { kind: "shell", args: ["x"] }, "command"],
    ["a shell job with a message", { kind: "shell", command: "ls", message: "hi" }, "message"],
    ["an openclaw job with a command", { kind: "openclaw", command: "rm", args: ["-rf"] }, "command"],
    ["an openclaw job with neither args nor message", { kind: "openclaw" }, "args"],
    ["an openclaw job with both args and message", { kind: "openclaw", args: ["a"], message: "m" }, "args"],
    ["a model without a message", { kind: "openclaw", args: ["a"], model: "m" }, "model"],
    ["a bad capability", { kind: "shell", command: "ls", requires: ["GPU"] }, "requires.0"],
    ["a capability with a space", { kind: "shell", command: "ls", requires: ["g p u"] }, "requires.0"],
    ["an env name that is not a variable name", { kind: "shell", command: "ls", env: { "1BAD": "x" } }, "env.1BAD"],
    ["an env value that is not a string", { kind: "shell", command: "ls", env: { A: 1 } }, "env.A"],
    ["a bad job id", { kind: "shell", command: "ls", id: "../etc" }, "id"],
    ["a priority out of range", { kind: "shell", command: "ls", priority: 5000 }, "priority"],
  ];
  test.each(invalid)("refuses %s with 400 naming the field, and stores nothing", async (_what, body, field) => {
    const coordinator = startTestCoordinator();
    const reply = await coordinator.call("POST", "/v1/jobs", { body });
    expect(reply.status).toBe(400);
    const error = errorBody(reply);
    expect(error).toMatchObject({ error: "invalid_request", field });
    expect(error.message).toStartWith(`${field}: `);
    expect(JSON.stringify(error)).not.toContain("anyOf");
    expect(coordinator.rows("SELECT id FROM jobs")).toEqual([]);
  });

  test("a body over SKYCLAW_MAX_BODY_BYTES gets 413 in the error shape and stores nothing", async () => {
    const coordinator = startTestCoordinator({ SKYCLAW_MAX_BODY_BYTES: "2048" });
    // Far over the limit, not just over it: Bun's own cap must not answer first with an empty body.
    const reply = await coordinator.call("POST", "/v1/jobs", { body: { kind: "shell", command: "echo", args: ["x".repeat(20_000)] } });
    expect(reply.status).toBe(413);
    expect(errorBody(reply).error).toBe("body_too_large");
    expect(reply.body.message).toContain("SKYCLAW_MAX_BODY_BYTES");
    expect(coordinator.rows("SELECT id FROM jobs")).toEqual([]);
    expect((await coordinator.call("POST", "/v1/jobs", { body: { kind: "shell", command: "echo" } })).status).toBe(201);
  });

  test("a chunked body, whose size cannot be judged before reading it, gets 411", async () => {
    const coordinator = startTestCoordinator();
    const chunked = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(JSON.stringify({ kind: "shell", command: "echo" })));
        controller.close();
      },
    });
    const response = await fetch(`${coordinator.url}/v1/jobs`, { method: "POST", body: chunked, headers: { "content-type": "application/json" } });
    expect(response.status).toBe(411);
    expect(await response.json()).toMatchObject({ error: "length_required" });
    expect(coordinator.rows("SELECT id FROM jobs")).toEqual([]);
  });

  test("a __proto__ key in the body cannot smuggle fields into the job", async () => {
    const coordinator = startTestCoordinator();
    const reply = await coordinator.call<Job>("POST", "/v1/jobs", {
      rawBody: '{"kind":"shell","command":"echo","__proto__":{"env":{"LD_PRELOAD":"/tmp/evil.so"},"requires":["x"]}}',
    });
    expect(reply.status).toBeLessThan(500);
    if (reply.status === 201) {
      expect(reply.body.spec).toEqual({ kind: "shell", command: "echo" });
      expect(reply.body.requires).toEqual(["shell"]);
    }
    expect(JSON.stringify(coordinator.rows("SELECT spec FROM jobs"))).not.toContain("LD_PRELOAD");
  });

  test("a body that is not JSON gets 400 invalid_json", async () => {
    const coordinator = startTestCoordinator();
    const reply = await coordinator.call("POST", "/v1/jobs", { rawBody: '{"kind": "shell",' });
    expect(reply.status).toBe(400);
    expect(errorBody(reply).error).toBe("invalid_json");
  });
});

describe("GET /v1/jobs/:id", () => {
  test("returns the job as it was answered at submission", async () => {
    const coordinator = startTestCoordinator();
    const job = await enqueue(coordinator);
    const reply = await coordinator.call("GET", `/v1/jobs/${job.id}`);
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual(job);
  });

  test("an unknown id is 404, a malformed one 400", async () => {
    const coordinator = startTestCoordinator();
    const missing = await coordinator.call("GET", "/v1/jobs/job_missing");
    expect(missing.status).toBe(404);
    expect(errorBody(missing)).toMatchObject({ error: "not_found", field: "id" });
    const malformed = await coordinator.call("GET", "/v1/jobs/-dash-first");
    expect(malformed.status).toBe(400);
    expect(errorBody(malformed)).toMatchObject({ error: "invalid_request", field: "id" });
  });
});

describe("GET /v1/jobs", () => {
  test("pages newest first with nextCursor until the end", async () => {
    const coordinator = startTestCoordinator();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await enqueue(coordinator, { id: `job-${i}` })).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    const pages: number[] = [];
    do {
      const query: string = `/v1/jobs?limit=2${cursor === null ? "" : `&cursor=${cursor}`}`;
      const reply: { status: number; body: JobList } = await coordinator.call<JobList>("GET", query);
      expect(reply.status).toBe(200);
      pages.push(reply.body.jobs.length);
      seen.push(...reply.body.jobs.map((job) => job.id));
      cursor = reply.body.nextCursor;
    } while (cursor !== null);
    expect(pages).toEqual([2, 2, 1]);
    expect(seen).toEqual([...ids].reverse());
  });

  test("filters by state; a full last page says there is no more", async () => {
    const coordinator = startTestCoordinator();
    const a = await enqueue(coordinator);
    const b = await enqueue(coordinator);
    await enqueue(coordinator);
    for (const job of [a, b]) await coordinator.call("POST", `/v1/jobs/${job.id}/cancel`, { body: {} });
    const reply = await coordinator.call<JobList>("GET", "/v1/jobs?state=cancelled&limit=2");
    expect(reply.status).toBe(200);
    expect(reply.body.jobs.map((job) => job.id)).toEqual([b.id, a.id]);
    expect(reply.body.nextCursor).toBeNull();
    expect((await coordinator.call<JobList>("GET", "/v1/jobs?state=queued")).body.jobs).toHaveLength(1);
    expect((await coordinator.call<JobList>("GET", "/v1/jobs?state=dead")).body).toEqual({ jobs: [], nextCursor: null });
  });

  test.each([
    ["limit=0", "limit"],
    ["limit=501", "limit"],
    ["limit=abc", "limit"],
    ["limit=1.5", "limit"],
    ["limit=", "limit"],
    ["state=running", "state"],
    ["cursor=-1", "cursor"],
    ["cursor=abc", "cursor"],
    ["page=2", "page"],
  ])("refuses ?%s with 400", async (query, field) => {
    const coordinator = startTestCoordinator();
    await enqueue(coordinator);
    const reply = await coordinator.call("GET", `/v1/jobs?${query}`);
    expect(reply.status).toBe(400);
    const error = errorBody(reply);
    expect(error.error).toBe("invalid_request");
    // Range errors on numeric query values lose the field name inside Elysia; the rest name it.
    if (!["limit=0", "limit=501"].includes(query)) expect(error.field).toBe(field);
  });
});
