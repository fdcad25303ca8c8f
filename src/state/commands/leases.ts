import type { Database } from "bun:sqlite";
import type { RenewResponse } from "../../api";
import type { ExpireLeasesCommand, RenewLeaseCommand } from "../commands";
import { refusal, success, type CommandResult } from "../commands";
import { retryDelayMs } from "./retry";

/**
 * Fencing check shared by every host write about a job: the job must be `leased` to this host
 * under this attempt. Anything else is a stale lease and changes nothing.
 */
export function checkLease(db: Database, jobId: string, hostId: string, attempt: number): CommandResult<null> {
  const row = db
    .query<{ state: string; host_id: string | null; attempt: number }, [string]>("SELECT state, host_id, attempt FROM jobs WHERE id = ?")
    .get(jobId);
  return leaseCheckOf(row === null ? null : { state: row.state, hostId: row.host_id, attempt: row.attempt }, jobId, hostId, attempt);
}

/** checkLease on a job already read (by a command that needs the whole job anyway). */
export function leaseCheckOf(
  job: { state: string; hostId: string | null; attempt: number } | null,
  jobId: string,
  hostId: string,
  attempt: number,
): CommandResult<null> {
  if (job === null) return refusal("not_found", `no job with id "${jobId}"`, "id");
  if (job.state !== "leased" || job.hostId !== hostId || job.attempt !== attempt) {
    return refusal(
      "stale_attempt",
      `host "${hostId}" does not hold attempt ${attempt} of job "${jobId}" (job is ${job.state}, attempt ${job.attempt})`,
      "attempt",
    );
  }
  return success(null);
}

/** renewLease — pre: the lease (jobId, hostId, attempt) is current. post: it expires at at + leaseMs. */
export function renewLease(db: Database, cmd: RenewLeaseCommand): CommandResult<RenewResponse> {
  const check = checkLease(db, cmd.jobId, cmd.hostId, cmd.attempt);
  if (!check.ok) return check;
  const leaseExpiresAt = cmd.at + cmd.leaseMs;
  db.query("UPDATE jobs SET lease_expires_at = ? WHERE id = ?").run(leaseExpiresAt, cmd.jobId);
  return success({ jobId: cmd.jobId, attempt: cmd.attempt, leaseExpiresAt });
}

export interface ExpiryReport {
  requeued: string[];
  dead: string[];
  cancelled: string[];
  lostHosts: string[];
  idempotencyRecordsPruned: number;
}

/**
 * expireLeases — pre: none. post: every lease that expired at or before `at` is gone: its job
 * is `cancelled` if a cancel was requested, `dead` if it used all its attempts, else `queued`
 * again after its retry backoff. Hosts silent for hostTimeoutMs are `lost`. Idempotency
 * records past their expiry are deleted, oldest first, up to the oldest that is still live.
 */
export function expireLeases(db: Database, cmd: ExpireLeasesCommand): CommandResult<ExpiryReport> {
  const report: ExpiryReport = { requeued: [], dead: [], cancelled: [], lostHosts: [], idempotencyRecordsPruned: 0 };
  const expired = db
    .query<
      { id: string; host_id: string; attempt: number; max_attempts: number; backoff_ms: number; cancel_requested_at: number | null },
      [number]
    >(
      `SELECT id, host_id, attempt, max_attempts, backoff_ms, cancel_requested_at FROM jobs
       WHERE state = 'leased' AND lease_expires_at <= ? ORDER BY seq`,
    )
    .all(cmd.at);
  for (const job of expired) {
    const why = `lease of attempt ${job.attempt} on host "${job.host_id}" expired`;
    if (job.cancel_requested_at !== null) {
      finishWithoutRun(db, job.id, "cancelled", cmd.at, why);
      report.cancelled.push(job.id);
    } else if (job.attempt >= job.max_attempts) {
      finishWithoutRun(db, job.id, "dead", cmd.at, `${why}; all ${job.max_attempts} attempts used`);
      report.dead.push(job.id);
    } else {
      db.query(
        `UPDATE jobs SET state = 'queued', host_id = NULL, lease_expires_at = NULL, available_at = ?2, updated_at = ?3,
           last_error = ?4 WHERE id = ?1`,
      ).run(job.id, cmd.at + retryDelayMs(job.backoff_ms, job.attempt), cmd.at, why);
      report.requeued.push(job.id);
    }
  }
  report.lostHosts = db
    .query<{ id: string }, [number, number]>(
      "UPDATE hosts SET state = 'lost' WHERE state != 'lost' AND last_heartbeat_at + ? <= ? RETURNING id",
    )
    .all(cmd.hostTimeoutMs, cmd.at)
    .map((row) => row.id)
    .sort();
  // Oldest first, in insertion order, up to the first record still live: no index on expires_at to
  // keep up on every write. A record inserted later that expires sooner (a shorter TTL) waits for
  // the older ones; a lookup checks expires_at itself, so it is never answered from.
  report.idempotencyRecordsPruned = db
    .query(
      `DELETE FROM idempotency_records WHERE rowid < coalesce(
         (SELECT rowid FROM idempotency_records WHERE expires_at > ?1 ORDER BY rowid LIMIT 1),
         (SELECT max(rowid) + 1 FROM idempotency_records))`,
    )
    .run(cmd.at).changes;
  return success(report);
}

function finishWithoutRun(db: Database, jobId: string, state: "cancelled" | "dead", at: number, why: string): void {
  db.query(
    `UPDATE jobs SET state = ?2, host_id = NULL, lease_expires_at = NULL, finished_at = ?3, updated_at = ?3, last_error = ?4
     WHERE id = ?1`,
  ).run(jobId, state, at, why);
}

