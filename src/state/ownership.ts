/**
 * Read queries behind the roles (src/coordinator/auth/): who a host credential belongs to, who
 * submitted a job and which host holds it, and a submitter's own jobs.
 */
import type { Database } from "bun:sqlite";
import type { Job, JobState } from "../api";
import { JOB_COLUMNS, toJob, type JobRow } from "./rows";

/** The host whose credential hashes to `credentialHash` and whether it was revoked; null when the credential is unknown. */
export function hostByCredentialHash(db: Database, credentialHash: string): { id: string; revoked: boolean } | null {
  const row = db
    .query<{ id: string; revoked: number }, [string]>("SELECT id, revoked_at IS NOT NULL AS revoked FROM hosts WHERE credential_hash = ?")
    .get(credentialHash);
  return row === null ? null : { id: row.id, revoked: row.revoked === 1 };
}

export function hostExists(db: Database, hostId: string): boolean {
  return db.query("SELECT 1 FROM hosts WHERE id = ?").get(hostId) !== null;
}

export interface JobOwnership {
  submitter: string | null;
  /** The host holding the current lease, null when the job is not leased. */
  hostId: string | null;
}

export function jobOwnership(db: Database, jobId: string): JobOwnership | null {
  const row = db.query<{ submitter: string | null; host_id: string | null }, [string]>("SELECT submitter, host_id FROM jobs WHERE id = ?").get(jobId);
  return row === null ? null : { submitter: row.submitter, hostId: row.host_id };
}

/** listJobs restricted to one submitter: newest first, paged by `beforeSeq`. */
export function listJobsOfSubmitter(
  db: Database,
  submitter: string,
  options: { state?: JobState; limit: number; beforeSeq?: number },
): { jobs: Job[]; nextCursor: string | null } {
  const before = options.beforeSeq ?? Number.MAX_SAFE_INTEGER;
  const rows = db
    .query<JobRow, [string, string | null, number, number]>(
      `SELECT ${JOB_COLUMNS} FROM jobs INDEXED BY jobs_by_submitter
       WHERE jobs.submitter = ?1 AND (?2 IS NULL OR jobs.state = ?2) AND jobs.seq < ?3 ORDER BY jobs.seq DESC LIMIT ?4`,
    )
    .all(submitter, options.state ?? null, before, options.limit + 1);
  const page = rows.slice(0, options.limit);
  const last = page.at(-1);
  return { jobs: page.map(toJob), nextCursor: rows.length > options.limit && last !== undefined ? String(last.seq) : null };
}

export function hostCredentialHashOf(db: Database, hostId: string): string | null {
  return db.query<{ credential_hash: string | null }, [string]>("SELECT credential_hash FROM hosts WHERE id = ?").get(hostId)?.credential_hash ?? null;
}
