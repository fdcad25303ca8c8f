/** Host routes: register, heartbeat, long-poll claim, drain, list. */
import { Elysia } from "elysia";
import {
  ClaimBody,
  HeartbeatBody,
  IdParams,
  RegisterHostBody,
  type ClaimResponse,
  type HeartbeatResponse,
  type Host,
  type RegisterHostResponse,
} from "../../api";
import { idempotentReplay } from "../../state/idempotency";
import { getHost, listHosts, nextClaimableJob, satisfiedRequirementSets } from "../../state/queries";
import { callerOf } from "../auth/access-control";
import { registerHostWithCredential } from "../auth/host-registration";
import { HttpError } from "../http-errors";
import { idempotencyStamper } from "../idempotency";
import type { CoordinatorNode } from "../node";

export function hostRoutes(node: CoordinatorNode) {
  const { timings, idempotencyTtlMs } = node.config;
  const stamp = idempotencyStamper(idempotencyTtlMs);
  const requireHost = (id: string): Host => {
    const host = getHost(node.db, id);
    if (host === null) throw new HttpError(404, { error: "not_found", field: "id", message: `no host with id "${id}"; register first` });
    return host;
  };
  const canTakeJobs = (host: Host | null): host is Host =>
    host !== null && host.state !== "draining" && host.runningJobs < host.slots;
  /** Whether a claim by this host would get a job now; checked before proposing, so empty claims cost no log entry. */
  const workFor = (host: Host): boolean =>
    canTakeJobs(host) && nextClaimableJob(node.db, satisfiedRequirementSets(node.db, host.capabilities), node.clock.now()) !== null;

  return new Elysia()
    .post(
      "/v1/hosts/register",
      async ({ body, path, request }): Promise<RegisterHostResponse> => {
        const idempotency = stamp(request.headers, "POST", path, body);
        const { host, credential } = await registerHostWithCredential(node, callerOf(request), {
          type: "registerHost",
          hostId: body.hostId ?? `host_${Bun.randomUUIDv7().replaceAll("-", "")}`,
          name: body.name,
          capabilities: body.capabilities,
          slots: body.slots,
          version: body.version,
          ...(idempotency && { idempotency }),
        });
        return {
          host,
          leaseMs: timings.leaseMs,
          heartbeatMs: timings.heartbeatMs,
          claimWaitMs: timings.claimWaitMs,
          ...(credential !== undefined && { credential }),
        };
      },
      { body: RegisterHostBody, detail: { summary: "Register a host (or re-register it under its id)", tags: ["hosts"] } },
    )
    .post(
      "/v1/hosts/:id/heartbeat",
      ({ params, body, path, request }) => {
        const idempotency = stamp(request.headers, "POST", path, body);
        return node.submit<HeartbeatResponse>({
          type: "heartbeat",
          hostId: params.id,
          leaseMs: timings.leaseMs,
          running: body?.running ?? [],
          ...(idempotency && { idempotency }),
        });
      },
      { params: IdParams, body: HeartbeatBody, detail: { summary: "Heartbeat: renew the leases of running jobs; learn cancels, lost leases and drain", tags: ["hosts"] } },
    )
    .post(
      "/v1/hosts/:id/claim",
      async ({ params, body, path, request }): Promise<ClaimResponse> => {
        const idempotency = stamp(request.headers, "POST", path, body);
        const deadline = node.clock.now() + Math.min(body.waitMs ?? timings.claimWaitMs, timings.claimWaitMs);
        const claim = () =>
          node.submit<ClaimResponse>({
            type: "claim",
            hostId: params.id,
            maxJobs: body.slots,
            leaseMs: timings.leaseMs,
            ...(idempotency && { idempotency }),
          });
        let woken = false;
        for (;;) {
          const { host, claimNow } = node.read(() => {
            const host = requireHost(params.id);
            // A retried claim whose first try was applied gets the same jobs back from its record.
            const replay = idempotency !== undefined && idempotentReplay(node.db, idempotency, node.clock.now()) !== null;
            return { host, claimNow: replay || workFor(host) };
          });
          if (claimNow) return claim();
          if (woken) {
            // Woken by an enqueue still being committed: the claim joins the same commit, right
            // behind it, instead of waiting for it and paying for a commit of its own.
            const claimed = await claim();
            if (claimed.jobs.length > 0 || idempotency !== undefined) return claimed;
          }
          const remaining = deadline - node.clock.now();
          if (remaining <= 0 || request.signal.aborted) return { jobs: [] };
          woken = await node.waiters.waitForWork(host.capabilities, remaining, request.signal, () =>
            canTakeJobs(getHost(node.db, params.id)),
          );
        }
      },
      { params: IdParams, body: ClaimBody, detail: { summary: "Claim jobs the host can run (long-poll)", tags: ["hosts"] } },
    )
    .post(
      "/v1/hosts/:id/drain",
      ({ params, path, request }) => {
        const idempotency = stamp(request.headers, "POST", path, null);
        return node.submit<Host>({ type: "drainHost", hostId: params.id, ...(idempotency && { idempotency }) });
      },
      { params: IdParams, detail: { summary: "Drain a host: it stops claiming, finishes its jobs and exits", tags: ["hosts"] } },
    )
    .get("/v1/hosts", () => ({ hosts: listHosts(node.db) }), { detail: { summary: "List hosts", tags: ["hosts"] } })
    .get("/v1/hosts/:id", ({ params }) => requireHost(params.id), { params: IdParams, detail: { summary: "Get one host", tags: ["hosts"] } });
}
