/**
 * Tunables of the Raft core. Time is counted in ticks (the driver decides how long a tick is);
 * randomness comes from the injected `random` so a seeded driver replays exactly.
 */
import type { NodeId } from "./messages";

export interface RaftOptions {
  id: NodeId;
  /** Uniform in [0, 1); used only to randomize election timeouts. */
  random: () => number;
  /** A follower that hears from no leader for [electionTicks, 2·electionTicks) ticks campaigns. */
  electionTicks?: number;
  heartbeatTicks?: number;
  /** Batching: at most this many entries, and about this many bytes of data, per AppendEntries. */
  maxEntriesPerAppend?: number;
  maxBytesPerAppend?: number;
  /** Pipelining: unacknowledged AppendEntries allowed per follower in the replicate state. */
  maxInflightAppends?: number;
  /** An entry commits once stored on max(majority, min(minReplications, voters)) voters. */
  minReplications?: number;
  /** A snapshot unanswered for this long is considered lost and is sent again. */
  snapshotTimeoutTicks?: number;
  /** A learner is promotable once at most this many entries behind the leader. */
  maxPromoteLagEntries?: number;
}

export type ResolvedRaftOptions = Required<RaftOptions>;

export function resolveOptions(options: RaftOptions): ResolvedRaftOptions {
  const electionTicks = options.electionTicks ?? 10;
  const resolved: ResolvedRaftOptions = {
    id: options.id,
    random: options.random,
    electionTicks,
    heartbeatTicks: options.heartbeatTicks ?? 1,
    maxEntriesPerAppend: options.maxEntriesPerAppend ?? 512,
    maxBytesPerAppend: options.maxBytesPerAppend ?? 1 << 20,
    maxInflightAppends: options.maxInflightAppends ?? 64,
    minReplications: options.minReplications ?? 1,
    snapshotTimeoutTicks: options.snapshotTimeoutTicks ?? electionTicks * 5,
    maxPromoteLagEntries: options.maxPromoteLagEntries ?? 64,
  };
  for (const key of ["electionTicks", "heartbeatTicks", "maxEntriesPerAppend", "maxBytesPerAppend", "maxInflightAppends", "minReplications", "snapshotTimeoutTicks"] as const) {
    if (!Number.isInteger(resolved[key]) || resolved[key] < 1) throw new RangeError(`raft option ${key} must be a positive integer, got ${resolved[key]}`);
  }
  if (resolved.heartbeatTicks >= resolved.electionTicks) {
    throw new RangeError(`raft option heartbeatTicks (${resolved.heartbeatTicks}) must be below electionTicks (${resolved.electionTicks})`);
  }
  return resolved;
}
