/**
 * Idempotency records: the result a key produced, replayed for the same request and refused
 * for a different one. Used by the state machine (authoritative, inside apply) and by the
 * coordinator as a fast path that avoids logging a replay.
 */
import type { Database } from "bun:sqlite";
import type { Job } from "../api";
import { refusal, success, type Command, type CommandResult, type IdempotencyStamp } from "./commands";
import { firstLeaseView, type Lease } from "./commands/claim";
import { createdJobView, createdJobViewOf } from "./commands/enqueue";

/**
 * What a record holds: the result itself, or a shorter form that the jobs' unchanging columns
 * rebuild exactly. Enqueues and claims are most of the records, and their answers are whole job
 * views (a claim of 32 jobs answered about 22 KB, spilling onto overflow pages):
 *  - an enqueue that created its job: the job's id;
 *  - a claim: the lease, and each job leased for the first time as its id. A job leased again
 *    after an earlier attempt carries that attempt in its view (result, error, output), so it
 *    is kept whole.
 */
type StoredResult = CommandResult | { created: string } | { claimed: Lease & { jobs: (string | Job)[] } };

/** The stored outcome for this key at time `at`, or null when the key is unused or expired. */
export function idempotentReplay(db: Database, stamp: IdempotencyStamp, at: number): CommandResult | null {
  const record = db
    .query<{ request_hash: string; result: string }, [string, number]>(
      "SELECT request_hash, result FROM idempotency_records WHERE key = ? AND expires_at > ?",
    )
    .get(stamp.key, at);
  if (record === null) return null;
  if (record.request_hash === stamp.requestHash) return replayOf(db, JSON.parse(record.result) as StoredResult);
  return refusal(
    "idempotency_conflict",
    `idempotency key "${stamp.key}" was already used for a different request; use a new key for a new request`,
    "x-idempotency-key",
  );
}

export function recordIdempotentResult(db: Database, stamp: IdempotencyStamp, command: Command, result: CommandResult): void {
  db.query("INSERT OR REPLACE INTO idempotency_records (key, request_hash, result, expires_at) VALUES (?, ?, ?, ?)").run(
    stamp.key,
    stamp.requestHash,
    JSON.stringify(storedResult(command, result)),
    command.at + stamp.ttlMs,
  );
}

function storedResult(command: Command, result: CommandResult): StoredResult {
  if (!result.ok) return result;
  if (command.type === "enqueue") return { created: command.jobId };
  if (command.type !== "claim") return result;
  const lease: Lease = { hostId: command.hostId, at: command.at, leaseExpiresAt: command.at + command.leaseMs };
  const jobs = (result.value as { jobs: Job[] }).jobs.map((job) => {
    const created = createdJobView({ ...job, jobId: job.id, at: job.createdAt, submitter: job.submitter ?? undefined });
    // Kept as an id only when the replay would rebuild this very view.
    return Bun.deepEquals(firstLeaseView(created, lease), job, true) ? job.id : job;
  });
  return { claimed: { ...lease, jobs } };
}

function replayOf(db: Database, stored: StoredResult): CommandResult {
  if ("ok" in stored) return stored;
  if ("created" in stored) {
    const job = createdJobViewOf(db, stored.created);
    return job === null ? missing(stored.created) : success(job);
  }
  const { jobs, ...lease } = stored.claimed;
  const views: Job[] = [];
  for (const job of jobs) {
    if (typeof job !== "string") {
      views.push(job);
      continue;
    }
    const created = createdJobViewOf(db, job);
    if (created === null) return missing(job);
    views.push(firstLeaseView(created, lease));
  }
  return success({ jobs: views });
}

// Jobs are never deleted, so this is a bug; it is not worth replaying (and is not recorded).
function missing(jobId: string): CommandResult {
  return refusal("internal", `the job "${jobId}" this request answered with is missing`);
}
