/**
 * One Raft node as a pure state machine (after etcd-io/raft): the driver feeds it `tick()`,
 * received messages (`step`) and requests (`propose`, `readIndex`, ...), and collects what to do
 * in a `Ready`. No clock, timer, socket, disk or randomness of its own, so a seeded driver
 * replays a run exactly.
 *
 * Elections use pre-vote (a node that cannot win does not bump terms) and check-quorum (a leader
 * that cannot reach a majority steps down; followers that heard from a leader within the election
 * timeout ignore vote requests). Membership changes take effect when the config entry is
 * appended, one server at a time.
 */
import { answerAppend, answerHeartbeat, answerSnapshot } from "./follower";
import { Leader } from "./leader";
import { RaftLog } from "./log";
import { encodeMembership, tallyVotes } from "./membership";
import { applyMembershipChange } from "./membership-change";
import type { Entry, HardState, Membership, Message, NodeId, Outgoing, PreVoteMessage, Role, Snapshot, SoftState, VoteMessage } from "./messages";
import { type RaftOptions, type ResolvedRaftOptions, resolveOptions } from "./options";
import type { MembershipChange, NodeStatus, OperationResult, PersistedState, ProposeResult, ReadState, Ready, Refusal, RefusalReason } from "./ready";

export interface StartOptions {
  /** Initial voters, used only when nothing was ever persisted (a brand-new cluster member). */
  bootstrap?: Membership;
  /** Index the driver's state machine has already applied (at least the snapshot's). */
  appliedIndex?: number;
}

const EMPTY_HARD_STATE: HardState = { term: 0, vote: null, commit: 0 };

export class RaftNode {
  readonly id: NodeId;
  private readonly options: ResolvedRaftOptions;
  private readonly log: RaftLog;
  private term: number;
  private vote: NodeId | null;
  private role: Role = "follower";
  private leaderId: NodeId | null = null;
  private leader: Leader | null = null;
  private votes = new Map<NodeId, boolean>();
  private electionElapsed = 0;
  private randomizedElectionTicks = 0;
  private messages: Message[] = [];
  private readStates: ReadState[] = [];
  private droppedReads: string[] = [];
  private lastHardState: HardState;
  private lastSoftState: SoftState | null = null;

  constructor(options: RaftOptions, persisted: PersistedState | null, start: StartOptions = {}) {
    this.options = resolveOptions(options);
    this.id = options.id;
    const hardState = persisted?.hardState ?? EMPTY_HARD_STATE;
    this.log = new RaftLog({ snapshot: persisted?.snapshot ?? null, entries: persisted?.entries ?? [], commit: hardState.commit }, start.appliedIndex ?? 0);
    this.term = hardState.term;
    this.vote = hardState.vote;
    this.lastHardState = { ...hardState };
    const fresh = hardState.term === 0 && this.log.lastIndex() === 0;
    if (fresh && start.bootstrap) {
      // Every bootstrapping voter writes the same entry 1, so their logs agree from the start.
      this.log.append([{ index: 1, term: 1, type: "config", data: encodeMembership(start.bootstrap) }]);
      this.log.commitTo(1);
      this.term = 1;
    }
    this.resetElectionTimer();
  }

  // ---- inputs -------------------------------------------------------------------------------

  tick(): void {
    this.electionElapsed++;
    if (this.leader) {
      this.tickLeader(this.leader);
      return;
    }
    if (this.electionElapsed >= this.randomizedElectionTicks && this.promotable()) this.startElection("preVote");
  }

  /** Starts an election now (e.g. the single voter of a new cluster), still through pre-vote. */
  campaign(): void {
    this.startElection("preVote");
  }

  private startElection(kind: "preVote" | "election" | "transfer"): void {
    if (this.leader || !this.promotable()) return;
    const voters = this.log.membership().voters;
    if (kind === "preVote") {
      this.role = "preCandidate";
      this.leaderId = null;
    } else {
      this.becomeFollowerState(this.term + 1, null);
      this.role = "candidate";
      this.vote = this.id;
    }
    this.votes = new Map([[this.id, true]]);
    this.resetElectionTimer();
    if (tallyVotes(voters, this.votes) === "won") {
      if (kind === "preVote") this.startElection("election");
      else this.becomeLeader();
      return;
    }
    const lastIndex = this.log.lastIndex();
    const lastTerm = this.log.lastTerm();
    for (const to of voters) {
      if (to === this.id) continue;
      if (kind === "preVote") this.send({ type: "preVote", to, term: this.term + 1, lastIndex, lastTerm });
      else this.send({ type: "vote", to, lastIndex, lastTerm, transfer: kind === "transfer" });
    }
  }

  step(message: Message): void {
    if (message.to !== this.id || message.from === this.id) return;
    if (message.term > this.term) {
      if (message.type === "preVote" || message.type === "vote") {
        const forced = message.type === "vote" && message.transfer;
        const inLease = this.leaderId !== null && this.electionElapsed < this.options.electionTicks;
        // A leader is alive as far as we know: do not let a disruptive node depose it.
        if (inLease && !forced) return;
      }
      const keepTerm = message.type === "preVote" || (message.type === "preVoteResponse" && message.granted);
      if (!keepTerm) {
        const fromLeader = message.type === "append" || message.type === "heartbeat" || message.type === "snapshot";
        this.becomeFollower(message.term, fromLeader ? message.from : null);
      }
    } else if (message.term < this.term) {
      if (message.type === "append" || message.type === "heartbeat" || message.type === "snapshot") {
        // Tell a deposed leader about the newer term so it steps down.
        this.send({ type: "appendResponse", to: message.from, reject: true, index: 0, hintIndex: 0, hintTerm: 0 });
      } else if (message.type === "preVote") {
        this.send({ type: "preVoteResponse", to: message.from, granted: false });
      }
      return;
    }

    switch (message.type) {
      case "preVote":
      case "vote":
        this.handleVoteRequest(message);
        return;
      case "append":
      case "heartbeat":
      case "snapshot":
        if (this.role === "leader") return; // same term, two leaders: impossible; ignore.
        if (this.role !== "follower") this.becomeFollower(this.term, message.from);
        this.electionElapsed = 0;
        this.leaderId = message.from;
        if (message.type === "append") this.send(answerAppend(this.log, message));
        else if (message.type === "heartbeat") this.send(answerHeartbeat(this.log, message));
        else this.send(answerSnapshot(this.log, message));
        return;
      case "preVoteResponse":
      case "voteResponse": {
        const expected = message.type === "preVoteResponse" ? "preCandidate" : "candidate";
        if (this.role !== expected) return;
        this.votes.set(message.from, message.granted);
        const outcome = tallyVotes(this.log.membership().voters, this.votes);
        if (outcome === "won") {
          if (this.role === "preCandidate") this.startElection("election");
          else this.becomeLeader();
        } else if (outcome === "lost") {
          this.becomeFollower(this.term, null);
        }
        return;
      }
      case "appendResponse":
        this.leader?.onAppendResponse(message);
        return;
      case "heartbeatResponse":
        this.leader?.onHeartbeatResponse(message);
        return;
      case "timeoutNow":
        if (this.role === "follower") this.startElection("transfer");
        return;
    }
  }

  /** Appends `data` if this node is leader; the entry is acknowledged once committed at (index, term). */
  propose(data: string): ProposeResult {
    const refusal = this.refuseUnlessLeading();
    if (refusal) return refusal;
    return this.appendOwn("normal", data);
  }

  proposeMembership(change: MembershipChange): ProposeResult {
    const refusal = this.refuseUnlessLeading();
    if (refusal) return refusal;
    const leader = this.leader!;
    if (this.log.lastConfigIndex() > this.log.committed) {
      return this.refuse("configChangePending", "a membership change is still uncommitted; retry once it commits");
    }
    if (this.log.term(this.log.committed) !== this.term) {
      return this.refuse("configChangePending", "the new leader has not committed an entry of its term yet; retry shortly");
    }
    const current = this.log.membership();
    const next = applyMembershipChange(current, change, {
      leaderId: this.id,
      lastIndex: this.log.lastIndex(),
      matchOf: (id) => leader.matchOf(id),
      minReplications: this.options.minReplications,
      maxPromoteLagEntries: this.options.maxPromoteLagEntries,
    });
    if (typeof next === "string") return this.refuse("invalidChange", next);
    const result = this.appendOwn("config", encodeMembership(next));
    leader.setMembership(this.log.membership(), true);
    leader.maybeCommit();
    return result;
  }

  transferLeadership(to: NodeId): OperationResult {
    const refusal = this.refuseUnlessLeading();
    if (refusal) return refusal;
    if (to === this.id) return { ok: true };
    if (!this.log.membership().voters.includes(to)) return this.refuse("invalidChange", `${to} is not a voter`);
    this.leader!.startTransfer(to);
    this.electionElapsed = 0;
    return { ok: true };
  }

  /** Asks for a linearizable read point; the answer arrives in `Ready.readStates` (or `droppedReads`). */
  readIndex(requestId: string): OperationResult {
    if (!this.leader) return this.refuse("notLeader", "not the leader");
    this.leader.readIndex(requestId);
    return { ok: true };
  }

  /**
   * Records the driver's snapshot of the state applied up to `index` and drops the log entries it
   * covers, keeping the last `retainEntries` of them for followers slightly behind. The driver
   * persists the returned snapshot and may then delete its stored entries up to `firstIndex() - 1`.
   */
  compact(index: number, data: string, retainEntries = 0): Snapshot {
    return this.log.compact(index, data, retainEntries);
  }

  /** The transport could not deliver a snapshot to `to`; it will be resent. */
  reportSnapshotFailure(to: NodeId): void {
    this.leader?.snapshotFailed(to);
  }

  // ---- outputs ------------------------------------------------------------------------------

  hasReady(): boolean {
    return (
      this.messages.length > 0 ||
      this.readStates.length > 0 ||
      this.droppedReads.length > 0 ||
      (this.leader?.hasPendingSends() ?? false) ||
      this.log.unpersistedSnapshot() !== null ||
      this.log.unstableEntries().length > 0 ||
      this.log.nextCommittedEntries().length > 0 ||
      !sameHardState(this.hardState(), this.lastHardState) ||
      this.lastSoftState === null ||
      !sameSoftState(this.softState(), this.lastSoftState)
    );
  }

  /** Collects pending work (sending any replication batched since the last Ready). */
  ready(): Ready {
    this.leader?.flush();
    const hardState = this.hardState();
    const softState = this.softState();
    return {
      softState: this.lastSoftState && sameSoftState(softState, this.lastSoftState) ? null : softState,
      hardState: sameHardState(hardState, this.lastHardState) ? null : hardState,
      snapshot: this.log.unpersistedSnapshot(),
      entries: this.log.unstableEntries(),
      messages: this.messages.slice(),
      committedEntries: this.log.nextCommittedEntries(),
      readStates: this.readStates.slice(),
      droppedReads: this.droppedReads.slice(),
    };
  }

  /** The driver has carried out `ready`. */
  advance(ready: Ready): void {
    if (ready.softState) this.lastSoftState = ready.softState;
    if (ready.hardState) this.lastHardState = ready.hardState;
    if (ready.snapshot) this.log.snapshotPersisted(ready.snapshot);
    const lastEntry = ready.entries.at(-1);
    if (lastEntry) this.log.stableTo(lastEntry.index, lastEntry.term);
    const lastApplied = ready.committedEntries.at(-1);
    if (lastApplied) this.log.appliedTo(lastApplied.index);
    this.messages.splice(0, ready.messages.length);
    this.readStates.splice(0, ready.readStates.length);
    this.droppedReads.splice(0, ready.droppedReads.length);
    if (lastEntry) this.leader?.maybeCommit();
  }

  status(): NodeStatus {
    return {
      id: this.id,
      role: this.role,
      leader: this.leaderId,
      term: this.term,
      vote: this.vote,
      commit: this.log.committed,
      applied: this.log.applied,
      snapshotIndex: this.log.snapshot()?.index ?? 0,
      firstIndex: this.log.firstIndex(),
      lastIndex: this.log.lastIndex(),
      membership: this.log.membership(),
    };
  }

  /** Term of the entry at `index` in this node's log (undefined if compacted or absent). */
  termAt(index: number): number | undefined {
    return this.log.term(index);
  }

  /** The leader's view of a follower's replication (for status pages and tests). */
  progressOf(id: NodeId): { match: number; next: number; state: string } | null {
    const progress = this.leader?.progress.get(id);
    return progress ? { match: progress.match, next: progress.next, state: progress.state } : null;
  }

  // ---- roles --------------------------------------------------------------------------------

  private becomeFollower(term: number, leader: NodeId | null): void {
    this.becomeFollowerState(term, leader);
    this.resetElectionTimer();
  }

  private becomeFollowerState(term: number, leader: NodeId | null): void {
    if (this.leader) {
      this.droppedReads.push(...this.leader.reads.drain());
      this.leader = null;
    }
    if (term !== this.term) {
      this.term = term;
      this.vote = null;
    }
    this.role = "follower";
    this.leaderId = leader;
    this.votes.clear();
  }

  private becomeLeader(): void {
    this.role = "leader";
    this.leaderId = this.id;
    this.electionElapsed = 0;
    this.leader = new Leader(
      {
        id: this.id,
        log: this.log,
        options: this.options,
        send: (message) => this.send(message),
        readConfirmed: (state) => this.readStates.push(state),
      },
      this.term,
      this.log.membership(),
    );
    // Committing an entry of its own term is how a new leader learns what is committed (§5.4.2).
    this.appendOwn("noop", "");
  }

  private tickLeader(leader: Leader): void {
    if (this.electionElapsed >= this.options.electionTicks) {
      this.electionElapsed = 0;
      if (!leader.checkQuorumActive()) {
        this.becomeFollower(this.term, null);
        return;
      }
      leader.transferee = null; // a transfer not done within an election timeout is abandoned
    }
    if (this.electionElapsed % this.options.heartbeatTicks === 0) leader.broadcastHeartbeat();
    leader.tickSnapshots();
  }

  // ---- voting -------------------------------------------------------------------------------

  private handleVoteRequest(message: PreVoteMessage | VoteMessage): void {
    const canVote =
      this.vote === message.from ||
      (this.vote === null && this.leaderId === null) ||
      (message.type === "preVote" && message.term > this.term);
    const granted = canVote && this.log.isUpToDate(message.lastIndex, message.lastTerm);
    const type = message.type === "preVote" ? "preVoteResponse" : "voteResponse";
    this.send({ type, to: message.from, term: granted ? message.term : this.term, granted });
    if (granted && message.type === "vote") {
      this.vote = message.from;
      this.electionElapsed = 0;
    }
  }

  // ---- helpers ------------------------------------------------------------------------------

  private appendOwn(type: Entry["type"], data: string): ProposeResult {
    const entry: Entry = { index: this.log.lastIndex() + 1, term: this.term, type, data };
    this.log.append([entry]);
    this.leader!.entriesAppended();
    return { ok: true, index: entry.index, term: entry.term };
  }

  private refuseUnlessLeading(): Refusal | null {
    if (!this.leader) return this.refuse("notLeader", this.leaderId ? `not the leader; the leader is ${this.leaderId}` : "no leader is known yet");
    if (this.leader.transferee !== null) return this.refuse("transferring", `leadership is being transferred to ${this.leader.transferee}`);
    return null;
  }

  private refuse(reason: RefusalReason, message: string): Refusal {
    return { ok: false, reason, leader: this.leaderId, message };
  }

  private promotable(): boolean {
    return this.log.membership().voters.includes(this.id);
  }

  private resetElectionTimer(): void {
    this.electionElapsed = 0;
    const ticks = this.options.electionTicks;
    this.randomizedElectionTicks = ticks + Math.floor(this.options.random() * ticks);
  }

  private send(message: Outgoing): void {
    this.messages.push({ ...message, from: this.id, term: message.term ?? this.term } as Message);
  }

  private hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  private softState(): SoftState {
    return { leader: this.leaderId, role: this.role, membership: this.log.membership() };
  }
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

function sameSoftState(a: SoftState, b: SoftState): boolean {
  return a.leader === b.leader && a.role === b.role && sameIds(a.membership.voters, b.membership.voters) && sameIds(a.membership.learners, b.membership.learners);
}

function sameIds(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}
