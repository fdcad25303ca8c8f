/**
 * `GET /metrics` and the hook that counts every answered request.
 *
 * The count is taken in onAfterResponse, which runs after the error hook has set the final
 * status (validation failures, refusals, 404s, 500s included) and sees the matched route
 * pattern. Two kinds of request are not counted here: those another onRequest hook answers with
 * a value instead of throwing (Elysia runs no later hook for them), and requests a follower
 * forwards to the leader, which the leader counts.
 */
import { Elysia } from "elysia";
import { CONTENT_TYPE } from "./registry";
import { CoordinatorMetrics, type MetricsSource, type RaftStatusSource } from "./coordinator-metrics";
import { RoutePatterns } from "./route-patterns";

export const METRICS_PATH = "/metrics";

export function metricsRoutes(node: MetricsSource, raft?: RaftStatusSource) {
  const metrics = new CoordinatorMetrics(node, raft);
  const routes = new RoutePatterns();
  return new Elysia()
    .onStart((app) => routes.set(app.routes))
    .onAfterResponse({ as: "global" }, ({ request, route, set, responseValue }) => {
      const status = responseValue instanceof Response ? responseValue.status : set.status;
      metrics.countRequest(request.method, route || routes.match(request.method, new URL(request.url).pathname), String(status ?? 200));
    })
    .get(
      METRICS_PATH,
      ({ set }) => {
        set.headers["content-type"] = CONTENT_TYPE;
        return metrics.render();
      },
      { detail: { summary: "Prometheus metrics (text format 0.0.4)", tags: ["system"] } },
    );
}
