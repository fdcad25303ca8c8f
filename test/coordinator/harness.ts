/**
 * An in-process coordinator on an ephemeral port with a temp database and short timings, plus
 * the small amount of HTTP plumbing the route tests share (JSON calls, a host, a job).
 */
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Host, Job, RegisterHostResponse } from "../../src/api";
import { loadCoordinatorConfig } from "../../src/config";
import { startCoordinator, type RunningCoordinator } from "../../src/coordinator/server";

export interface TestCoordinator extends RunningCoordinator {
  dbPath: string;
  /** Sends a request and parses the JSON answer (every answer of the API is JSON). */
  call<T = any>(method: string, path: string, options?: CallOptions): Promise<Reply<T>>;
  /** Reads rows straight from the SQLite file, as an operator would. */
  rows<T = any>(sql: string, ...params: (string | number)[]): T[];
}

export interface CallOptions {
  body?: unknown;
  /** Sent as-is instead of JSON-encoding `body`. */
  rawBody?: string;
  headers?: Record<string, string>;
  idempotencyKey?: string;
}

export interface Reply<T> {
  status: number;
  body: T;
  headers: Headers;
}

const started: { coordinator: RunningCoordinator; dir: string }[] = [];

export function coordinatorEnv(dir: string, env: Record<string, string> = {}): Record<string, string> {
  return {
    SKYCLAW_COORDINATOR_PORT: "0",
    SKYCLAW_DB_PATH: join(dir, "coordinator.db"),
    // Long enough that a route test never races its own lease; the expiry tests shorten it.
    SKYCLAW_LEASE_MS: "5000",
    SKYCLAW_HEARTBEAT_MS: "100",
    SKYCLAW_CLAIM_WAIT_MS: "10000",
    ...env,
  };
}

export function startTestCoordinator(env: Record<string, string> = {}): TestCoordinator {
  const dir = mkdtempSync(join(tmpdir(), "skyclaw-coord-test-"));
  const config = loadCoordinatorConfig(coordinatorEnv(dir, env));
  const coordinator = startCoordinator(config);
  started.push({ coordinator, dir });
  const token = env.SKYCLAW_TOKEN;
  return {
    ...coordinator,
    stop: coordinator.stop,
    dbPath: config.dbPath,
    call: (method, path, options = {}) =>
      call(coordinator.url, method, path, {
        ...options,
        headers: { ...(token === undefined ? {} : { "x-skyclaw-token": token }), ...options.headers },
      }),
    rows(sql, ...params) {
      const db = new Database(config.dbPath, { readonly: true });
      try {
        return db.query(sql).all(...params) as any[];
      } finally {
        db.close();
      }
    },
  };
}

/** Stops every coordinator started by startTestCoordinator and removes its files (afterEach). */
export async function stopTestCoordinators(): Promise<void> {
  const all = started.splice(0);
  for (const { coordinator, dir } of all) {
    await coordinator.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function call<T = any>(baseUrl: string, method: string, path: string, options: CallOptions = {}): Promise<Reply<T>> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | undefined = options.rawBody;
  if (body === undefined && options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined && headers["content-type"] === undefined) headers["content-type"] = "application/json";
  if (options.idempotencyKey !== undefined) headers["x-idempotency-key"] = options.idempotencyKey;
  const response = await fetch(baseUrl + path, { method, headers, body });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${method} ${path} answered ${response.status} with a body that is not JSON: ${JSON.stringify(text.slice(0, 200))}`);
  }
  return { status: response.status, body: parsed as T, headers: response.headers };
}

export const shellJob = (extra: Record<string, unknown> = {}) => ({ kind: "shell", command: "echo", args: ["hi"], ...extra });

export async function enqueue(coordinator: TestCoordinator, extra: Record<string, unknown> = {}): Promise<Job> {
  const reply = await coordinator.call<Job>("POST", "/v1/jobs", { body: shellJob(extra) });
  if (reply.status !== 201) throw new Error(`enqueue failed: ${reply.status} ${JSON.stringify(reply.body)}`);
  return reply.body;
}

export async function registerHost(
  coordinator: TestCoordinator,
  extra: { capabilities?: string[]; slots?: number; name?: string; hostId?: string } = {},
): Promise<Host> {
  const reply = await coordinator.call<RegisterHostResponse>("POST", "/v1/hosts/register", {
    body: { name: "test-host", capabilities: ["shell"], slots: 4, version: "test", ...extra },
  });
  if (reply.status !== 200) throw new Error(`register failed: ${reply.status} ${JSON.stringify(reply.body)}`);
  return reply.body.host;
}

/** Claims without waiting; returns the jobs the host got. */
export async function claimNow(coordinator: TestCoordinator, hostId: string, slots = 1): Promise<Job[]> {
  const reply = await coordinator.call<{ jobs: Job[] }>("POST", `/v1/hosts/${hostId}/claim`, { body: { slots, waitMs: 0 } });
  if (reply.status !== 200) throw new Error(`claim failed: ${reply.status} ${JSON.stringify(reply.body)}`);
  return reply.body.jobs;
}

/** A registered host holding a lease on one fresh job. */
export async function leasedJob(coordinator: TestCoordinator, extra: Record<string, unknown> = {}): Promise<{ host: Host; job: Job }> {
  const host = await registerHost(coordinator);
  const queued = await enqueue(coordinator, extra);
  const [job] = await claimNow(coordinator, host.id);
  if (job === undefined || job.id !== queued.id) throw new Error("claim did not return the job just enqueued");
  return { host, job };
}

export const okResult = { exitCode: 0, signal: null, durationMs: 5 };

/** Asserts the API's error shape and returns it for further checks. */
export function errorBody(reply: Reply<any>): { error: string; field?: string; message: string } {
  const body = reply.body;
  if (typeof body?.error !== "string" || typeof body?.message !== "string") {
    throw new Error(`expected an error body {error, message}, got ${JSON.stringify(body)}`);
  }
  return body;
}
