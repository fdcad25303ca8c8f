/**
 * Idempotency records: the result a key produced, replayed for the same request and refused
 * for a different one. Used by the state machine (authoritative, inside apply) and by the
 * coordinator as a fast path that avoids logging a replay.
 */
import type { Database } from "bun:sqlite";
import { refusal, type CommandResult, type IdempotencyStamp } from "./commands";

/** The stored outcome for this key at time `at`, or null when the key is unused or expired. */
export function idempotentReplay(db: Database, stamp: IdempotencyStamp, at: number): CommandResult | null {
  const record = db
    .query<{ request_hash: string; result: string }, [string, number]>(
      "SELECT request_hash, result FROM idempotency_records WHERE key = ? AND expires_at > ?",
    )
    .get(stamp.key, at);
  if (record === null) return null;
  if (record.request_hash === stamp.requestHash) return JSON.parse(record.result) as CommandResult;
  return refusal(
    "idempotency_conflict",
    `idempotency key "${stamp.key}" was already used for a different request; use a new key for a new request`,
    "x-idempotency-key",
  );
}

export function recordIdempotentResult(db: Database, stamp: IdempotencyStamp, at: number, result: CommandResult): void {
  db.query("INSERT OR REPLACE INTO idempotency_records (key, request_hash, result, expires_at) VALUES (?, ?, ?, ?)").run(
    stamp.key,
    stamp.requestHash,
    JSON.stringify(result),
    at + stamp.ttlMs,
  );
}
