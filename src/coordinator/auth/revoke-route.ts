/** `POST /v1/hosts/:id/revoke` (admin): ends a host's credential and requeues the jobs it held. */
import { Elysia } from "elysia";
import { IdParams, type RevokeHostResponse } from "../../api";
import { getJob } from "../../state/queries";
import { idempotencyStamp } from "../idempotency";
import type { CoordinatorNode } from "../node";

export function revokeRoute(node: CoordinatorNode) {
  return new Elysia().post(
    "/v1/hosts/:id/revoke",
    async ({ params, path, request }): Promise<RevokeHostResponse> => {
      const idempotency = idempotencyStamp(request.headers, { method: "POST", path, body: null }, node.config.idempotencyTtlMs);
      const revoked = await node.submit<RevokeHostResponse>({ type: "revokeHost", hostId: params.id, ...(idempotency && { idempotency }) });
      // Hosts parked in a claim learn of the requeued jobs now, not at their next poll.
      for (const jobId of revoked.requeued) {
        const job = getJob(node.db, jobId);
        if (job?.state === "queued") node.waiters.workAvailable(job.requires, 1);
        node.waiters.jobChanged(jobId);
      }
      for (const jobId of revoked.cancelled) node.waiters.jobChanged(jobId);
      return revoked;
    },
    { params: IdParams, detail: { summary: "Revoke a host: its credential stops working, its jobs are requeued (admin)", tags: ["hosts"] } },
  );
}
