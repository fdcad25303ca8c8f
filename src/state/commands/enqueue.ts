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
       backoff_ms, available_at, created_at, updated_at, signature)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'queued', ?7, ?8, ?9, ?10, ?10, ?10, ?11)`,
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
  );
  // Kept out of the INSERT above: only jobs of submit keys carry one.
  if (cmd.submitter !== undefined) db.query("UPDATE jobs SET submitter = ?2 WHERE id = ?1").run(cmd.jobId, cmd.submitter);
  // The row just written, built from what was written instead of read back (as toJob would read it).
  return success({
    id: cmd.jobId,
    kind: cmd.spec.kind,
    state: "queued",
    spec: JSON.parse(specJson),
    requires,
    priority: cmd.priority,
    timeoutMs: cmd.timeoutMs,
    attempt: 0,
    maxAttempts: cmd.maxAttempts,
    retryOnFailure: cmd.retryOnFailure,
    backoffMs: cmd.backoffMs,
    hostId: null,
    leaseExpiresAt: null,
    availableAt: cmd.at,
    cancelRequestedAt: null,
    createdAt: cmd.at,
    updatedAt: cmd.at,
    finishedAt: null,
    result: null,
    lastError: null,
    outputBytes: 0,
    outputTruncated: false,
    ...(cmd.signature !== undefined && { signature: { publicKey: cmd.signature.publicKey, value: cmd.signature.value } }),
    submitter: cmd.submitter ?? null,
  });
}

/** The id of this requirement set, inserting it only the first time it is seen (reads are far cheaper than writes). */
function requirementSetId(db: Database, requires: string[]): number {
  const key = JSON.stringify(requires);
  const existing = db.query<{ id: number }, [string]>("SELECT id FROM requirement_sets WHERE requires = ?").get(key);
  if (existing !== null) return existing.id;
  return Number(db.query("INSERT INTO requirement_sets (requires) VALUES (?)").run(key).lastInsertRowid);
}
