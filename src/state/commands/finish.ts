import type { Database } from "bun:sqlite";
import type { Job } from "../../api";
import type { CancelCommand, CompleteCommand, CompleteManyCommand, CompletionOutcome } from "../commands";
import { refusal, success, type CommandResult } from "../commands";
import { getJob } from "../queries";
import { leaseCheckOf } from "./leases";
import { retryDelayMs } from "./retry";

/** What ending an attempt needs to know of its job. */
interface AttemptRow {
  state: string;
  hostId: string | null;
  attempt: number;
  retryOnFailure: boolean;
  maxAttempts: number;
  cancelRequestedAt: number | null;
  backoffMs: number;
}

interface AttemptEnd {
  state: "queued" | CompleteCommand["status"];
  /** When a retried job may run again (queued only). */
  availableAt?: number;
  lastError: string | null;
}

/**
 * complete — pre: the lease (jobId, hostId, attempt) is current. post: the lease is gone and
 * the result recorded. `succeeded` and `cancelled` are final. `failed` is final unless the job
 * retries on failure, has attempts left and no cancel is pending: then it is `queued` again
 * after its backoff.
 */
export function complete(db: Database, cmd: CompleteCommand): CommandResult<Job> {
  const job = getJob(db, cmd.jobId);
  const ended = endAttempt(db, cmd, job);
  if (!ended.ok || job === null) return ended as CommandResult<Job>;
  const { state, availableAt, lastError } = ended.value;
  // The row just written, built from the row read above instead of read back (as toJob would read it).
  const finished: Job = { ...job, state, hostId: null, leaseExpiresAt: null, updatedAt: cmd.at, result: JSON.parse(JSON.stringify(cmd.result)), lastError };
  return success(state === "queued" ? { ...finished, availableAt: availableAt! } : { ...finished, finishedAt: cmd.at });
}

/**
 * completeMany — each completion is `complete` with this host: its pre and post hold for it
 * alone. A refused one changes nothing and the others still apply, in order; the command itself
 * always succeeds with one outcome per completion: the job's new state (not its whole view: a
 * host needs no more, and the idempotency record stays small).
 */
export function completeMany(db: Database, cmd: CompleteManyCommand): CommandResult<{ results: CompletionOutcome[] }> {
  const read = db.query<Omit<AttemptRow, "retryOnFailure"> & { retryOnFailure: number }, [string]>(
    `SELECT state, host_id AS hostId, attempt, retry_on_failure AS retryOnFailure, max_attempts AS maxAttempts,
       cancel_requested_at AS cancelRequestedAt, backoff_ms AS backoffMs FROM jobs WHERE id = ?`,
  );
  // A final status (not `failed`, which may retry) under a current lease is one fenced UPDATE;
  // only when it matches nothing is the job read, to say why.
  const finish = db.query<null, [string, string, number, string, number, string, string | null]>(
    `UPDATE jobs SET state = ?4, host_id = NULL, lease_expires_at = NULL, finished_at = ?5, updated_at = ?5,
       result = ?6, last_error = ?7 WHERE id = ?1 AND state = 'leased' AND host_id = ?2 AND attempt = ?3`,
  );
  const results = cmd.completions.map((completion): CompletionOutcome => {
    if (completion.status !== "failed") {
      const command: CompleteCommand = { ...completion, type: "complete", hostId: cmd.hostId, at: cmd.at };
      const lastError = completion.status === "succeeded" ? null : describeFailure(command);
      const changes = finish.run(completion.jobId, cmd.hostId, completion.attempt, completion.status, cmd.at, JSON.stringify(completion.result), lastError).changes;
      if (changes === 1) return { jobId: completion.jobId, ok: true, state: completion.status };
    }
    const row = read.get(completion.jobId);
    // endAttempt checks before it writes, so a refusal has written nothing.
    const ended = endAttempt(db, { ...completion, type: "complete", hostId: cmd.hostId, at: cmd.at }, row && { ...row, retryOnFailure: row.retryOnFailure === 1 });
    return ended.ok ? { jobId: completion.jobId, ok: true, state: ended.value.state } : { jobId: completion.jobId, ok: false, error: ended.error };
  });
  return success({ results });
}

/** Checks the lease, then ends the attempt in the jobs table: its new state, or the refusal (nothing written). */
function endAttempt(db: Database, cmd: CompleteCommand, job: AttemptRow | null): CommandResult<AttemptEnd> {
  const check = leaseCheckOf(job, cmd.jobId, cmd.hostId, cmd.attempt);
  if (!check.ok || job === null) return check as CommandResult<AttemptEnd>;
  const result = JSON.stringify(cmd.result);
  const retry = cmd.status === "failed" && job.retryOnFailure && job.attempt < job.maxAttempts && job.cancelRequestedAt === null;
  const lastError = cmd.status === "succeeded" ? null : describeFailure(cmd);
  if (retry) {
    const availableAt = cmd.at + retryDelayMs(job.backoffMs, job.attempt);
    db.query(
      `UPDATE jobs SET state = 'queued', host_id = NULL, lease_expires_at = NULL, available_at = ?2, updated_at = ?3,
         result = ?4, last_error = ?5 WHERE id = ?1`,
    ).run(cmd.jobId, availableAt, cmd.at, result, lastError);
    return success({ state: "queued", availableAt, lastError });
  }
  db.query(
    `UPDATE jobs SET state = ?2, host_id = NULL, lease_expires_at = NULL, finished_at = ?3, updated_at = ?3,
       result = ?4, last_error = ?5 WHERE id = ?1`,
  ).run(cmd.jobId, cmd.status, cmd.at, result, lastError);
  return success({ state: cmd.status, lastError });
}

function describeFailure(cmd: CompleteCommand): string {
  const { exitCode, signal, reason, message } = cmd.result;
  const how = reason ?? (signal !== null ? `killed by ${signal}` : `exit code ${exitCode}`);
  return message === undefined ? `attempt ${cmd.attempt}: ${how}` : `attempt ${cmd.attempt}: ${how}: ${message}`;
}

/**
 * cancel — pre: the job exists and is not finished. post: a `queued` job is `cancelled` at
 * once; a `leased` job records the request and stays leased until its host stops it and
 * completes it as cancelled (or its lease expires, which then cancels it). Cancelling twice is
 * not an error.
 */
export function cancel(db: Database, cmd: CancelCommand): CommandResult<Job> {
  const job = getJob(db, cmd.jobId);
  if (job === null) return refusal("not_found", `no job with id "${cmd.jobId}"`, "id");
  const why = cmd.reason === null ? "cancelled" : `cancelled: ${cmd.reason}`;
  if (job.state === "queued") {
    db.query(
      "UPDATE jobs SET state = 'cancelled', cancel_requested_at = ?2, finished_at = ?2, updated_at = ?2, last_error = ?3 WHERE id = ?1",
    ).run(cmd.jobId, cmd.at, why);
  } else if (job.state === "leased") {
    if (job.cancelRequestedAt === null) {
      db.query("UPDATE jobs SET cancel_requested_at = ?2, updated_at = ?2, last_error = ?3 WHERE id = ?1").run(cmd.jobId, cmd.at, why);
    }
  } else if (job.state !== "cancelled") {
    return refusal("invalid_state", `job "${cmd.jobId}" already finished as ${job.state}; nothing to cancel`, "id");
  }
  return success(getJob(db, cmd.jobId)!);
}
