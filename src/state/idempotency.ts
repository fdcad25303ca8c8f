/**
 * Idempotency records: the result a key produced, replayed for the same request and refused
 * for a different one. Used by the state machine (authoritative, inside apply) and by the
 * coordinator as a fast path that avoids logging a replay.
 */
import type { Database } from "bun:sqlite";
import { refusal, success, type Command, type CommandResult, type IdempotencyStamp } from "./commands";
import { createdJobViewOf } from "./commands/enqueue";

/**
 * What a record holds: the result itself, or, for an enqueue that created its job, only the job's
 * id. An enqueue answers the job as created, which its unchanging columns rebuild exactly, and
 * enqueues are most of the records: a few dozen bytes each instead of the whole job view.
 */
type StoredResult = CommandResult | { created: string };

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
  const stored: StoredResult = command.type === "enqueue" && result.ok ? { created: command.jobId } : result;
  db.query("INSERT OR REPLACE INTO idempotency_records (key, request_hash, result, expires_at) VALUES (?, ?, ?, ?)").run(
    stamp.key,
    stamp.requestHash,
    JSON.stringify(stored),
    command.at + stamp.ttlMs,
  );
}

function replayOf(db: Database, stored: StoredResult): CommandResult {
  if ("ok" in stored) return stored;
  const job = createdJobViewOf(db, stored.created);
  // Jobs are never deleted, so this is a bug; it is not worth replaying (and is not recorded).
  return job === null ? refusal("internal", `the job "${stored.created}" this request created is missing`) : success(job);
}
