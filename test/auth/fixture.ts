/**
 * A coordinator with every role's secret set, two hosts registered with the join token (A holds
 * a lease on alice's job), and one credential per role, for the role-boundary tests.
 */
import type { Job, RegisterHostResponse } from "../../src/api";
import { startTestCoordinator, type TestCoordinator } from "../coordinator/harness";

export const ADMIN = "admin-secret-token";
export const PEER = "peer-secret-token";
export const JOIN = "join-secret-token";
export const ALICE = "alice-key-0001";
export const BOB = "bob-key-00002";
export const CAROL = "carol-key-0003";

export const ROLE_ENV = {
  SKYCLAW_ADMIN_TOKEN: ADMIN,
  SKYCLAW_PEER_TOKEN: PEER,
  SKYCLAW_HOST_JOIN_TOKEN: JOIN,
  // alice: shell and gpu; bob: shell only; carol: gpu and openclaw, no shell.
  SKYCLAW_PUBLIC_API_KEYS: `${ALICE}:alice:gpu:shell,${BOB}:bob::shell,${CAROL}:carol:gpu|openclaw`,
};

export const ROLES = ["admin", "peer", "join", "submit-own", "submit-other", "host-own", "host-other", "none"] as const;
export type Role = (typeof ROLES)[number];

export interface Fixture {
  coordinator: TestCoordinator;
  hostA: string;
  hostB: string;
  /** alice's job, leased to host A (attempt 1). */
  job: Job;
  tokens: Record<Role, string | undefined>;
}

export interface Reply {
  status: number;
  text: string;
  body: any;
}

/** One request with a token (or none), any answer type. */
export async function send(baseUrl: string, method: string, path: string, token: string | undefined, body?: unknown): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers["x-skyclaw-token"] = token;
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(baseUrl + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), redirect: "manual" });
  const text = await response.text();
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: response.status, text, body: parsed };
}

export async function registerWith(coordinator: TestCoordinator, token: string, name: string): Promise<RegisterHostResponse> {
  const reply = await send(coordinator.url, "POST", "/v1/hosts/register", token, { name, capabilities: ["shell", "gpu"], slots: 2, version: "test" });
  if (reply.status !== 200) throw new Error(`register failed: ${reply.status} ${reply.text}`);
  return reply.body;
}

export async function startFixture(env: Record<string, string> = {}): Promise<Fixture> {
  const coordinator = startTestCoordinator({ ...ROLE_ENV, ...env });
  const a = await registerWith(coordinator, JOIN, "host-a");
  const b = await registerWith(coordinator, JOIN, "host-b");
  const enqueued = await send(coordinator.url, "POST", "/v1/jobs", ALICE, { kind: "shell", command: "echo", args: ["hi"] });
  if (enqueued.status !== 201) throw new Error(`enqueue failed: ${enqueued.status} ${enqueued.text}`);
  const claimed = await send(coordinator.url, "POST", `/v1/hosts/${a.host.id}/claim`, a.credential, { slots: 1, waitMs: 0 });
  const job = claimed.body?.jobs?.[0];
  if (job?.id !== enqueued.body.id) throw new Error(`host A did not get the job: ${claimed.status} ${claimed.text}`);
  return {
    coordinator,
    hostA: a.host.id,
    hostB: b.host.id,
    job,
    tokens: {
      admin: ADMIN,
      peer: PEER,
      join: JOIN,
      "submit-own": ALICE,
      "submit-other": BOB,
      "host-own": a.credential,
      "host-other": b.credential,
      none: undefined,
    },
  };
}
