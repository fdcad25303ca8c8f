/**
 * Which role may call which route: one table, keyed by method and route pattern, checked by one
 * hook (access-control.ts) after the request is validated and before its handler runs. A route
 * missing from the table is refused to everyone but admin, so a new route is closed until it is
 * given a rule here.
 *
 * Refusals: no or unknown token → 401; a role that may not call the route → 403; a job that is
 * not the caller's to see → 404 exactly as if it did not exist (a submitter learns nothing about
 * other people's jobs).
 */
import type { Database } from "bun:sqlite";
import type { CoordinatorConfig, SubmitKey } from "../../config";
import { canonicalSet } from "../../state/rows";
import { hostExists, jobOwnership } from "../../state/ownership";
import { HttpError } from "../http-errors";
import type { Caller } from "./caller";

export interface AccessRequest {
  caller: Caller;
  params: Record<string, string | undefined>;
  body: unknown;
  db: Database;
  config: CoordinatorConfig;
}

/** Returns nothing when the call is allowed, else the refusal to throw. */
export type AccessRule = (request: AccessRequest) => HttpError | undefined;

export function unauthorized(): HttpError {
  return new HttpError(401, {
    error: "unauthorized",
    message: "missing or wrong token: send it in the x-skyclaw-token header (or Authorization: Bearer)",
  });
}

/**
 * A revoked host's own credential: named as such (only its holder can see this answer), so the
 * host stops instead of retrying as if the coordinator had only forgotten it.
 */
export function hostRevoked(hostId: string): HttpError {
  return new HttpError(401, {
    error: "host_revoked",
    message: `host "${hostId}" was revoked (skyclaw hosts revoke); its credential no longer works: register a new host without this id`,
  });
}

function forbidden(caller: Caller, what: string): HttpError {
  return new HttpError(403, { error: "forbidden", message: `a ${caller.role} credential may not ${what}` });
}

function jobNotFound(jobId: string | undefined): HttpError {
  return new HttpError(404, { error: "not_found", field: "id", message: `no job with id "${jobId}"` });
}

const isAdmin = (caller: Caller) => caller.role === "admin";

const anyone: AccessRule = () => undefined;

const adminOnly =
  (what: string): AccessRule =>
  ({ caller }) =>
    isAdmin(caller) ? undefined : forbidden(caller, what);

const clusterMembership: AccessRule = ({ caller }) =>
  isAdmin(caller) || caller.role === "peer" ? undefined : forbidden(caller, "read or change the cluster's membership");

const metrics: AccessRule = ({ caller, config }) => (config.metricsPublic || isAdmin(caller) ? undefined : forbidden(caller, "read metrics"));

/** The host named in the path acting as itself. */
const hostSelf =
  (what: string): AccessRule =>
  ({ caller, params }) => {
    if (isAdmin(caller)) return undefined;
    if (caller.role === "host") return caller.hostId === params.id ? undefined : forbidden(caller, `${what} for another host`);
    return forbidden(caller, what);
  };

/** A new host with the join token; a known host only with its own credential (no takeover of an id). */
const register: AccessRule = ({ caller, body, db }) => {
  const hostId = (body as { hostId?: string } | null)?.hostId;
  if (isAdmin(caller)) return undefined;
  if (caller.role === "host") return hostId === caller.hostId ? undefined : forbidden(caller, "register another host");
  if (caller.role !== "join") return forbidden(caller, "register hosts");
  if (hostId !== undefined && hostExists(db, hostId)) {
    return new HttpError(403, {
      error: "forbidden",
      field: "hostId",
      message: `host "${hostId}" is already registered: re-register with its own credential (host.json), or register without a hostId`,
    });
  }
  return undefined;
};

/** What each submit key may require (the keys are fixed for the process's life). */
const allowedByKey = new WeakMap<SubmitKey, ReadonlySet<string>>();
function allowedFor(key: SubmitKey): ReadonlySet<string> {
  let allowed = allowedByKey.get(key);
  if (allowed === undefined) allowedByKey.set(key, (allowed = new Set(key.shell ? [...key.capabilities, "shell"] : key.capabilities)));
  return allowed;
}

/** A submit key may ask only for what it was given: its capabilities, and shell only with the shell flag. */
const enqueue: AccessRule = ({ caller, body }) => {
  if (isAdmin(caller)) return undefined;
  if (caller.role !== "submit") return forbidden(caller, "enqueue jobs");
  const job = body as { kind: string; requires?: string[] };
  const allowed = allowedFor(caller.key);
  if (job.kind === "shell" && !caller.key.shell) {
    return new HttpError(403, { error: "forbidden", field: "kind", message: `submit key "${caller.key.label}" may not enqueue shell jobs (no shell flag)` });
  }
  const denied = canonicalSet([job.kind, ...(job.requires ?? [])]).filter((capability) => !allowed.has(capability));
  if (denied.length > 0) {
    return new HttpError(403, {
      error: "forbidden",
      field: "requires",
      message: `submit key "${caller.key.label}" may not require ${denied.join(", ")} (it may require: ${[...allowed].sort().join(", ") || "nothing"})`,
    });
  }
  return undefined;
};

/** The list handler narrows a submitter's list to its own jobs. */
const listJobs: AccessRule = ({ caller }) => (isAdmin(caller) || caller.role === "submit" ? undefined : forbidden(caller, "list jobs"));

/** Its submitter, or the host holding its lease. */
const readJob: AccessRule = ({ caller, params, db }) => {
  if (isAdmin(caller)) return undefined;
  if (caller.role !== "submit" && caller.role !== "host") return forbidden(caller, "read jobs");
  const owner = jobOwnership(db, params.id ?? "");
  if (owner === null) return undefined; // the handler answers 404 itself
  const mine = caller.role === "submit" ? owner.submitter === caller.key.label : owner.hostId === caller.hostId;
  return mine ? undefined : jobNotFound(params.id);
};

const cancelJob: AccessRule = ({ caller, params, db }) => {
  if (isAdmin(caller)) return undefined;
  if (caller.role !== "submit") return forbidden(caller, "cancel jobs");
  const owner = jobOwnership(db, params.id ?? "");
  if (owner === null) return undefined;
  return owner.submitter === caller.key.label ? undefined : jobNotFound(params.id);
};

/** Renew, output, complete: a host writes only under its own id (the lease fencing does the rest). */
const leaseHolder: AccessRule = ({ caller, body }) => {
  if (isAdmin(caller)) return undefined;
  if (caller.role !== "host") return forbidden(caller, "write to a job's lease");
  return (body as { hostId?: string } | null)?.hostId === caller.hostId ? undefined : forbidden(caller, "act for another host");
};

export const ROUTE_ACCESS: Readonly<Record<string, AccessRule>> = {
  "GET /health": anyone,
  "GET /openapi.json": anyone,
  "GET /": anyone,
  "GET /ui": anyone,
  "GET /ui/": anyone,
  "GET /ui/app.js": anyone,
  "GET /docs": anyone,
  "GET /metrics": metrics,
  "GET /v1/state": adminOnly("read the state summary"),
  "POST /v1/hosts/register": register,
  "POST /v1/hosts/:id/heartbeat": hostSelf("heartbeat"),
  "POST /v1/hosts/:id/claim": hostSelf("claim jobs"),
  "POST /v1/hosts/:id/complete": hostSelf("complete jobs"),
  "POST /v1/hosts/:id/drain": hostSelf("drain a host"),
  "POST /v1/hosts/:id/revoke": adminOnly("revoke hosts"),
  "GET /v1/hosts": adminOnly("list hosts"),
  "GET /v1/hosts/:id": hostSelf("read a host"),
  "POST /v1/jobs": enqueue,
  "GET /v1/jobs": listJobs,
  "GET /v1/jobs/:id": readJob,
  "GET /v1/jobs/:id/output": readJob,
  "POST /v1/jobs/:id/cancel": cancelJob,
  "POST /v1/jobs/:id/renew": leaseHolder,
  "POST /v1/jobs/:id/output": leaseHolder,
  "POST /v1/jobs/:id/complete": leaseHolder,
  "GET /v1/cluster": clusterMembership,
  "POST /v1/cluster/join": clusterMembership,
  "POST /v1/cluster/leave": clusterMembership,
  "POST /v1/cluster/transfer": clusterMembership,
};

const unlisted: AccessRule = adminOnly("call a route that has no access rule");

/** The refusal for this call, or undefined when it may proceed. `none` callers are refused before any rule but `anyone`. */
export function checkAccess(method: string, route: string, request: AccessRequest): HttpError | undefined {
  const rule = ROUTE_ACCESS[`${method} ${route}`] ?? unlisted;
  if (rule === anyone || (rule === metrics && request.config.metricsPublic)) return undefined;
  if (request.caller.role === "none") return request.caller.revokedHostId === undefined ? unauthorized() : hostRevoked(request.caller.revokedHostId);
  return rule(request);
}
