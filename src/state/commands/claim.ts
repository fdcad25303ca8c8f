import type { Database } from "bun:sqlite";
import type { Job } from "../../api";
import type { ClaimCommand } from "../commands";
import { refusal, success, type CommandResult } from "../commands";
import { getHost, getJobBySeq, nextClaimableJob, satisfiedRequirementSets } from "../queries";
import { LIVE_STATE, revokedRefusal } from "./hosts";

/**
 * claim — pre: the host is registered and not revoked. post: up to min(maxJobs, free slots) queued jobs whose
 * every requirement the host has, best priority first then oldest, are `leased` to the host
 * with attempt + 1 and a lease until at + leaseMs. A draining host gets none; a lost host that
 * claims is alive, so it becomes active (or draining) again.
 */
export function claim(db: Database, cmd: ClaimCommand): CommandResult<{ jobs: Job[] }> {
  const host = getHost(db, cmd.hostId);
  if (host === null) return refusal("not_found", `no host with id "${cmd.hostId}"; register first`, "id");
  if (host.revokedAt !== null) return revokedRefusal(cmd.hostId);
  db.query(`UPDATE hosts SET last_heartbeat_at = ?2, state = ${LIVE_STATE} WHERE id = ?1`).run(cmd.hostId, cmd.at);
  // Hearing from a host leaves an active or draining one as it was, so only a lost one's new
  // state is read back (RETURNING on every claim made this statement 1.6 times as costly).
  const liveState =
    host.state !== "lost" ? host.state : db.query<{ state: string }, [string]>("SELECT state FROM hosts WHERE id = ?").get(cmd.hostId)!.state;
  if (liveState === "draining") return success({ jobs: [] });

  const wanted = Math.min(cmd.maxJobs, host.slots - host.runningJobs);
  if (wanted <= 0) return success({ jobs: [] });
  const requirementSets = satisfiedRequirementSets(db, host.capabilities);
  const lease = db.query(
    `UPDATE jobs SET state = 'leased', attempt = attempt + 1, host_id = ?2, lease_expires_at = ?3, updated_at = ?4
     WHERE seq = ?1`,
  );
  const jobs: Job[] = [];
  while (jobs.length < wanted) {
    const next = nextClaimableJob(db, requirementSets, cmd.at);
    if (next === null) break;
    lease.run(next.seq, cmd.hostId, cmd.at + cmd.leaseMs, cmd.at);
    jobs.push(getJobBySeq(db, next.seq)!);
  }
  return success({ jobs });
}

/** The lease a claim grants each job it takes. */
export interface Lease {
  hostId: string;
  at: number;
  leaseExpiresAt: number;
}

/**
 * The view a claim answers for a job leased for the first time: the job as created, with the
 * lease. Idempotency records rebuild a claim's answer with it (idempotency.ts).
 */
export function firstLeaseView(created: Job, lease: Lease): Job {
  return { ...created, state: "leased", attempt: 1, hostId: lease.hostId, leaseExpiresAt: lease.leaseExpiresAt, updatedAt: lease.at };
}
