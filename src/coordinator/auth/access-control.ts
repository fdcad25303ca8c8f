/**
 * The app's auth: one onRequest hook resolves the caller from its token once (and refuses an
 * unknown token with 401 before the body is read), one beforeHandle hook applies the route's
 * rule from route-access.ts. Handlers that narrow what they answer (a submitter's job list, the
 * submitter recorded on a job) ask `callerOf(request)`.
 *
 * A follower that does not know a token lets the request through to leader routing: the token
 * may be a host credential registered a moment ago that this node has not applied yet, and the
 * leader decides. Whatever the follower serves itself still passes the rule hook, which refuses
 * an unknown caller.
 */
import { Elysia } from "elysia";
import type { CoordinatorConfig } from "../../config";
import { needsToken, requestToken } from "../auth";
import { METRICS_PATH } from "../metrics/metrics-routes";
import type { CoordinatorNode } from "../node";
import { pathOf } from "../request-path";
import { hostByCredentialHash } from "../../state/ownership";
import { resolveCaller, type Caller } from "./caller";
import { CredentialOwners } from "./credential-owners";
import { checkAccess, hostRevoked, unauthorized } from "./route-access";

const callers = new WeakMap<Request, Caller>();

export function callerOf(request: Request): Caller {
  return callers.get(request) ?? { role: "none" };
}

/** The label of the submit key that made this request; undefined for every other role. */
export function submitterOf(request: Request): string | undefined {
  const caller = callerOf(request);
  return caller.role === "submit" ? caller.key.label : undefined;
}

function isOpenPath(config: CoordinatorConfig, path: string): boolean {
  return !needsToken(path) || (config.metricsPublic && path === METRICS_PATH);
}

/** The onRequest half: register before leader routing, so a follower refuses unknown tokens itself. */
export function resolveCallerHook(node: CoordinatorNode, clustered: boolean) {
  const owners = clustered ? undefined : new CredentialOwners(node.db, node.log);
  const ownerOf = owners === undefined ? (hash: string) => hostByCredentialHash(node.db, hash) : (hash: string) => owners.ownerOf(hash);
  return ({ request }: { request: Request }): void => {
    const caller = resolveCaller(node.config.auth, ownerOf, requestToken(request.headers));
    callers.set(request, caller);
    if (caller.role !== "none" || isOpenPath(node.config, pathOf(request))) return;
    // Revocation is final, so even a follower can answer it without asking the leader.
    if (caller.revokedHostId !== undefined) throw hostRevoked(caller.revokedHostId);
    if (clustered && node.log.role() !== "leader") return;
    throw unauthorized();
  };
}

/** The beforeHandle half: the route's rule, after validation, with params and body parsed. */
export function accessControl(node: CoordinatorNode) {
  return new Elysia({ name: "skyclaw-access-control" }).onBeforeHandle({ as: "global" }, ({ request, route, params, body }) => {
    const refusal = checkAccess(request.method, route, {
      caller: callerOf(request),
      params: (params ?? {}) as Record<string, string | undefined>,
      body,
      db: node.db,
      config: node.config,
    });
    if (refusal !== undefined) throw refusal;
  });
}
