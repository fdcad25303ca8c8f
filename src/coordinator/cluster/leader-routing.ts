/**
 * Any coordinator accepts any request. A follower forwards it to the leader as a transparent
 * HTTP proxy (method, path, query, body, token and idempotency key preserved), marked with
 * `x-skyclaw-forwarded-by` so it is never forwarded twice, over keep-alive connections of the
 * lean client (raw-http.ts: fetch cost a follower about as much CPU as the leader's answer).
 * The leader serves reads only after a read-index round (linearizable) unless the caller asked
 * for `?local=true`. While there is no leader, a request waits up to LEADER_WAIT_MS for one,
 * then gets a 503 with `retry-after`.
 *
 * Served by every node itself: anything outside /v1/, /v1/state (this node's summary and role),
 * GET /v1/cluster.
 */
import type { RawResponse } from "../../client/raw-http";
import { RaftRefusal } from "../../raft/driver/raft-proposer";
import { IDEMPOTENCY_HEADER } from "../idempotency";
import { TOKEN_HEADER } from "../auth";
import type { ClusterRuntime } from "./cluster-runtime";
import { json } from "./replication-gate";
import { RETRY_AFTER_SECONDS } from "./refusals";

export const FORWARDED_BY_HEADER = "x-skyclaw-forwarded-by";
export const LEADER_WAIT_MS = 2_000;
const LOCAL_PATHS = new Set(["/health", "/v1/state"]);
const FORWARDED_HEADERS = ["accept", "content-type", TOKEN_HEADER, "authorization", IDEMPOTENCY_HEADER];
/** Longest a proxied request may take: the longest long poll (claims, output) plus slack. */
const PROXY_SLACK_MS = 70_000;

/** A response to send instead of serving the request here, or null to serve it here. */
export async function routeToLeader(request: Request, path: string, runtime: ClusterRuntime): Promise<Response | null> {
  // Only the API is the leader's business: pages and documents are the same on every node.
  if (!path.startsWith("/v1/") || LOCAL_PATHS.has(path) || (request.method === "GET" && path === "/v1/cluster")) return null;
  const url = new URL(request.url);
  const isRead = request.method === "GET";
  if (isRead && url.searchParams.get("local") === "true") return null;
  const forwarded = request.headers.has(FORWARDED_BY_HEADER);
  const deadline = performance.now() + LEADER_WAIT_MS;
  // Read only when forwarding: a request served here must reach the route with its body unread.
  let body: Promise<Uint8Array | undefined> | undefined;
  let unreachable: string | null = null;
  for (;;) {
    // A forwarded request is served here or refused: a second hop could loop during an election.
    const leader: string | null = forwarded ? runtime.self : await runtime.leaderWatch.leader(deadline - performance.now(), request.signal, unreachable);
    if (leader === null) {
      return noLeaderResponse(null, "no coordinator was elected leader within 2 s (too few coordinators up, or an election under way); retry shortly");
    }
    if (leader === runtime.self) break;
    body ??= isRead || request.method === "HEAD" ? Promise.resolve(undefined) : request.arrayBuffer().then((bytes) => new Uint8Array(bytes));
    const answer = await proxy(request, url, await body, leader, runtime);
    // Refused connection: the request never reached the old leader, so waiting for the next one is safe.
    if (answer !== "unreachable") return answer;
    if (performance.now() >= deadline) return noLeaderResponse(leader, `could not reach the leader ${leader}; retry shortly`);
    unreachable = leader;
  }
  if (!isRead) return null;
  try {
    await runtime.proposer.readBarrier();
    return null;
  } catch (error) {
    if (error instanceof RaftRefusal) return noLeaderResponse(error.leader, error.message);
    throw error;
  }
}

export function noLeaderResponse(leader: string | null, message: string, error = "no_leader"): Response {
  return json(503, { error, message, leader }, { "retry-after": String(RETRY_AFTER_SECONDS) });
}

async function proxy(request: Request, url: URL, body: Uint8Array | undefined, leader: string, runtime: ClusterRuntime): Promise<Response | "unreachable"> {
  const headers: Record<string, string> = { [FORWARDED_BY_HEADER]: runtime.self };
  for (const name of FORWARDED_HEADERS) {
    const value = request.headers.get(name);
    if (value !== null) headers[name] = value;
  }
  const timeout = AbortSignal.timeout(runtime.config.timings.claimWaitMs + PROXY_SLACK_MS);
  let upstream: RawResponse;
  try {
    upstream = await runtime.connectionsTo(leader).request(request.method, `${url.pathname}${url.search}`, headers, body, AbortSignal.any([timeout, request.signal]));
  } catch (error) {
    if (isConnectionRefused(error)) return "unreachable";
    const why = error instanceof Error ? (error.name === "TimeoutError" ? "timed out" : error.message) : String(error);
    return noLeaderResponse(leader, `could not reach the leader ${leader} (${why}); retry (with the same idempotency key, a write is applied at most once)`);
  }
  const answer: Record<string, string> = {};
  for (const name of ["content-type", "retry-after"]) {
    const value = upstream.headers[name];
    if (value !== undefined) answer[name] = value;
  }
  return new Response(upstream.body, { status: upstream.status, headers: answer });
}

function isConnectionRefused(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "ConnectionRefused" || code === "ECONNREFUSED";
}
