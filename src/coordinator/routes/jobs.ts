/** Job routes: submit, read, follow output, cancel; and the host's lease-fenced writes. */
import { Elysia } from "elysia";
import {
  AppendOutputBody,
  CancelBody,
  CompleteBody,
  EnqueueBody,
  IdParams,
  LIMITS,
  ListJobsQuery,
  OutputQuery,
  RenewBody,
  TERMINAL_JOB_STATES,
  type AppendOutputResponse,
  type Job,
  type OutputPage,
  type RenewResponse,
} from "../../api";
import { getJob, listJobs, outputAfter } from "../../state/queries";
import { listJobsOfSubmitter } from "../../state/ownership";
import { submitterOf } from "../auth/access-control";
import { HttpError } from "../http-errors";
import { idempotencyStamper } from "../idempotency";
import { enqueueCommand } from "../job-spec";
import type { CoordinatorNode } from "../node";

export function jobRoutes(node: CoordinatorNode) {
  const stamp = idempotencyStamper(node.config.idempotencyTtlMs);
  const requireJob = (id: string): Job => {
    const job = getJob(node.db, id);
    if (job === null) throw new HttpError(404, { error: "not_found", field: "id", message: `no job with id "${id}"` });
    return job;
  };

  return new Elysia()
    .post(
      "/v1/jobs",
      async ({ body, path, set, request }) => {
        const idempotency = stamp(request.headers, "POST", path, body);
        const jobId = body.id ?? `job_${Bun.randomUUIDv7().replaceAll("-", "")}`;
        const submitter = submitterOf(request);
        const job = await node.submit<Job>({
          ...enqueueCommand(body, jobId),
          ...(submitter !== undefined && { submitter }),
          ...(idempotency && { idempotency }),
        });
        set.status = 201;
        return job;
      },
      { body: EnqueueBody, detail: { summary: "Enqueue a job (idempotent with an idempotency-key header)", tags: ["jobs"] } },
    )
    .get(
      "/v1/jobs",
      ({ query, request }) => {
        const options = {
          limit: query.limit ?? 50,
          ...(query.state !== undefined && { state: query.state }),
          ...(query.cursor !== undefined && { beforeSeq: Number(query.cursor) }),
        };
        // A submit key sees only its own jobs.
        const submitter = submitterOf(request);
        return submitter === undefined ? listJobs(node.db, options) : listJobsOfSubmitter(node.db, submitter, options);
      },
      { query: ListJobsQuery, detail: { summary: "List jobs, newest first; page with nextCursor", tags: ["jobs"] } },
    )
    .get("/v1/jobs/:id", ({ params }) => requireJob(params.id), { params: IdParams, detail: { summary: "Get one job", tags: ["jobs"] } })
    .get(
      "/v1/jobs/:id/output",
      async ({ params, query, request }): Promise<OutputPage> => {
        const after = query.after ?? 0;
        const limit = query.limit ?? LIMITS.pageSize;
        const deadline = node.clock.now() + (query.waitMs ?? 0);
        const first = requireJob(params.id);
        for (;;) {
          const { job, chunks } = node.read(() => ({ job: requireJob(params.id), chunks: outputAfter(node.db, params.id, after, limit) }));
          const remaining = deadline - node.clock.now();
          // A state change (leased, requeued, cancel requested) ends the wait too, as documented.
          const changed = job.state !== first.state || job.attempt !== first.attempt || job.cancelRequestedAt !== first.cancelRequestedAt;
          if (chunks.length > 0 || changed || TERMINAL_JOB_STATES.has(job.state) || remaining <= 0) {
            return { job, chunks, lastSeq: chunks.at(-1)?.seq ?? after };
          }
          await node.waiters.waitForJob(params.id, remaining, request.signal);
          if (request.signal.aborted) return { job, chunks: [], lastSeq: after };
        }
      },
      { params: IdParams, query: OutputQuery, detail: { summary: "Read a job's output after a sequence number (long-poll with waitMs)", tags: ["jobs"] } },
    )
    .post(
      "/v1/jobs/:id/cancel",
      ({ params, body, path, request }) => {
        const idempotency = stamp(request.headers, "POST", path, body);
        return node.submit<Job>({
          type: "cancel",
          jobId: params.id,
          reason: body?.reason ?? null,
          ...(idempotency && { idempotency }),
        });
      },
      { params: IdParams, body: CancelBody, detail: { summary: "Cancel a job", tags: ["jobs"] } },
    )
    .post(
      "/v1/jobs/:id/renew",
      ({ params, body, path, request }) => {
        const idempotency = stamp(request.headers, "POST", path, body);
        return node.submit<RenewResponse>({
          type: "renewLease",
          jobId: params.id,
          hostId: body.hostId,
          attempt: body.attempt,
          leaseMs: node.config.timings.leaseMs,
          ...(idempotency && { idempotency }),
        });
      },
      { params: IdParams, body: RenewBody, detail: { summary: "Renew the lease of a job the host runs", tags: ["host leases"] } },
    )
    .post(
      "/v1/jobs/:id/output",
      ({ params, body, path, request }) => {
        const idempotency = stamp(request.headers, "POST", path, body);
        // The schema caps characters; storage is counted in bytes, and a character can take four.
        body.chunks.forEach((chunk, index) => {
          const bytes = Buffer.byteLength(chunk.data);
          if (bytes > LIMITS.outputChunkBytes) {
            throw HttpError.badRequest(`chunks.${index}.data`, `is ${bytes} bytes; a chunk holds at most ${LIMITS.outputChunkBytes} bytes`);
          }
        });
        return node.submit<AppendOutputResponse>({
          type: "appendOutput",
          jobId: params.id,
          hostId: body.hostId,
          attempt: body.attempt,
          chunks: body.chunks,
          maxOutputBytes: node.config.maxOutputBytes,
          ...(idempotency && { idempotency }),
        });
      },
      { params: IdParams, body: AppendOutputBody, detail: { summary: "Append output chunks of a leased job", tags: ["host leases"] } },
    )
    .post(
      "/v1/jobs/:id/complete",
      ({ params, body, path, request }) => {
        const idempotency = stamp(request.headers, "POST", path, body);
        return node.submit<Job>({
          type: "complete",
          jobId: params.id,
          hostId: body.hostId,
          attempt: body.attempt,
          status: body.status,
          result: body.result,
          ...(idempotency && { idempotency }),
        });
      },
      { params: IdParams, body: CompleteBody, detail: { summary: "Complete a leased job with its result", tags: ["host leases"] } },
    );
}
