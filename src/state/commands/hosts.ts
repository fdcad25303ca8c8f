/** State-machine commands about hosts: registerHost, heartbeat, drainHost. */
import type { Database } from "bun:sqlite";
import type { HeartbeatResponse, Host, LeaseRef } from "../../api";
import type { DrainHostCommand, HeartbeatCommand, RegisterHostCommand } from "../commands";
import { refusal, success, type CommandResult } from "../commands";
import { getHost } from "../queries";
import { canonicalSet } from "../rows";

/**
 * registerHost — pre: the id was never revoked (a known id re-registers). post: the host row
 * exists with the given name, capabilities, slots and version, state `active` (re-registering
 * is how a drained or lost host comes back), last heartbeat = at; its credential hash is
 * `credentialHash` when given, else unchanged.
 */
export function registerHost(db: Database, cmd: RegisterHostCommand): CommandResult<Host> {
  if (isRevoked(db, cmd.hostId)) return revokedRefusal(cmd.hostId);
  db.query(
    `INSERT INTO hosts (id, name, capabilities, slots, version, state, registered_at, last_heartbeat_at, credential_hash)
     VALUES (?1, ?2, ?3, ?4, ?5, 'active', ?6, ?6, ?7)
     ON CONFLICT (id) DO UPDATE SET name = ?2, capabilities = ?3, slots = ?4, version = ?5,
       state = 'active', last_heartbeat_at = ?6, drain_requested_at = NULL, credential_hash = coalesce(?7, credential_hash)`,
  ).run(cmd.hostId, cmd.name, JSON.stringify(canonicalSet(cmd.capabilities)), cmd.slots, cmd.version, cmd.at, cmd.credentialHash ?? null);
  return success(getHost(db, cmd.hostId)!);
}

export function isRevoked(db: Database, hostId: string): boolean {
  return db.query<{ revoked: number }, [string]>("SELECT revoked_at IS NOT NULL AS revoked FROM hosts WHERE id = ?").get(hostId)?.revoked === 1;
}

export function revokedRefusal(hostId: string): CommandResult<never> {
  return refusal("host_not_active", `host "${hostId}" was revoked; register a new host (without this id)`, "id");
}

/** The state of a host that was just heard from: draining if a drain was requested, else active. */
export const LIVE_STATE = "CASE WHEN drain_requested_at IS NOT NULL THEN 'draining' ELSE 'active' END";

/**
 * heartbeat — pre: the host is registered and not revoked. post: last heartbeat = at; a `lost` host is active
 * again (or draining, if a drain was requested before it was lost); every lease in `running` that the host still holds is renewed to at + leaseMs. The
 * result tells the host which of its jobs to cancel, which leases it no longer holds, and
 * whether to drain.
 */
export function heartbeat(db: Database, cmd: HeartbeatCommand): CommandResult<HeartbeatResponse> {
  if (isRevoked(db, cmd.hostId)) return revokedRefusal(cmd.hostId);
  const touched = db
    .query(
      `UPDATE hosts SET last_heartbeat_at = ?2, state = ${LIVE_STATE} WHERE id = ?1`,
    )
    .run(cmd.hostId, cmd.at);
  if (touched.changes === 0) return refusal("not_found", `no host with id "${cmd.hostId}"; register first`, "hostId");

  const leaseExpiresAt = cmd.at + cmd.leaseMs;
  const renew = db.query<{ cancel_requested_at: number | null }, [number, string, string, number]>(
    `UPDATE jobs SET lease_expires_at = ?1 WHERE id = ?2 AND host_id = ?3 AND attempt = ?4 AND state = 'leased'
     RETURNING cancel_requested_at`,
  );
  const renewed: HeartbeatResponse["renewed"] = [];
  const cancel: LeaseRef[] = [];
  const lost: LeaseRef[] = [];
  for (const lease of cmd.running) {
    const row = renew.get(leaseExpiresAt, lease.jobId, cmd.hostId, lease.attempt);
    if (row === null) {
      lost.push(lease);
      continue;
    }
    renewed.push({ ...lease, leaseExpiresAt });
    if (row.cancel_requested_at !== null) cancel.push(lease);
  }
  const host = getHost(db, cmd.hostId)!;
  return success({ host, renewed, cancel, lost, drain: host.state === "draining" });
}

/**
 * drainHost — pre: the host is registered. post: state `draining`: it gets no new jobs, keeps
 * its leases, and learns to exit at its next heartbeat.
 */
export function drainHost(db: Database, cmd: DrainHostCommand): CommandResult<Host> {
  const touched = db
    .query("UPDATE hosts SET state = 'draining', drain_requested_at = coalesce(drain_requested_at, ?2) WHERE id = ?1")
    .run(cmd.hostId, cmd.at);
  if (touched.changes === 0) return refusal("not_found", `no host with id "${cmd.hostId}"`, "id");
  return success(getHost(db, cmd.hostId)!);
}
