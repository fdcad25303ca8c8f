/**
 * Durations the Raft driver and its transport measure, in seconds, for whoever wants them (the
 * coordinator's metrics). These are where a replicated write spends its time: the leader's
 * fsync, the round trip to a follower (which makes the batch durable before answering), and the
 * whole wait of a proposal.
 */
import type { NodeId } from "../core";

export interface RaftTimings {
  /** A proposal on this node: from propose() until its entry is committed and applied here. */
  proposal(seconds: number): void;
  /** One fsync of the Raft log. */
  logFsync(seconds: number): void;
  /** A batch of messages sent to `peer`, until its answer. */
  peerRoundTrip(peer: NodeId, seconds: number): void;
}
