/**
 * Hostile input against a real coordinator process: seeded malformed requests to every route.
 * Each answer is below 500; each refusal is a 4xx JSON `{error, message, field?}` and leaves
 * the state tables as they were (an accepted request moves the baseline); the process is
 * still up at the end and logged no internal error.
 *
 * SKYCLAW_FUZZ_SEED and SKYCLAW_FUZZ_REQUESTS run other or longer sequences; a failure prints
 * the seed, the request's number and the request.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { killAll, startCoordinatorProcess, type CoordinatorProcess } from "../helpers/processes";
import { Prng } from "../sim/prng";
import { describeRequest, generateRequest, type FuzzRequest } from "./request-generator";
import { coordinatorRoutes } from "./routes";
import { StateDump } from "./state-dump";

const SEED = Number(process.env.SKYCLAW_FUZZ_SEED ?? 20_240_905);
const REQUESTS = Number(process.env.SKYCLAW_FUZZ_REQUESTS ?? 3_000);
const TOKEN = "fuzz-token-0123456789";
const MAX_BODY_BYTES = 65_536;
const HOST_ID = "fuzz-host-1";
const JOB_IDS = ["fuzz-job-leased", "fuzz-job-queued", "fuzz-job-done"];
const ERROR_KEYS = new Set(["error", "field", "message"]);

let coordinator: CoordinatorProcess;

beforeAll(async () => {
  coordinator = await startCoordinatorProcess({
    env: {
      SKYCLAW_TOKEN: TOKEN,
      SKYCLAW_MAX_BODY_BYTES: String(MAX_BODY_BYTES),
      // Nothing changes by itself during the run: no lease or host expires, no claim waits.
      SKYCLAW_LEASE_MS: "86400000",
      SKYCLAW_HEARTBEAT_MS: "3600000",
      SKYCLAW_CLAIM_WAIT_MS: "0",
    },
  });
  await api("POST", "/v1/hosts/register", { hostId: HOST_ID, name: "fuzz", capabilities: ["shell"], slots: 1, version: "fuzz" });
  await api("POST", "/v1/jobs", { id: JOB_IDS[0], kind: "shell", command: "echo", args: ["a"] });
  await api("POST", `/v1/hosts/${HOST_ID}/claim`, { slots: 1, waitMs: 0 });
  await api("POST", `/v1/jobs/${JOB_IDS[0]}/output`, { hostId: HOST_ID, attempt: 1, chunks: [{ stream: "stdout", data: "hello\n" }] });
  await api("POST", "/v1/jobs", { id: JOB_IDS[1], kind: "shell", command: "echo", requires: ["gpu"] });
  await api("POST", "/v1/jobs", { id: JOB_IDS[2], kind: "shell", command: "echo" });
  await api("POST", `/v1/jobs/${JOB_IDS[2]}/cancel`, {});
});
afterAll(killAll);

async function api(method: string, path: string, body: unknown): Promise<void> {
  const response = await fetch(coordinator.url + path, {
    method,
    headers: { "x-skyclaw-token": TOKEN, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`setup ${method} ${path}: ${response.status} ${await response.text()}`);
}

async function send(request: FuzzRequest): Promise<{ status: number; contentType: string; text: string }> {
  const headers = new Headers();
  for (const [name, value] of request.headers) headers.append(name, value);
  let body: ReadableStream<Uint8Array> | Uint8Array | undefined;
  if (request.body === "chunked") {
    body = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"kind":'));
        controller.enqueue(new TextEncoder().encode('"shell","command":"echo"}'));
        controller.close();
      },
    });
  } else {
    body = request.body;
  }
  const response = await fetch(coordinator.url + request.path, { method: request.method, headers, body, redirect: "manual" });
  return { status: response.status, contentType: response.headers.get("content-type") ?? "", text: await response.text() };
}

/** Why an answer breaks the rules, or null when it keeps them. */
function violation(reply: { status: number; contentType: string; text: string }, stateChanged: boolean): string | null {
  if (reply.status >= 500) return `answered ${reply.status}`;
  if (reply.status < 400) return stateChanged && reply.status >= 300 ? `answered ${reply.status} and changed the state` : null;
  if (stateChanged) return `refused with ${reply.status} but changed the state`;
  if (!reply.contentType.includes("application/json")) return `refused with ${reply.status} as ${reply.contentType || "no content-type"}, not JSON`;
  let body: unknown;
  try {
    body = JSON.parse(reply.text);
  } catch {
    return `refused with ${reply.status} and a body that is not JSON`;
  }
  const error = body as Record<string, unknown>;
  if (typeof error?.error !== "string" || typeof error.message !== "string" || error.message === "") return "refusal body lacks error or message";
  if (!Object.keys(error).every((key) => ERROR_KEYS.has(key))) return `refusal body has keys other than error, field, message`;
  if (error.field !== undefined && typeof error.field !== "string") return "refusal field is not a string";
  return null;
}

test(`${REQUESTS} generated hostile requests (seed ${SEED}): no 5xx, no crash, clear refusals, state unchanged by refusals`, async () => {
  const routes = coordinatorRoutes();
  expect(routes.length).toBeGreaterThan(20);
  const prng = new Prng(SEED);
  const options = { token: TOKEN, knownIds: [HOST_ID, ...JOB_IDS], maxBodyBytes: MAX_BODY_BYTES };
  const dump = new StateDump(coordinator.dbPath);
  const statuses = new Map<number, number>();
  const routesHit = new Set<string>();
  try {
    let before = dump.take();
    for (let index = 0; index < REQUESTS; index++) {
      const request = generateRequest(routes, prng, options);
      let reply: Awaited<ReturnType<typeof send>>;
      try {
        reply = await send(request);
      } catch (error) {
        throw new Error(`fuzz seed ${SEED}, request #${index}: no answer (${error instanceof Error ? error.message : String(error)})\n${describeRequest(request)}\nstderr:\n${coordinator.stderr().slice(-2_000)}`);
      }
      const after = dump.take();
      const problem = violation(reply, after !== before);
      if (problem !== null) {
        throw new Error(
          `fuzz seed ${SEED}, request #${index}: ${problem}\n${describeRequest(request)}\n  answer: ${reply.text.slice(0, 500)}\n` +
            `replay: SKYCLAW_FUZZ_SEED=${SEED} SKYCLAW_FUZZ_REQUESTS=${index + 1} bun test test/fuzz`,
        );
      }
      statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
      routesHit.add(request.path.split("?")[0]!.split("/").slice(0, 3).join("/"));
      before = after;
    }
  } finally {
    dump.close();
  }
  // The run reached past auth and parsing into the routes, and some requests were accepted.
  expect([...statuses.keys()].some((status) => status >= 200 && status < 300)).toBe(true);
  expect(statuses.get(400) ?? 0).toBeGreaterThan(REQUESTS / 10);
  expect(coordinator.process.exitCode).toBeNull();
  const health = await fetch(`${coordinator.url}/health`);
  expect(health.status).toBe(200);
  expect(coordinator.stderr()).not.toContain("internal error");
}, 600_000);
