import type { Database } from "bun:sqlite";
import type { Job } from "../../api";
import type { EnqueueCommand } from "../commands";
import { refusal, success, type CommandResult } from "../commands";
import { canonicalSet } from "../rows";

/**
 * enqueue — pre: no job has `jobId`. post: one `queued` job, available now, attempt 0, whose
 * requirements are the job's kind plus `requires`, recording its `submitter` (if any); its
 * requirement set row exists.
 */
export function enqueue(db: Database, cmd: EnqueueCommand): CommandResult<Job> {
  if (db.query("SELECT 1 FROM jobs WHERE id = ?").get(cmd.jobId) !== null) {
    return refusal("duplicate_id", `a job with id "${cmd.jobId}" already exists`, "id");
  }
  const requires = canonicalSet([cmd.spec.kind, ...cmd.requires]);
  const specJson = JSON.stringify(cmd.spec);
  db.query(
    `INSERT INTO jobs (id, kind, spec, requirement_set, priority, timeout_ms, state, max_attempts, retry_on_failure,
       backoff_ms, available_at, created_at, updated_at, signature, submitter)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'queued', ?7, ?8, ?9, ?10, ?10, ?10, ?11, ?12)`,
  ).run(
    cmd.jobId,
    cmd.spec.kind,
    specJson,
    requirementSetId(db, requires),
    cmd.priority,
    cmd.timeoutMs,
    cmd.maxAttempts,
    cmd.retryOnFailure ? 1 : 0,
    cmd.backoffMs,
    cmd.at,
    cmd.signature === undefined ? null : JSON.stringify(cmd.signature),
    cmd.submitter ?? null,
  );
  // The row just written, built from what was written instead of read back (as toJob would read it).
  return success(createdJobView({ ...cmd, spec: JSON.parse(specJson), requires }));
}

/** What defines a job when it is created; the rest of its view starts at fixed values. */
interface CreatedJob {
  jobId: string;
  spec: Job["spec"];
  requires: string[];
  priority: number;
  timeoutMs: number | null;
  maxAttempts: number;
  retryOnFailure: boolean;
  backoffMs: number;
  at: number;
  signature?: { publicKey: string; value: string } | undefined;
  submitter?: string | undefined;
}

/**
 * The answer of an enqueue: the job as it was created. Built from the command by `enqueue`, and
 * from the job's unchanging columns when a retried enqueue is answered from its idempotency
 * record (which then needs to hold only the job's id): the same fields in the same order.
 */
export function createdJobView(job: CreatedJob): Job {
  return {
    id: job.jobId,
    kind: job.spec.kind,
    state: "queued",
    spec: job.spec,
    requires: job.requires,
    priority: job.priority,
    timeoutMs: job.timeoutMs,
    attempt: 0,
    maxAttempts: job.maxAttempts,
    retryOnFailure: job.retryOnFailure,
    backoffMs: job.backoffMs,
    hostId: null,
    leaseExpiresAt: null,
    availableAt: job.at,
    cancelRequestedAt: null,
    createdAt: job.at,
    updatedAt: job.at,
    finishedAt: null,
    result: null,
    lastError: null,
    outputBytes: 0,
    outputTruncated: false,
    ...(job.signature !== undefined && { signature: { publicKey: job.signature.publicKey, value: job.signature.value } }),
    submitter: job.submitter ?? null,
  };
}

/** createdJobView of a stored job, from the columns an enqueue wrote and nothing since changes. */
export function createdJobViewOf(db: Database, jobId: string): Job | null {
  const row = db
    .query<
      {
        spec: string;
        requires: string;
        priority: number;
        timeout_ms: number | null;
        max_attempts: number;
        retry_on_failure: number;
        backoff_ms: number;
        created_at: number;
        signature: string | null;
        submitter: string | null;
      },
      [string]
    >(
      `SELECT spec, (SELECT requires FROM requirement_sets WHERE requirement_sets.id = jobs.requirement_set) AS requires,
         priority, timeout_ms, max_attempts, retry_on_failure, backoff_ms, created_at, signature, submitter
       FROM jobs WHERE id = ?`,
    )
    .get(jobId);
  if (row === null) return null;
  return createdJobView({
    jobId,
    spec: JSON.parse(row.spec),
    requires: JSON.parse(row.requires),
    priority: row.priority,
    timeoutMs: row.timeout_ms,
    maxAttempts: row.max_attempts,
    retryOnFailure: row.retry_on_failure === 1,
    backoffMs: row.backoff_ms,
    at: row.created_at,
    ...(row.signature !== null && { signature: JSON.parse(row.signature) }),
    ...(row.submitter !== null && { submitter: row.submitter }),
  });
}

/** The id of this requirement set, inserting it only the first time it is seen (reads are far cheaper than writes). */
function requirementSetId(db: Database, requires: string[]): number {
  const key = JSON.stringify(requires);
  const existing = db.query<{ id: number }, [string]>("SELECT id FROM requirement_sets WHERE requires = ?").get(key);
  if (existing !== null) return existing.id;
  return Number(db.query("INSERT INTO requirement_sets (requires) VALUES (?)").run(key).lastInsertRowid);
}
