/**
 * Every route × every role: allowed, or refused with 401 (no or unknown token), 403 (the role
 * may not), 404 (a job that is not the caller's, answered as if it did not exist). Refusals
 * change nothing. Each allowed call runs on a fresh fixture, since many of them change state.
 */
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { createApp } from "../../src/coordinator/app";
import { ROUTE_ACCESS } from "../../src/coordinator/auth/route-access";
import { stopTestCoordinators } from "../coordinator/harness";
import { ROLES, send, startFixture, type Fixture, type Role } from "./fixture";

afterEach(stopTestCoordinators);

type Expect = number | "ok";
interface Case {
  route: string;
  request: (f: Fixture) => { path: string; body?: unknown };
  expect: Partial<Record<Role, Expect>>;
  /** For roles not listed (and not `none`, which is always 401 unless the route is public). */
  others: Expect;
}

const lease = (f: Fixture) => ({ hostId: f.hostA, attempt: f.job.attempt });
const everyone = (status: Expect) => Object.fromEntries(ROLES.map((role) => [role, status])) as Record<Role, Expect>;
const hostSelf = { admin: "ok", "host-own": "ok", "host-other": 403 } as const;
const jobReader = { admin: "ok", "submit-own": "ok", "submit-other": 404, "host-own": "ok", "host-other": 404 } as const;
const leaseWriter = { admin: "ok", "host-own": "ok", "host-other": 403 } as const;
const clusterAdmins = { admin: 409, peer: 409 } as const; // allowed; this coordinator is not clustered
const member = { url: "http://127.0.0.1:1" };

const CASES: Case[] = [
  { route: "GET /health", request: () => ({ path: "/health" }), expect: everyone("ok"), others: "ok" },
  { route: "GET /openapi.json", request: () => ({ path: "/openapi.json" }), expect: everyone("ok"), others: "ok" },
  { route: "GET /", request: () => ({ path: "/" }), expect: everyone(302), others: 302 },
  { route: "GET /ui", request: () => ({ path: "/ui" }), expect: everyone("ok"), others: "ok" },
  { route: "GET /ui/", request: () => ({ path: "/ui/" }), expect: everyone("ok"), others: "ok" },
  { route: "GET /ui/app.js", request: () => ({ path: "/ui/app.js" }), expect: everyone("ok"), others: "ok" },
  { route: "GET /docs", request: () => ({ path: "/docs" }), expect: everyone(302), others: 302 },
  { route: "GET /metrics", request: () => ({ path: "/metrics" }), expect: { admin: "ok" }, others: 403 },
  { route: "GET /v1/state", request: () => ({ path: "/v1/state" }), expect: { admin: "ok" }, others: 403 },
  {
    route: "POST /v1/hosts/register",
    request: (f) => ({ path: "/v1/hosts/register", body: { hostId: f.hostA, name: "again", capabilities: ["shell"], slots: 1, version: "t" } }),
    expect: { admin: "ok", "host-own": "ok", "host-other": 403, join: 403 },
    others: 403,
  },
  { route: "POST /v1/hosts/:id/heartbeat", request: (f) => ({ path: `/v1/hosts/${f.hostA}/heartbeat`, body: { running: [] } }), expect: hostSelf, others: 403 },
  { route: "POST /v1/hosts/:id/claim", request: (f) => ({ path: `/v1/hosts/${f.hostA}/claim`, body: { slots: 1, waitMs: 0 } }), expect: hostSelf, others: 403 },
  {
    route: "POST /v1/hosts/:id/complete",
    request: (f) => ({
      path: `/v1/hosts/${f.hostA}/complete`,
      body: { completions: [{ jobId: f.job.id, attempt: f.job.attempt, status: "succeeded", result: { exitCode: 0, signal: null, durationMs: 1 } }] },
    }),
    expect: hostSelf,
    others: 403,
  },
  { route: "POST /v1/hosts/:id/drain", request: (f) => ({ path: `/v1/hosts/${f.hostA}/drain` }), expect: hostSelf, others: 403 },
  { route: "POST /v1/hosts/:id/revoke", request: (f) => ({ path: `/v1/hosts/${f.hostA}/revoke` }), expect: { admin: "ok" }, others: 403 },
  { route: "GET /v1/hosts", request: () => ({ path: "/v1/hosts" }), expect: { admin: "ok" }, others: 403 },
  { route: "GET /v1/hosts/:id", request: (f) => ({ path: `/v1/hosts/${f.hostA}` }), expect: hostSelf, others: 403 },
  {
    route: "POST /v1/jobs",
    request: () => ({ path: "/v1/jobs", body: { kind: "shell", command: "echo" } }),
    expect: { admin: 201, "submit-own": 201, "submit-other": 201 },
    others: 403,
  },
  { route: "GET /v1/jobs", request: () => ({ path: "/v1/jobs" }), expect: { admin: "ok", "submit-own": "ok", "submit-other": "ok" }, others: 403 },
  { route: "GET /v1/jobs/:id", request: (f) => ({ path: `/v1/jobs/${f.job.id}` }), expect: jobReader, others: 403 },
  { route: "GET /v1/jobs/:id/output", request: (f) => ({ path: `/v1/jobs/${f.job.id}/output` }), expect: jobReader, others: 403 },
  {
    route: "POST /v1/jobs/:id/cancel",
    request: (f) => ({ path: `/v1/jobs/${f.job.id}/cancel`, body: {} }),
    expect: { admin: "ok", "submit-own": "ok", "submit-other": 404 },
    others: 403,
  },
  { route: "POST /v1/jobs/:id/renew", request: (f) => ({ path: `/v1/jobs/${f.job.id}/renew`, body: lease(f) }), expect: leaseWriter, others: 403 },
  {
    route: "POST /v1/jobs/:id/output",
    request: (f) => ({ path: `/v1/jobs/${f.job.id}/output`, body: { ...lease(f), chunks: [{ stream: "stdout", data: "x\n" }] } }),
    expect: leaseWriter,
    others: 403,
  },
  {
    route: "POST /v1/jobs/:id/complete",
    request: (f) => ({
      path: `/v1/jobs/${f.job.id}/complete`,
      body: { ...lease(f), status: "succeeded", result: { exitCode: 0, signal: null, durationMs: 1 } },
    }),
    expect: leaseWriter,
    others: 403,
  },
  { route: "GET /v1/cluster", request: () => ({ path: "/v1/cluster" }), expect: clusterAdmins, others: 403 },
  { route: "POST /v1/cluster/join", request: () => ({ path: "/v1/cluster/join", body: member }), expect: clusterAdmins, others: 403 },
  { route: "POST /v1/cluster/leave", request: () => ({ path: "/v1/cluster/leave", body: member }), expect: clusterAdmins, others: 403 },
  { route: "POST /v1/cluster/transfer", request: () => ({ path: "/v1/cluster/transfer", body: member }), expect: clusterAdmins, others: 403 },
];

function expected(c: Case, role: Role): Expect {
  const listed = c.expect[role];
  if (listed !== undefined) return listed;
  return role === "none" ? 401 : c.others;
}

const matches = (status: number, want: Expect) => (want === "ok" ? status >= 200 && status < 300 : status === want);
const isRefusal = (want: Expect) => want === 401 || want === 403 || want === 404;

test("every route of the app has an access rule, and this table covers every rule", async () => {
  const f = await startFixture();
  const routes = createApp(f.coordinator.node)
    .routes.filter((route) => route.method !== "HEAD")
    .map((route) => `${route.method} ${route.path}`);
  expect(routes.filter((route) => ROUTE_ACCESS[route] === undefined)).toEqual([]);
  expect(Object.keys(ROUTE_ACCESS).sort()).toEqual(CASES.map((c) => c.route).sort());
});

describe.each(CASES)("$route", (c) => {
  const method = c.route.split(" ")[0]!;

  test("refused roles get 401/403/404 in the error shape and change nothing", async () => {
    const f = await startFixture();
    const before = f.coordinator.rows("SELECT id, state, attempt, host_id, cancel_requested_at FROM jobs ORDER BY seq");
    const hostsBefore = f.coordinator.rows("SELECT id, state, credential_hash, drain_requested_at FROM hosts ORDER BY id");
    for (const role of ROLES) {
      const want = expected(c, role);
      if (!isRefusal(want)) continue;
      const { path, body } = c.request(f);
      const reply = await send(f.coordinator.url, method, path, f.tokens[role], body);
      expect({ role, status: reply.status }).toEqual({ role, status: want as number });
      expect(typeof reply.body?.error).toBe("string");
      expect(typeof reply.body?.message).toBe("string");
    }
    expect(f.coordinator.rows("SELECT id, state, attempt, host_id, cancel_requested_at FROM jobs ORDER BY seq")).toEqual(before);
    expect(f.coordinator.rows("SELECT id, state, credential_hash, drain_requested_at FROM hosts ORDER BY id")).toEqual(hostsBefore);
  });

  test("allowed roles get through", async () => {
    for (const role of ROLES) {
      const want = expected(c, role);
      if (isRefusal(want)) continue;
      const f = await startFixture();
      const { path, body } = c.request(f);
      const reply = await send(f.coordinator.url, method, path, f.tokens[role], body);
      if (!matches(reply.status, want)) throw new Error(`${role}: expected ${want}, got ${reply.status} ${reply.text.slice(0, 300)}`);
      await stopTestCoordinators();
    }
  });
});

afterAll(stopTestCoordinators);
