import type { Database } from "bun:sqlite";
import type { Job } from "../../api";
import type { EnqueueCommand } from "../commands";
import { refusal, success, type CommandResult } from "../commands";
import { getJob } from "../queries";
import { canonicalSet } from "../rows";

/**
 * enqueue — pre: no job has `jobId`. post: one `queued` job, available now, attempt 0, whose
 * requirements are the job's kind plus `requires`; its requirement set row exists.
 */
export function enqueue(db: Database, cmd: EnqueueCommand): CommandResult<Job> {
  if (db.query("SELECT 1 FROM jobs WHERE id = ?").get(cmd.jobId) !== null) {
    return refusal("duplicate_id", `a job with id "${cmd.jobId}" already exists`, "id");
  }
  const requirementSet = requirementSetId(db, canonicalSet([cmd.spec.kind, ...cmd.requires]));
  db.query(
    `INSERT INTO jobs (id, kind, spec, requirement_set, priority, timeout_ms, state, max_attempts, retry_on_failure,
       backoff_ms, available_at, created_at, updated_at)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'queued', ?7, ?8, ?9, ?10, ?10, ?10)`,
  ).run(
    cmd.jobId,
    cmd.spec.kind,
    JSON.stringify(cmd.spec),
    requirementSet,
    cmd.priority,
    cmd.timeoutMs,
    cmd.maxAttempts,
    cmd.retryOnFailure ? 1 : 0,
    cmd.backoffMs,
    cmd.at,
  );
  return success(getJob(db, cmd.jobId)!);
}

function requirementSetId(db: Database, requires: string[]): number {
  const key = JSON.stringify(requires);
  db.query("INSERT OR IGNORE INTO requirement_sets (requires) VALUES (?)").run(key);
  return db.query<{ id: number }, [string]>("SELECT id FROM requirement_sets WHERE requires = ?").get(key)!.id;
}
