/** GET /health, GET /v1/state, unknown routes, and the shared-token check in front of everything else. */
import { afterEach, describe, expect, test } from "bun:test";
import { VERSION } from "../../src/version";
import { call, enqueue, errorBody, leasedJob, registerHost, startTestCoordinator, stopTestCoordinators } from "./harness";

afterEach(stopTestCoordinators);

describe("GET /health", () => {
  test("answers ok with the node id and version", async () => {
    const coordinator = startTestCoordinator({ SKYCLAW_COORDINATOR_NODE_ID: "node-a" });
    const reply = await coordinator.call("GET", "/health");
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ ok: true, nodeId: "node-a", version: VERSION });
  });
});

describe("GET /v1/state", () => {
  test("summarises jobs by state, the queue by requirements, and the hosts", async () => {
    const coordinator = startTestCoordinator();
    const { host } = await leasedJob(coordinator);
    await enqueue(coordinator, { requires: ["gpu"] });
    await enqueue(coordinator, { requires: ["gpu"] });
    const reply = await coordinator.call("GET", "/v1/state");
    expect(reply.status).toBe(200);
    expect(reply.body.role).toBe("leader");
    expect(reply.body.jobs).toEqual({ queued: 2, leased: 1, succeeded: 0, failed: 0, cancelled: 0, dead: 0 });
    expect(reply.body.queueByCapabilities).toEqual([{ requires: ["gpu", "shell"], queued: 2 }]);
    expect(reply.body.hosts.map((h: { id: string }) => h.id)).toEqual([host.id]);
    const [meta] = coordinator.rows<{ value: number }>("SELECT value FROM state_meta WHERE key = 'last_applied'");
    expect(reply.body.lastApplied).toBe(meta!.value);
  });
});

describe("unknown routes", () => {
  test("answer 404 in the error shape", async () => {
    const coordinator = startTestCoordinator();
    for (const [method, path] of [
      ["GET", "/nope"],
      ["DELETE", "/v1/jobs/abc"],
      ["PUT", "/v1/hosts/register"],
    ] as const) {
      const reply = await coordinator.call(method, path);
      expect(reply.status).toBe(404);
      expect(errorBody(reply).error).toBe("not_found");
    }
  });
});

describe("auth with SKYCLAW_TOKEN", () => {
  const token = "correct-horse-battery-staple";

  test("a request without a token or with a wrong one is refused with 401 and changes nothing", async () => {
    const coordinator = startTestCoordinator({ SKYCLAW_TOKEN: token });
    const job = { kind: "shell", command: "echo" };
    const attempts: Record<string, string>[] = [
      {},
      { "x-skyclaw-token": "wrong" },
      { "x-skyclaw-token": `${token}x` },
      { "x-skyclaw-token": "" },
      { authorization: "Bearer wrong" },
      { authorization: token },
    ];
    for (const headers of attempts) {
      const reply = await call(coordinator.url, "POST", "/v1/jobs", { body: job, headers });
      expect(reply.status).toBe(401);
      expect(errorBody(reply).error).toBe("unauthorized");
      expect(reply.body.message).toContain("x-skyclaw-token");
    }
    for (const path of ["/v1/state", "/v1/jobs", "/v1/hosts"]) {
      expect((await call(coordinator.url, "GET", path)).status).toBe(401);
    }
    expect(coordinator.rows("SELECT id FROM jobs")).toEqual([]);
  });

  test("the token is accepted in x-skyclaw-token and as Authorization: Bearer", async () => {
    const coordinator = startTestCoordinator({ SKYCLAW_TOKEN: token });
    const viaHeader = await call(coordinator.url, "POST", "/v1/jobs", {
      body: { kind: "shell", command: "echo" },
      headers: { "x-skyclaw-token": token },
    });
    expect(viaHeader.status).toBe(201);
    const viaBearer = await call(coordinator.url, "GET", `/v1/jobs/${viaHeader.body.id}`, { headers: { authorization: `Bearer ${token}` } });
    expect(viaBearer.status).toBe(200);
    expect(viaBearer.body.id).toBe(viaHeader.body.id);
  });

  test("/health needs no token", async () => {
    const coordinator = startTestCoordinator({ SKYCLAW_TOKEN: token });
    const reply = await call(coordinator.url, "GET", "/health");
    expect(reply.status).toBe(200);
    expect(reply.body.ok).toBe(true);
  });

  test("host routes are guarded too", async () => {
    const coordinator = startTestCoordinator({ SKYCLAW_TOKEN: token });
    const host = await registerHost(coordinator);
    const reply = await call(coordinator.url, "POST", `/v1/hosts/${host.id}/drain`);
    expect(reply.status).toBe(401);
    expect((await coordinator.call("GET", `/v1/hosts/${host.id}`)).body.state).toBe("active");
  });
});
