/**
 * `POST /v1/hosts/:id/complete`: a host reports several finished jobs in one request, as a
 * Nomad client batches its allocation updates. They become one `completeMany` command (one log
 * entry, one idempotency record), in which each completion is fenced by its own attempt and
 * applied or refused on its own, exactly as `POST /v1/jobs/:id/complete` would.
 *
 * With `claimSlots`, a `claim` command is proposed right behind it, in the same event-loop
 * turn, so both commit together and apply in that order (the claim sees the slots the
 * completions freed). Its idempotency key is the request's with " claim" appended (a space no
 * client key may hold), so a retried request replays both answers. Should the claim fail
 * without an answer (a leader change), the request fails and the host retries it whole.
 */
import { Elysia } from "elysia";
import { CompleteJobsBody, IdParams, type ClaimResponse, type CompleteJobsResponse } from "../../api";
import type { CompletionOutcome } from "../../state/commands";
import { HttpError } from "../http-errors";
import { idempotencyStamper } from "../idempotency";
import type { CoordinatorNode } from "../node";

export function hostCompletionRoutes(node: CoordinatorNode) {
  const stamp = idempotencyStamper(node.config.idempotencyTtlMs);
  return new Elysia().post(
    "/v1/hosts/:id/complete",
    async ({ params, body, path, request }): Promise<CompleteJobsResponse> => {
      const idempotency = stamp(request.headers, "POST", path, body);
      const completing = node.submit<{ results: CompletionOutcome[] }>({
        type: "completeMany",
        hostId: params.id,
        completions: body.completions,
        ...(idempotency && { idempotency }),
      });
      const claiming =
        (body.claimSlots ?? 0) > 0
          ? node.submit<ClaimResponse>({
              type: "claim",
              hostId: params.id,
              maxJobs: body.claimSlots!,
              leaseMs: node.config.timings.leaseMs,
              ...(idempotency && { idempotency: { ...idempotency, key: `${idempotency.key} claim` } }),
            })
          : undefined;
      const [{ results }, claimed] = await Promise.all([completing, claiming]);
      return {
        results: results.map((outcome, index) => {
          if (outcome.ok) return outcome;
          // The refusal the single-job route would have answered, with the field named within this body.
          const refusal = HttpError.fromCommand(outcome.error);
          const field = refusal.body.field === undefined ? undefined : `completions.${index}.${refusal.body.field === "id" ? "jobId" : refusal.body.field}`;
          return { jobId: outcome.jobId, ok: false, status: refusal.status, error: { ...refusal.body, ...(field !== undefined && { field }) } };
        }),
        ...(claimed && { jobs: claimed.jobs }),
      };
    },
    {
      params: IdParams,
      body: CompleteJobsBody,
      detail: { summary: "Complete several leased jobs of this host at once, each fenced by its attempt", tags: ["host leases"] },
    },
  );
}
