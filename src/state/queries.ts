/**
 * Read queries over the state tables: one named function per question. They never write, so
 * routes may call them directly without going through the log.
 */
import type { Database } from "bun:sqlite";
import type { Host, Job, JobState, OutputChunk } from "../api";
import { HOST_COLUMNS, JOB_COLUMNS, toHost, toJob, type HostRow, type JobRow } from "./rows";

export function getJob(db: Database, jobId: string): Job | null {
  const row = db.query<JobRow, [string]>(`SELECT ${JOB_COLUMNS} FROM jobs WHERE jobs.id = ?`).get(jobId);
  return row === null ? null : toJob(row);
}

export function getJobBySeq(db: Database, seq: number): Job | null {
  const row = db.query<JobRow, [number]>(`SELECT ${JOB_COLUMNS} FROM jobs WHERE jobs.seq = ?`).get(seq);
  return row === null ? null : toJob(row);
}

/** Newest first. `beforeSeq` is the cursor returned by the previous page. */
export function listJobs(
  db: Database,
  options: { state?: JobState; limit: number; beforeSeq?: number },
): { jobs: Job[]; nextCursor: string | null } {
  const before = options.beforeSeq ?? Number.MAX_SAFE_INTEGER;
  const rows =
    options.state === undefined
      ? db
          .query<JobRow, [number, number]>(`SELECT ${JOB_COLUMNS} FROM jobs WHERE jobs.seq < ? ORDER BY jobs.seq DESC LIMIT ?`)
          .all(before, options.limit + 1)
      : db
          .query<JobRow, [string, number, number]>(
            `SELECT ${JOB_COLUMNS} FROM jobs WHERE jobs.state = ? AND jobs.seq < ? ORDER BY jobs.seq DESC LIMIT ?`,
          )
          .all(options.state, before, options.limit + 1);
  const page = rows.slice(0, options.limit);
  const last = page.at(-1);
  return {
    jobs: page.map(toJob),
    nextCursor: rows.length > options.limit && last !== undefined ? String(last.seq) : null,
  };
}

export function getHost(db: Database, hostId: string): Host | null {
  const row = db.query<HostRow, [string]>(`SELECT ${HOST_COLUMNS} FROM hosts WHERE hosts.id = ?`).get(hostId);
  return row === null ? null : toHost(row);
}

export function listHosts(db: Database): Host[] {
  return db.query<HostRow, []>(`SELECT ${HOST_COLUMNS} FROM hosts ORDER BY hosts.registered_at, hosts.id`).all().map(toHost);
}

export function jobCountsByState(db: Database): Record<string, number> {
  const counts: Record<string, number> = { queued: 0, leased: 0, succeeded: 0, failed: 0, cancelled: 0, dead: 0 };
  for (const row of db.query<{ state: string; n: number }, []>("SELECT state, count(*) AS n FROM jobs GROUP BY state").all()) {
    counts[row.state] = row.n;
  }
  return counts;
}

export function queueByRequirements(db: Database): { requires: string[]; queued: number }[] {
  return db
    .query<{ requires: string; queued: number }, []>(
      `SELECT requirement_sets.requires, count(*) AS queued FROM jobs JOIN requirement_sets ON requirement_sets.id = jobs.requirement_set
       WHERE jobs.state = 'queued' GROUP BY jobs.requirement_set ORDER BY queued DESC`,
    )
    .all()
    .map((row) => ({ requires: JSON.parse(row.requires), queued: row.queued }));
}

/**
 * Queued jobs of every requirement set ever seen, 0 for those with none queued: a metrics series
 * must fall to 0 when its queue empties, not vanish.
 */
export function queueDepthOfEveryRequirementSet(db: Database): { requires: string[]; queued: number }[] {
  return db
    .query<{ requires: string; queued: number }, []>(
      `SELECT requirement_sets.requires,
         (SELECT count(*) FROM jobs WHERE jobs.requirement_set = requirement_sets.id AND jobs.state = 'queued') AS queued
       FROM requirement_sets ORDER BY requirement_sets.id`,
    )
    .all()
    .map((row) => ({ requires: JSON.parse(row.requires), queued: row.queued }));
}

export function lastApplied(db: Database): number {
  return db.query<{ value: number }, []>("SELECT value FROM state_meta WHERE key = 'last_applied'").get()?.value ?? 0;
}

export function outputAfter(db: Database, jobId: string, afterSeq: number, limit: number): OutputChunk[] {
  return db
    .query<OutputChunk, [string, number, number]>(
      "SELECT seq, attempt, stream, data, at FROM job_output WHERE job_id = ? AND seq > ? ORDER BY seq LIMIT ?",
    )
    .all(jobId, afterSeq, limit);
}

/** Parsed requirement lists by their stored JSON text; the text is the key, so the cache is never stale. */
const parsedRequirements = new Map<string, readonly string[]>();

function parseRequirements(text: string): readonly string[] {
  let parsed = parsedRequirements.get(text);
  if (parsed === undefined) parsedRequirements.set(text, (parsed = JSON.parse(text) as string[]));
  return parsed;
}

/** Requirement sets a host with these capabilities satisfies (every required capability present). */
export function satisfiedRequirementSets(db: Database, capabilities: readonly string[]): number[] {
  const have = new Set(capabilities);
  return db
    .query<{ id: number; requires: string }, []>("SELECT id, requires FROM requirement_sets")
    .all()
    .filter((set) => parseRequirements(set.requires).every((cap) => have.has(cap)))
    .map((set) => set.id);
}

/**
 * The best claimable job for a host: highest priority, then oldest, among sets it satisfies.
 *
 * `requirement_set = CAST(?1 AS INTEGER)`, not `= ?1`: with a bare parameter beside the ORDER BY,
 * SQLite 3.54 spends about 10 µs more per call (11.4 µs against 1.4 µs inside one transaction,
 * measured on a bench database; same query plan, same rows).
 */
export function nextClaimableJob(db: Database, requirementSets: readonly number[], at: number): { seq: number; priority: number } | null {
  let best: { seq: number; priority: number } | null = null;
  const query = db.query<{ seq: number; priority: number }, [number, number]>(
    `SELECT seq, priority FROM jobs INDEXED BY jobs_queue
     WHERE state = 'queued' AND requirement_set = CAST(?1 AS INTEGER) AND available_at <= ?2
     ORDER BY priority DESC, seq LIMIT 1`,
  );
  for (const set of requirementSets) {
    const candidate = query.get(set, at);
    if (candidate === null) continue;
    if (best === null || candidate.priority > best.priority || (candidate.priority === best.priority && candidate.seq < best.seq)) {
      best = candidate;
    }
  }
  return best;
}

/** Per requirement set, how many jobs are claimable at `at`, counting at most `limit` each. */
export function claimableWork(db: Database, at: number, limit: number): { requires: readonly string[]; claimable: number }[] {
  const count = db.query<{ n: number }, [number, number, number]>(
    `SELECT count(*) AS n FROM (SELECT 1 FROM jobs INDEXED BY jobs_queue
       WHERE state = 'queued' AND requirement_set = ? AND available_at <= ? LIMIT ?)`,
  );
  const work: { requires: readonly string[]; claimable: number }[] = [];
  for (const set of db.query<{ id: number; requires: string }, []>("SELECT id, requires FROM requirement_sets").all()) {
    const claimable = count.get(set.id, at, limit)?.n ?? 0;
    if (claimable > 0) work.push({ requires: parseRequirements(set.requires), claimable });
  }
  return work;
}

/** Earliest moment a lease expires or a live host times out: when `expireLeases` has work. */
export function nextDeadline(db: Database, hostTimeoutMs: number): number | null {
  const lease = db.query<{ due: number | null }, []>("SELECT min(lease_expires_at) AS due FROM jobs WHERE state = 'leased'").get();
  const host = db
    .query<{ due: number | null }, [number]>("SELECT min(last_heartbeat_at) + ? AS due FROM hosts WHERE state != 'lost'")
    .get(hostTimeoutMs);
  const candidates = [lease?.due, host?.due].filter((due): due is number => typeof due === "number");
  return candidates.length === 0 ? null : Math.min(...candidates);
}

/** Expiry of the oldest idempotency record: expireLeases prunes from there (see leases.ts). */
export function oldestIdempotencyExpiry(db: Database): number | null {
  return db.query<{ due: number }, []>("SELECT expires_at AS due FROM idempotency_records ORDER BY rowid LIMIT 1").get()?.due ?? null;
}
