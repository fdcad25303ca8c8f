/**
 * The coordinator's HTTP app: auth first, then validated routes, and one error hook that turns
 * every failure into `{error, field?, message}`. No input produces a 5xx: a 500 means a bug.
 */
import { Elysia } from "elysia";
import { needsToken, requestToken, tokenMatches } from "./auth";
import type { ClusterRuntime } from "./cluster/cluster-runtime";
import { clusterRoutes } from "./cluster/cluster-routes";
import { leaderHook, replicationHook } from "./cluster/gate";
import { NoLeaderError } from "./cluster/refusals";
import { HttpError, validationErrorBody } from "./http-errors";
import type { CoordinatorNode } from "./node";
import { hostRoutes } from "./routes/hosts";
import { jobRoutes } from "./routes/jobs";
import { systemRoutes } from "./routes/system";

export function createApp(node: CoordinatorNode, cluster?: ClusterRuntime) {
  const { token, maxBodyBytes } = node.config;
  return new Elysia({ normalize: false })
    .onRequest(replicationHook(cluster))
    .onRequest(({ request, set }) => {
      // The size is judged from content-length before anything is read. A chunked body has none,
      // so it is refused rather than read without a bound (every client of ours sends a length).
      const contentLength = request.headers.get("content-length");
      if (contentLength === null && request.headers.get("transfer-encoding") !== null) {
        set.status = 411;
        return { error: "length_required", message: "send the request body with a content-length header, not chunked" };
      }
      if (Number(contentLength ?? 0) > maxBodyBytes) {
        set.status = 413;
        return { error: "body_too_large", message: `request body is over the ${maxBodyBytes}-byte limit (SKYCLAW_MAX_BODY_BYTES)` };
      }
      if (token === undefined || !needsToken(new URL(request.url).pathname)) return;
      if (tokenMatches(token, requestToken(request.headers))) return;
      set.status = 401;
      return { error: "unauthorized", message: "missing or wrong token: send it in the x-skyclaw-token header" };
    })
    .onRequest(leaderHook(cluster))
    // Every body is JSON whatever its content-type says (`curl -d` claims a form), and no body
    // at all (`curl -X POST …/cancel`) is `{}`: the schema, not the framing, decides.
    .onParse(async ({ request }) => {
      const text = await request.text();
      return text.trim() === "" ? {} : JSON.parse(text);
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
          return { error: "invalid_json", message: "the request body is not valid JSON" };
        case "NOT_FOUND":
          set.status = 404;
          return { error: "not_found", message: `no route ${request.method} ${new URL(request.url).pathname}` };
        default: {
          const message = error instanceof Error ? error.message : String(error);
          if ("status" in Object(error) && typeof (error as { status: unknown }).status === "number") {
            const status = (error as { status: number }).status;
            if (status >= 400 && status < 500) {
              set.status = status;
              return { error: "invalid_request", message };
            }
          }
          console.error(`skyclaw coordinator: ${request.method} ${request.url} failed:`, error);
          set.status = 500;
          return { error: "internal", message: "internal error; the coordinator logged the details" };
        }
      }
    })
    .use(systemRoutes(node))
    .use(hostRoutes(node))
    .use(jobRoutes(node))
    .use(clusterRoutes(cluster));
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
