/**
 * The route pattern of a request Elysia did not route: one refused before routing (a missing
 * token, an oversized body) still counts under `/v1/jobs/:id`, not under its raw path, so the
 * metric's label set stays as small as the API.
 */

export const UNMATCHED_ROUTE = "unmatched";

interface CompiledRoute {
  method: string;
  path: string;
  pattern: RegExp;
}

export class RoutePatterns {
  private routes: CompiledRoute[] = [];

  /** The app's routes, as Elysia lists them once it starts. */
  set(routes: readonly { method: string; path: string }[]): void {
    this.routes = routes.map(({ method, path }) => ({ method: method.toUpperCase(), path, pattern: compile(path) }));
  }

  /** The pattern of the first route matching `method` and `path`, or "unmatched". */
  match(method: string, path: string): string {
    for (const route of this.routes) {
      if ((route.method === method || route.method === "ALL") && route.pattern.test(path)) return route.path;
    }
    return UNMATCHED_ROUTE;
  }
}

function compile(path: string): RegExp {
  const segments = path.split("/").map((segment) => {
    if (segment === "*") return ".*";
    if (segment.startsWith(":")) return "[^/]+";
    return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  });
  return new RegExp(`^${segments.join("/")}$`);
}
