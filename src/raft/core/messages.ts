/**
 * The vocabulary of the Raft core: log entries, membership, snapshots, persisted hard state and
 * the messages nodes exchange. Everything here is plain JSON so a transport can send it as is.
 */
export type NodeId = string;

/** `noop` is the entry a new leader appends; `config` carries a JSON `Membership` in `data`. */
export type EntryType = "normal" | "noop" | "config";

export interface Entry {
  index: number;
  term: number;
  type: EntryType;
  /** Opaque to the core (for `config` entries: the membership, see `encodeMembership`). */
  data: string;
}

export interface Membership {
  voters: NodeId[];
  learners: NodeId[];
}

export interface Snapshot {
  /** Last log index the snapshot covers, and that entry's term. */
  index: number;
  term: number;
  membership: Membership;
  /** Opaque state-machine image, produced and installed by the driver. */
  data: string;
}

/** What must be on disk before any message of the same Ready is sent. */
export interface HardState {
  term: number;
  vote: NodeId | null;
  commit: number;
}

export type Role = "follower" | "preCandidate" | "candidate" | "leader";

/** Volatile state the driver may want to observe (routing to the leader, serving reads). */
export interface SoftState {
  leader: NodeId | null;
  role: Role;
  membership: Membership;
}

interface Envelope {
  from: NodeId;
  to: NodeId;
  term: number;
}

/** Sent by a pre-candidate with `term` = its term + 1; receivers change no state when answering. */
export interface PreVoteMessage extends Envelope {
  type: "preVote";
  lastIndex: number;
  lastTerm: number;
}

export interface VoteMessage extends Envelope {
  type: "vote";
  lastIndex: number;
  lastTerm: number;
  /** Set when campaigning after TimeoutNow: voters then disregard their leader lease. */
  transfer: boolean;
}

export interface VoteResponseMessage extends Envelope {
  type: "preVoteResponse" | "voteResponse";
  granted: boolean;
}

export interface AppendMessage extends Envelope {
  type: "append";
  prevIndex: number;
  prevTerm: number;
  entries: Entry[];
  commit: number;
}

/**
 * Success: `index` is the follower's last index matching the leader. Rejection: `index` is the
 * rejected prevIndex, and (`hintIndex`, `hintTerm`) the follower's last entry that may still match,
 * which lets the leader skip a whole conflicting term per round trip.
 */
export interface AppendResponseMessage extends Envelope {
  type: "appendResponse";
  reject: boolean;
  index: number;
  hintIndex: number;
  hintTerm: number;
}

/** `readSeq` is echoed back so the leader can confirm read-index requests issued before it. */
export interface HeartbeatMessage extends Envelope {
  type: "heartbeat";
  commit: number;
  readSeq: number;
}

export interface HeartbeatResponseMessage extends Envelope {
  type: "heartbeatResponse";
  readSeq: number;
}

export interface SnapshotMessage extends Envelope {
  type: "snapshot";
  snapshot: Snapshot;
}

/** Leadership transfer: the target starts an election at once, skipping pre-vote. */
export interface TimeoutNowMessage extends Envelope {
  type: "timeoutNow";
}

export type Message =
  | PreVoteMessage
  | VoteMessage
  | VoteResponseMessage
  | AppendMessage
  | AppendResponseMessage
  | HeartbeatMessage
  | HeartbeatResponseMessage
  | SnapshotMessage
  | TimeoutNowMessage;

/** A message before the node stamps `from` and `term` on it. */
export type Outgoing = Message extends infer M ? (M extends Message ? Omit<M, "from" | "term"> & { term?: number } : never) : never;
