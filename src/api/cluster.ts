/**
 * Schemas of the cluster: the replication messages coordinators exchange under /v1/replicate/
 * (the Raft core's messages, as JSON), and the membership API under /v1/cluster.
 */
import { t, type Static } from "elysia";
import { JsonInteger, strict } from "./common";

const NodeId = t.String({ minLength: 1, maxLength: 2_048 });
const Index = JsonInteger({ minimum: 0 });
const Envelope = { from: NodeId, to: NodeId, term: Index };

const Entry = t.Object(
  { index: Index, term: Index, type: t.Union([t.Literal("normal"), t.Literal("noop"), t.Literal("config")]), data: t.String() },
  strict,
);
const Membership = t.Object({ voters: t.Array(NodeId), learners: t.Array(NodeId) }, strict);
const SnapshotMeta = t.Object({ index: Index, term: Index, membership: Membership, data: t.String() }, strict);

export const RaftMessage = t.Union([
  t.Object({ ...Envelope, type: t.Literal("preVote"), lastIndex: Index, lastTerm: Index }, strict),
  t.Object({ ...Envelope, type: t.Literal("vote"), lastIndex: Index, lastTerm: Index, transfer: t.Boolean() }, strict),
  t.Object({ ...Envelope, type: t.Union([t.Literal("preVoteResponse"), t.Literal("voteResponse")]), granted: t.Boolean() }, strict),
  t.Object({ ...Envelope, type: t.Literal("append"), prevIndex: Index, prevTerm: Index, entries: t.Array(Entry), commit: Index }, strict),
  t.Object(
    { ...Envelope, type: t.Literal("appendResponse"), reject: t.Boolean(), index: Index, hintIndex: Index, hintTerm: Index },
    strict,
  ),
  t.Object({ ...Envelope, type: t.Literal("heartbeat"), commit: Index, readSeq: Index }, strict),
  t.Object({ ...Envelope, type: t.Literal("heartbeatResponse"), readSeq: Index }, strict),
  t.Object({ ...Envelope, type: t.Literal("snapshot"), snapshot: SnapshotMeta }, strict),
  t.Object({ ...Envelope, type: t.Literal("timeoutNow") }, strict),
]);

export const ReplicateMessagesBody = t.Object({ messages: t.Array(RaftMessage, { maxItems: 100_000 }) }, strict);
export type ReplicateMessagesBody = Static<typeof ReplicateMessagesBody>;

/** `POST /v1/replicate/snapshot` carries the image as its body and this message, URI-encoded JSON, in a header. */
export const ReplicateSnapshotMeta = t.Object({ ...Envelope, type: t.Literal("snapshot"), snapshot: SnapshotMeta }, strict);

export const ClusterMemberBody = t.Object(
  { url: t.String({ pattern: "^https?://[^\\s]+$", maxLength: 2_048, description: "the coordinator's advertised URL, e.g. http://10.0.0.4:8787" }) },
  strict,
);
export type ClusterMemberBody = Static<typeof ClusterMemberBody>;

export const ClusterMember = t.Object({
  url: t.String(),
  role: t.Union([t.Literal("voter"), t.Literal("learner")]),
  leader: t.Boolean(),
  /** Replication progress as the leader sees it (null unless this node is the leader, and for itself). */
  match: t.Union([JsonInteger(), t.Null()]),
});
export type ClusterMember = Static<typeof ClusterMember>;

export const ClusterStatus = t.Object({
  self: t.String(),
  role: t.String({ description: "leader, follower, candidate; learner members are followers that do not vote" }),
  leader: t.Union([t.String(), t.Null()]),
  term: JsonInteger(),
  commit: JsonInteger(),
  applied: JsonInteger(),
  snapshotIndex: JsonInteger(),
  members: t.Array(ClusterMember),
});
export type ClusterStatus = Static<typeof ClusterStatus>;

export const ClusterChangeResponse = t.Object({ ok: t.Boolean(), message: t.String(), status: ClusterStatus });
export type ClusterChangeResponse = Static<typeof ClusterChangeResponse>;

/** 503 while the cluster has no leader (or lost it mid-request): retry after `retry-after` seconds. */
export const NoLeaderBody = t.Object({ error: t.String(), message: t.String(), leader: t.Union([t.String(), t.Null()]) });
export type NoLeaderBody = Static<typeof NoLeaderBody>;
