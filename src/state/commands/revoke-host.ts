import type { Database } from "bun:sqlite";
import type { Host } from "../../api";
import type { RevokeHostCommand } from "../commands";
import { refusal, success, type CommandResult } from "../commands";
import { getHost } from "../queries";

export interface RevokeHostResult {
  host: Host;
  /** Jobs the host held, queued again for another host (available at once). */
  requeued: string[];
  /** Held jobs whose cancel was pending: cancelled instead of requeued. */
  cancelled: string[];
}

/**
 * revokeHost — pre: the host is registered. post: its credential no longer grants anything
 * (every call made with it is refused as revoked; its hash is kept so the refusal can say so,
 * instead of leaving the host to guess whether the coordinator lost its state), `revoked_at` is
 * set (first revocation wins), it is `lost`
 * and may never register or claim again under this id; every job leased to it is `queued`
 * again at once with its attempt kept (the next claim fences the old one out), or `cancelled`
 * when a cancel was pending. Revoking twice changes nothing more.
 */
export function revokeHost(db: Database, cmd: RevokeHostCommand): CommandResult<RevokeHostResult> {
  const touched = db
    .query("UPDATE hosts SET revoked_at = coalesce(revoked_at, ?2), state = 'lost' WHERE id = ?1")
    .run(cmd.hostId, cmd.at);
  if (touched.changes === 0) return refusal("not_found", `no host with id "${cmd.hostId}"`, "id");
  const why = `host "${cmd.hostId}" was revoked`;
  const cancelled = db
    .query<{ id: string }, [string, number, string]>(
      `UPDATE jobs SET state = 'cancelled', host_id = NULL, lease_expires_at = NULL, finished_at = ?2, updated_at = ?2, last_error = ?3
       WHERE host_id = ?1 AND state = 'leased' AND cancel_requested_at IS NOT NULL RETURNING id`,
    )
    .all(cmd.hostId, cmd.at, why)
    .map((row) => row.id);
  const requeued = db
    .query<{ id: string }, [string, number, string]>(
      `UPDATE jobs SET state = 'queued', host_id = NULL, lease_expires_at = NULL, available_at = ?2, updated_at = ?2, last_error = ?3
       WHERE host_id = ?1 AND state = 'leased' RETURNING id`,
    )
    .all(cmd.hostId, cmd.at, why)
    .map((row) => row.id);
  return success({ host: getHost(db, cmd.hostId)!, requeued: requeued.sort(), cancelled: cancelled.sort() });
}
