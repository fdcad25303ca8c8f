/**
 * The coordinator's HTTP app: auth first, then validated routes, and one error hook that turns
 * every failure into `{error, field?, message}`. No input produces a 5xx: a 500 means a bug.
 */
import { Elysia } from "elysia";
import { log } from "../log";
import { accessControl, resolveCallerHook } from "./auth/access-control";
import { revokeRoute } from "./auth/revoke-route";
import type { ClusterRuntime } from "./cluster/cluster-runtime";
import { clusterRoutes } from "./cluster/cluster-routes";
import { leaderHook, replicationHook } from "./cluster/gate";
import { NoLeaderError } from "./cluster/refusals";
import { apiDocs } from "./dashboard/api-docs";
import { dashboardRoutes } from "./dashboard/routes";
import { HttpError, validationErrorBody } from "./http-errors";
import { parseJsonBody } from "./json-body";
import { pathOf } from "./request-path";
import { metricsRoutes } from "./metrics/metrics-routes";
import type { CoordinatorNode } from "./node";
import { hostCompletionRoutes } from "./routes/host-completions";
import { hostRoutes } from "./routes/hosts";
import { jobRoutes } from "./routes/jobs";
import { systemRoutes } from "./routes/system";

export function createApp(node: CoordinatorNode, cluster?: ClusterRuntime) {
  const { maxBodyBytes } = node.config;
  // The cluster hooks are registered only for a cluster: Elysia awaits each of them on every
  // request, even when it has nothing to do.
  const app = new Elysia({ normalize: false });
  if (cluster !== undefined) app.onRequest(replicationHook(cluster));
  app
    // Refusals are thrown, not returned, so that the error hook renders them and the metrics count them.
    .onRequest(({ request }) => {
      // The size is judged from content-length before anything is read. A chunked body has none,
      // so it is refused rather than read without a bound (every client of ours sends a length).
      const contentLength = request.headers.get("content-length");
      if (contentLength === null && request.headers.get("transfer-encoding") !== null) {
        throw new HttpError(411, { error: "length_required", message: "send the request body with a content-length header, not chunked" });
      }
      if (Number(contentLength ?? 0) > maxBodyBytes) {
        throw new HttpError(413, { error: "body_too_large", message: `request body is over the ${maxBodyBytes}-byte limit (SKYCLAW_MAX_BODY_BYTES)` });
      }
    })
    .onRequest(resolveCallerHook(node, cluster !== undefined));
  if (cluster !== undefined) app.onRequest(leaderHook(cluster));
  else app.onRequest(durableReadHook(node));
  return app
    // Every body is JSON whatever its content-type says (`curl -d` claims a form), and no body
    // at all (`curl -X POST …/cancel`) is `{}`: the schema, not the framing, decides.
    .onParse(async ({ request }) => {
      return parseJsonBody(await request.text());
    })
    .onError(({ code, error, set, request }) => {
      if (error instanceof HttpError) {
        set.status = error.status;
        if (error instanceof NoLeaderError) set.headers["retry-after"] = String(error.retryAfterSeconds);
        return error.body;
      }
      switch (code) {
        case "VALIDATION":
          set.status = 400;
          return validationErrorBody(error.type === "property" ? queryFieldOf(request, error.value) : error.type, error.all);
        case "PARSE":
          set.status = 400;
          // Elysia wraps whatever the parse hook threw; a refusal of ours keeps its own message.
          if (error.cause instanceof HttpError) return error.cause.body;
          return { error: "invalid_json", message: "the request body is not valid JSON" };
        case "NOT_FOUND":
          set.status = 404;
          return { error: "not_found", message: `no route ${request.method} ${pathOf(request)}` };
        default: {
          const message = error instanceof Error ? error.message : String(error);
          if ("status" in Object(error) && typeof (error as { status: unknown }).status === "number") {
            const status = (error as { status: number }).status;
            if (status >= 400 && status < 500) {
              set.status = status;
              return { error: "invalid_request", message };
            }
          }
          log.error(`coordinator: ${request.method} ${pathOf(request)} failed`, { error, stack: error instanceof Error ? error.stack : undefined });
          set.status = 500;
          return { error: "internal", message: "internal error; the coordinator logged the details" };
        }
      }
    })
    .use(accessControl(node))
    .use(metricsRoutes(node, cluster))
    .use(systemRoutes(node))
    .use(hostRoutes(node))
    .use(hostCompletionRoutes(node))
    .use(revokeRoute(node))
    .use(jobRoutes(node))
    .use(clusterRoutes(cluster))
    .use(dashboardRoutes())
    .use(apiDocs());
}

/**
 * Alone, a coordinator applies a batch before its fsync completes (local-log.ts): an API read
 * waits for that fsync, so it never shows what a crash of the machine could take back. The
 * cluster's equivalent is the leader's read index (leader-routing.ts).
 */
function durableReadHook(node: CoordinatorNode) {
  // Elysia awaits a hook only if it looks async: `return x.then(…)` in its source is what it looks for.
  return ({ request }: { request: Request }): Promise<undefined> | undefined => {
    if (request.method !== "GET") return undefined;
    const pending = node.log.durable?.();
    if (pending === undefined || !pathOf(request).startsWith("/v1/")) return undefined;
    return pending.then(() => undefined);
  };
}

/**
 * Elysia checks coerced query values one at a time and forgets which parameter it was checking;
 * the bad value is all it keeps. Name the parameter that carried it.
 */
function queryFieldOf(request: Request, value: unknown): string {
  for (const [name, raw] of new URL(request.url).searchParams) {
    if (raw === String(value) || Number(raw) === value) return name;
  }
  return "query";
}
