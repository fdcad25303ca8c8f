/**
 * No input produces a 500: a table of malformed requests per route, each answered with a 4xx
 * in the error shape, and none of them changes a row.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { leasedJob, startTestCoordinator, stopTestCoordinators, type TestCoordinator } from "./harness";

interface Case {
  method: string;
  path: string;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
}

let coordinator: TestCoordinator;
let hostId = "";
let jobId = "";

beforeAll(async () => {
  coordinator = startTestCoordinator();
  const leased = await leasedJob(coordinator);
  hostId = leased.host.id;
  jobId = leased.job.id;
});
afterAll(stopTestCoordinators);

function everything() {
  return {
    jobs: coordinator.rows("SELECT * FROM jobs ORDER BY seq"),
    hosts: coordinator.rows("SELECT * FROM hosts ORDER BY id"),
    output: coordinator.rows("SELECT * FROM job_output"),
  };
}

const text = (rawBody: string): Partial<Case> => ({ rawBody, headers: { "content-type": "text/plain" } });
const lease = () => ({ hostId, attempt: 1 });

const routes: Record<string, () => Case[]> = {
  "POST /v1/hosts/register": () => [
    { method: "POST", path: "/v1/hosts/register" },
    { method: "POST", path: "/v1/hosts/register", rawBody: "{" },
    { method: "POST", path: "/v1/hosts/register", body: [] },
    { method: "POST", path: "/v1/hosts/register", body: "host" },
    { method: "POST", path: "/v1/hosts/register", body: { name: "x", capabilities: [1], slots: 1, version: "1" } },
    { method: "POST", path: "/v1/hosts/register", body: { name: "x", capabilities: [], slots: 1e400, version: "1" } },
    { method: "POST", path: "/v1/hosts/register", body: { name: "x".repeat(201), capabilities: [], slots: 1, version: "1" } },
    { method: "POST", path: "/v1/hosts/register", rawBody: '{"name":"x","capabilities":[],"slots":1,"version":"1","constructor":{}}' },
    { method: "POST", path: "/v1/hosts/register", ...text("name=x") },
  ],
  "POST /v1/hosts/:id/heartbeat": () => [
    { method: "POST", path: `/v1/hosts/${hostId}/heartbeat`, rawBody: "null" },
    { method: "POST", path: `/v1/hosts/${hostId}/heartbeat`, body: { running: "all" } },
    { method: "POST", path: `/v1/hosts/${hostId}/heartbeat`, body: { running: [{ jobId }] } },
    { method: "POST", path: `/v1/hosts/${hostId}/heartbeat`, body: { running: [{ jobId: "../x", attempt: 1 }] } },
    { method: "POST", path: `/v1/hosts/${hostId}/heartbeat`, body: { running: Array.from({ length: 1025 }, () => ({ jobId, attempt: 1 })) } },
    { method: "POST", path: "/v1/hosts/%E0%A4%A/heartbeat", body: {} },
    { method: "POST", path: "/v1/hosts/unknown/heartbeat", body: {} },
  ],
  "POST /v1/hosts/:id/claim": () => [
    { method: "POST", path: `/v1/hosts/${hostId}/claim`, body: {} },
    { method: "POST", path: `/v1/hosts/${hostId}/claim`, body: { slots: 0 } },
    { method: "POST", path: `/v1/hosts/${hostId}/claim`, body: { slots: -1 } },
    { method: "POST", path: `/v1/hosts/${hostId}/claim`, body: { slots: 1, waitMs: -5 } },
    { method: "POST", path: `/v1/hosts/${hostId}/claim`, body: { slots: 1, waitMs: "soon" } },
    { method: "POST", path: `/v1/hosts/${hostId}/claim`, body: { slots: 1, extra: true } },
    { method: "POST", path: `/v1/hosts/${hostId}/claim`, rawBody: "null" },
    { method: "POST", path: "/v1/hosts/unknown/claim", body: { slots: 1, waitMs: 0 } },
    { method: "POST", path: `/v1/hosts/${"h".repeat(65)}/claim`, body: { slots: 1 } },
  ],
  "POST /v1/hosts/:id/drain": () => [
    { method: "POST", path: "/v1/hosts/unknown/drain" },
    { method: "POST", path: "/v1/hosts/bad.id/drain" },
  ],
  "GET /v1/hosts/:id": () => [
    { method: "GET", path: "/v1/hosts/unknown" },
    { method: "GET", path: "/v1/hosts/%00" },
    { method: "GET", path: "/v1/hosts/a%2Fb" },
  ],
  "POST /v1/jobs": () => [
    { method: "POST", path: "/v1/jobs" },
    { method: "POST", path: "/v1/jobs", rawBody: "" },
    { method: "POST", path: "/v1/jobs", rawBody: "[1,2" },
    { method: "POST", path: "/v1/jobs", body: null },
    { method: "POST", path: "/v1/jobs", body: 42 },
    { method: "POST", path: "/v1/jobs", body: { kind: "shell", command: "" } },
    { method: "POST", path: "/v1/jobs", body: { kind: "shell", command: "x", args: "a b" } },
    { method: "POST", path: "/v1/jobs", body: { kind: "shell", command: "x", args: [null] } },
    { method: "POST", path: "/v1/jobs", body: { kind: "shell", command: "x", env: [] } },
    { method: "POST", path: "/v1/jobs", body: { kind: "shell", command: "x", env: { PATH: null } } },
    { method: "POST", path: "/v1/jobs", body: { kind: "shell", command: "x", timeoutMs: 1 } },
    { method: "POST", path: "/v1/jobs", body: { kind: "shell", command: "x", backoffMs: -1 } },
    { method: "POST", path: "/v1/jobs", body: { kind: "shell", command: "x", requires: Array.from({ length: 33 }, (_, i) => `c${i}`) } },
    { method: "POST", path: "/v1/jobs", body: { kind: "shell", command: "x", id: jobId } },
    { method: "POST", path: "/v1/jobs", rawBody: '{"kind":"shell","command":"x","priority":1e999}' },
    { method: "POST", path: "/v1/jobs", ...text("kind=shell&command=x") },
  ],
  "GET /v1/jobs": () => [
    { method: "GET", path: "/v1/jobs?limit=1.5" },
    { method: "GET", path: "/v1/jobs?limit=-1" },
    { method: "GET", path: "/v1/jobs?limit=99999999999999999999999" },
    { method: "GET", path: "/v1/jobs?cursor=1e5" },
    { method: "GET", path: "/v1/jobs?cursor=9999999999999999999" },
    { method: "GET", path: "/v1/jobs?state=" },
    { method: "GET", path: "/v1/jobs?state[]=queued" },
  ],
  "GET /v1/jobs/:id": () => [
    { method: "GET", path: "/v1/jobs/unknown" },
    { method: "GET", path: `/v1/jobs/${"j".repeat(65)}` },
    { method: "GET", path: "/v1/jobs/%F0%9F%98%80" },
  ],
  "GET /v1/jobs/:id/output": () => [
    { method: "GET", path: `/v1/jobs/${jobId}/output?after=-1` },
    { method: "GET", path: `/v1/jobs/${jobId}/output?after=abc` },
    { method: "GET", path: `/v1/jobs/${jobId}/output?limit=0.5` },
    { method: "GET", path: `/v1/jobs/${jobId}/output?limit=1e9` },
    { method: "GET", path: `/v1/jobs/${jobId}/output?waitMs=60001` },
    { method: "GET", path: `/v1/jobs/${jobId}/output?waitMs=Infinity` },
    { method: "GET", path: `/v1/jobs/${jobId}/output?follow=1` },
    { method: "GET", path: "/v1/jobs/unknown/output" },
  ],
  "POST /v1/jobs/:id/cancel": () => [
    { method: "POST", path: `/v1/jobs/${jobId}/cancel`, body: { reason: 5 } },
    { method: "POST", path: `/v1/jobs/${jobId}/cancel`, body: { reason: "x".repeat(501) } },
    { method: "POST", path: `/v1/jobs/${jobId}/cancel`, body: { why: "x" } },
    { method: "POST", path: `/v1/jobs/${jobId}/cancel`, body: [] },
    { method: "POST", path: "/v1/jobs/unknown/cancel", body: {} },
  ],
  "POST /v1/jobs/:id/renew": () => [
    { method: "POST", path: `/v1/jobs/${jobId}/renew`, body: {} },
    { method: "POST", path: `/v1/jobs/${jobId}/renew`, body: { hostId, attempt: 0 } },
    { method: "POST", path: `/v1/jobs/${jobId}/renew`, body: { hostId, attempt: 1.5 } },
    { method: "POST", path: `/v1/jobs/${jobId}/renew`, body: { hostId, attempt: "one" } },
    { method: "POST", path: `/v1/jobs/${jobId}/renew`, body: { hostId: "", attempt: 1 } },
    { method: "POST", path: `/v1/jobs/${jobId}/renew`, body: { ...lease(), leaseMs: 999999 } },
  ],
  "POST /v1/jobs/:id/output": () => [
    { method: "POST", path: `/v1/jobs/${jobId}/output`, body: { ...lease(), chunks: [] } },
    { method: "POST", path: `/v1/jobs/${jobId}/output`, body: { ...lease(), chunks: [{ stream: "stdin", data: "x" }] } },
    { method: "POST", path: `/v1/jobs/${jobId}/output`, body: { ...lease(), chunks: [{ stream: "stdout", data: 7 }] } },
    { method: "POST", path: `/v1/jobs/${jobId}/output`, body: { ...lease(), chunks: [{ stream: "stdout" }] } },
    { method: "POST", path: `/v1/jobs/${jobId}/output`, body: { ...lease(), chunks: Array.from({ length: 65 }, () => ({ stream: "stdout", data: "x" })) } },
    { method: "POST", path: `/v1/jobs/${jobId}/output`, body: { ...lease(), chunks: "hello" } },
  ],
  "POST /v1/jobs/:id/complete": () => [
    { method: "POST", path: `/v1/jobs/${jobId}/complete`, body: { ...lease(), status: "succeeded" } },
    { method: "POST", path: `/v1/jobs/${jobId}/complete`, body: { ...lease(), status: "dead", result: { exitCode: 0, signal: null, durationMs: 1 } } },
    { method: "POST", path: `/v1/jobs/${jobId}/complete`, body: { ...lease(), status: "succeeded", result: {} } },
    { method: "POST", path: `/v1/jobs/${jobId}/complete`, body: { ...lease(), status: "succeeded", result: { exitCode: 0.5, signal: null, durationMs: 1 } } },
    { method: "POST", path: `/v1/jobs/${jobId}/complete`, body: { ...lease(), status: "succeeded", result: { exitCode: 0, signal: null, durationMs: -1 } } },
    { method: "POST", path: `/v1/jobs/${jobId}/complete`, body: { ...lease(), status: "succeeded", result: { exitCode: 0, signal: null, durationMs: 1, bonus: 1 } } },
    { method: "POST", path: `/v1/jobs/${jobId}/complete`, body: { ...lease(), status: "succeeded", result: { exitCode: 0, signal: null, durationMs: 1, openclaw: "ok" } } },
    { method: "POST", path: "/v1/jobs/unknown/complete", body: { ...lease(), status: "succeeded", result: { exitCode: 0, signal: null, durationMs: 1 } } },
  ],
};

describe.each(Object.keys(routes))("%s", (route) => {
  test("every malformed request gets a 4xx error body and changes nothing", async () => {
    const before = everything();
    for (const request of routes[route]!()) {
      const reply = await coordinator.call(request.method, request.path, request);
      const where = `${request.method} ${request.path} ${request.rawBody ?? JSON.stringify(request.body)?.slice(0, 80)}`;
      expect({ where, status: reply.status >= 400 && reply.status < 500 }).toEqual({ where, status: true });
      expect(typeof reply.body.error).toBe("string");
      expect(typeof reply.body.message).toBe("string");
      expect(Object.keys(reply.body).every((key) => ["error", "field", "message"].includes(key))).toBe(true);
    }
    expect(everything()).toEqual(before);
  });
});
