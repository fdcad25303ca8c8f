import type { Database } from "bun:sqlite";
import type { AppendOutputResponse } from "../../api";
import type { AppendOutputCommand } from "../commands";
import { success, type CommandResult } from "../commands";
import { checkLease } from "./leases";

/**
 * appendOutput — pre: the lease (jobId, hostId, attempt) is current. post: the chunks are
 * stored in order after the job's last chunk. Stored output per job stays within
 * maxOutputBytes: the first half is kept as the head; past it a marker chunk is written once
 * and the oldest chunks after the marker are dropped, so the rest is a rolling tail. A chunk
 * larger than the whole tail keeps only its last bytes, cut on a character boundary.
 */
export function appendOutput(db: Database, cmd: AppendOutputCommand): CommandResult<AppendOutputResponse> {
  const check = checkLease(db, cmd.jobId, cmd.hostId, cmd.attempt);
  if (!check.ok) return check;
  const job = db
    .query<{ output_seq: number; output_bytes: number; output_marker_seq: number | null }, [string]>(
      "SELECT output_seq, output_bytes, output_marker_seq FROM jobs WHERE id = ?",
    )
    .get(cmd.jobId)!;
  let seq = job.output_seq;
  let bytes = job.output_bytes;
  let markerSeq = job.output_marker_seq;
  const headBudget = Math.floor(cmd.maxOutputBytes / 2);
  const tailBudget = cmd.maxOutputBytes - headBudget;
  const insert = db.query("INSERT INTO job_output (job_id, seq, attempt, stream, data, at) VALUES (?, ?, ?, ?, ?, ?)");

  for (const chunk of cmd.chunks) {
    let data = chunk.data;
    let size = Buffer.byteLength(data);
    if (markerSeq === null && bytes + size > headBudget) {
      markerSeq = ++seq;
      insert.run(cmd.jobId, markerSeq, cmd.attempt, "system", "\n[skyclaw: output truncated; the head and the latest tail are kept]\n", cmd.at);
    }
    // A chunk larger than the whole tail is the latest output: keep its end rather than nothing.
    if (size > tailBudget) {
      data = lastUtf8Bytes(data, tailBudget);
      size = Buffer.byteLength(data);
    }
    if (markerSeq !== null) bytes -= dropOldestTail(db, cmd.jobId, markerSeq, bytes + size - cmd.maxOutputBytes);
    insert.run(cmd.jobId, ++seq, cmd.attempt, chunk.stream, data, cmd.at);
    bytes += size;
  }
  db.query("UPDATE jobs SET output_seq = ?2, output_bytes = ?3, output_marker_seq = ?4, output_truncated = ?5 WHERE id = ?1").run(
    cmd.jobId,
    seq,
    bytes,
    markerSeq,
    markerSeq === null ? 0 : 1,
  );
  return success({ accepted: cmd.chunks.length, truncated: markerSeq !== null });
}

/** Deletes the oldest tail chunks (after the marker) until at least `excess` bytes are freed; returns bytes freed. */
function dropOldestTail(db: Database, jobId: string, markerSeq: number, excess: number): number {
  if (excess <= 0) return 0;
  const oldest = db.query<{ seq: number; size: number }, [string, number]>(
    "SELECT seq, length(CAST(data AS BLOB)) AS size FROM job_output WHERE job_id = ? AND seq > ? ORDER BY seq LIMIT 64",
  );
  const remove = db.query("DELETE FROM job_output WHERE job_id = ? AND seq = ?");
  let freed = 0;
  while (freed < excess) {
    const rows = oldest.all(jobId, markerSeq);
    if (rows.length === 0) break;
    for (const row of rows) {
      remove.run(jobId, row.seq);
      freed += row.size;
      if (freed >= excess) break;
    }
  }
  return freed;
}

/** The longest suffix of `text` that fits in `maxBytes` of UTF-8 and starts on a character boundary. */
function lastUtf8Bytes(text: string, maxBytes: number): string {
  const encoded = Buffer.from(text);
  let start = encoded.length - maxBytes;
  while (start < encoded.length && (encoded[start]! & 0xc0) === 0x80) start++;
  return encoded.subarray(start).toString("utf8");
}
