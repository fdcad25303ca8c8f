/**
 * A small HTTP proxy in front of a coordinator that a test can make misbehave: fail the host's
 * heartbeats (so its leases cannot be renewed) or answer them as the coordinator does for
 * leases the host no longer holds (every reported lease in `lost`), or hold its completion
 * requests until the test lets them through. It counts completions.
 */
export interface FlakyProxy {
  url: string;
  failHeartbeats: boolean;
  reportLost: boolean;
  completions: number;
  /** The job ids each completion request carried, in the order the requests arrived. */
  completionBatches: string[][];
  /** While set, completion requests wait (unforwarded) until `releaseCompletions()`. */
  holdCompletions: boolean;
  releaseCompletions(): void;
  stop(): void;
}

export function startFlakyProxy(target: string): FlakyProxy {
  let release = Promise.withResolvers<void>();
  const state: FlakyProxy = {
    url: "",
    failHeartbeats: false,
    reportLost: false,
    completions: 0,
    completionBatches: [],
    holdCompletions: false,
    releaseCompletions: () => {
      state.holdCompletions = false;
      release.resolve();
      release = Promise.withResolvers<void>();
    },
    stop: () => server.stop(true),
  };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 60,
    async fetch(request) {
      const url = new URL(request.url);
      const isHeartbeat = url.pathname.endsWith("/heartbeat");
      if (isHeartbeat && state.failHeartbeats) return new Response("proxy: heartbeats are failing", { status: 503 });
      const body = request.method === "POST" ? await request.text() : undefined;
      if (url.pathname.endsWith("/complete")) {
        state.completions++;
        state.completionBatches.push(jobIdsOf(url.pathname, body));
        if (state.holdCompletions) await release.promise;
      }
      const headers = new Headers(request.headers);
      headers.delete("content-length");
      headers.delete("host");
      const response = await fetch(target + url.pathname + url.search, { method: request.method, headers, body, signal: request.signal });
      if (!isHeartbeat || !state.reportLost || !response.ok) return response;
      const running = (JSON.parse(body ?? "{}") as { running?: unknown[] }).running ?? [];
      const answer = (await response.json()) as Record<string, unknown>;
      return Response.json({ ...answer, renewed: [], lost: running });
    },
  });
  state.url = `http://127.0.0.1:${server.port}`;
  return state;
}

/** `/v1/hosts/:id/complete` carries many jobs in its body; `/v1/jobs/:id/complete` one, in its path. */
function jobIdsOf(pathname: string, body: string | undefined): string[] {
  if (pathname.startsWith("/v1/jobs/")) return [pathname.split("/")[3]!];
  const { completions } = JSON.parse(body ?? "{}") as { completions?: { jobId: string }[] };
  return (completions ?? []).map((completion) => completion.jobId);
}
