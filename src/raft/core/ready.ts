/**
 * The contract between the core and its driver. The driver repeatedly takes a Ready and, in this
 * order: persists `snapshot` (it replaces the whole log), then `entries` (an entry at index i
 * replaces any stored entry at i and after), then `hardState` — all durably; then sends
 * `messages`; then applies `committedEntries` (and installs `snapshot` into the state machine);
 * then calls `advance(ready)`.
 */
import type { Entry, HardState, Membership, Message, NodeId, SoftState, Snapshot } from "./messages";
import type { ReadState } from "./read-index";

export type { ReadState };

export interface Ready {
  /** Present only when it changed since the last Ready. */
  softState: SoftState | null;
  hardState: HardState | null;
  snapshot: Snapshot | null;
  entries: Entry[];
  messages: Message[];
  committedEntries: Entry[];
  /** Confirmed read-index requests: serve each once `index` is applied. */
  readStates: ReadState[];
  /** Read-index requests that will never be confirmed here (leadership was lost): fail them. */
  droppedReads: string[];
}

export interface PersistedState {
  hardState: HardState;
  snapshot: Snapshot | null;
  entries: Entry[];
}

export type RefusalReason = "notLeader" | "transferring" | "configChangePending" | "invalidChange";

export interface Refusal {
  ok: false;
  reason: RefusalReason;
  /** The leader this node knows of, for the caller to retry there. */
  leader: NodeId | null;
  message: string;
}

export type ProposeResult = { ok: true; index: number; term: number } | Refusal;

export type OperationResult = { ok: true } | Refusal;

export type MembershipChange =
  | { type: "addLearner"; node: NodeId }
  | { type: "promote"; node: NodeId }
  | { type: "remove"; node: NodeId };

export interface NodeStatus {
  id: NodeId;
  role: SoftState["role"];
  leader: NodeId | null;
  term: number;
  vote: NodeId | null;
  commit: number;
  applied: number;
  /** Index of the latest snapshot (persisted or still being installed), 0 if none. */
  snapshotIndex: number;
  firstIndex: number;
  lastIndex: number;
  membership: Membership;
}
