/**
 * Everything a node tracks only while it is leader: each follower's progress, the commit rule,
 * batched and pipelined AppendEntries, snapshots for followers behind the compaction point,
 * read-index confirmation and a pending leadership transfer. Lives for exactly one term.
 */
import type { RaftLog } from "./log";
import { commitQuorum, majority, quorumIndex } from "./membership";
import type { AppendResponseMessage, Entry, HeartbeatResponseMessage, Membership, NodeId, Outgoing } from "./messages";
import type { ResolvedRaftOptions } from "./options";
import { Progress } from "./progress";
import { ReadIndexQueue, type ReadState } from "./read-index";

export interface LeaderContext {
  readonly id: NodeId;
  readonly log: RaftLog;
  readonly options: ResolvedRaftOptions;
  send(message: Outgoing): void;
  readConfirmed(state: ReadState): void;
}

export class Leader {
  readonly progress = new Map<NodeId, Progress>();
  readonly reads = new ReadIndexQueue();
  membership: Membership = { voters: [], learners: [] };
  transferee: NodeId | null = null;
  /** New entries or a new commit index await sending (flushed when the driver collects a Ready). */
  private entriesPending = false;
  private commitPending = false;

  constructor(
    private readonly ctx: LeaderContext,
    readonly term: number,
    membership: Membership,
  ) {
    this.setMembership(membership, false);
  }

  /** Tracks progress for exactly the members of `membership` (other than this node). */
  setMembership(membership: Membership, markActive: boolean): void {
    this.membership = membership;
    const members = new Set([...membership.voters, ...membership.learners]);
    members.delete(this.ctx.id);
    for (const id of members) {
      if (this.progress.has(id)) continue;
      const progress = new Progress(this.ctx.log.lastIndex() + 1);
      // A node just added must not make check-quorum fail before it had a chance to answer.
      progress.recentActive = markActive;
      this.progress.set(id, progress);
    }
    for (const id of this.progress.keys()) if (!members.has(id)) this.progress.delete(id);
    if (this.transferee !== null && !membership.voters.includes(this.transferee)) this.transferee = null;
  }

  entriesAppended(): void {
    this.entriesPending = true;
  }

  hasPendingSends(): boolean {
    return this.entriesPending || this.commitPending;
  }

  matchOf(id: NodeId): number {
    return id === this.ctx.id ? this.ctx.log.stableLast : (this.progress.get(id)?.match ?? 0);
  }

  /**
   * Commits the highest index stored on a commit quorum of voters — only if that entry is of this
   * term (Raft §5.4.2, Figure 8): entries of earlier terms commit indirectly, underneath it.
   */
  maybeCommit(): boolean {
    const { log, options } = this.ctx;
    const voters = this.membership.voters;
    const index = quorumIndex(
      voters.map((id) => this.matchOf(id)),
      commitQuorum(voters.length, options.minReplications),
    );
    if (index <= log.committed || log.term(index) !== this.term) return false;
    const firstInTerm = log.term(log.committed) !== this.term;
    log.commitTo(index);
    this.commitPending = true;
    if (firstInTerm) {
      const waiting = this.reads.takeWaiting();
      if (waiting.length > 0) this.startReads(waiting);
    }
    return true;
  }

  /** Sends what is pending: new entries to every follower that can take them, the commit index to all. */
  flush(): void {
    const carryCommit = this.commitPending;
    this.entriesPending = false;
    this.commitPending = false;
    for (const id of this.progress.keys()) {
      let sent = false;
      while (this.sendAppend(id, false)) sent = true;
      if (!sent && carryCommit) this.sendAppend(id, true);
    }
  }

  /**
   * Sends the follower its next AppendEntries (or a snapshot when its next entry was compacted).
   * Returns whether another message could follow at once (entries were sent and the window is open).
   */
  sendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const progress = this.progress.get(to);
    const { log, options } = this.ctx;
    if (!progress || progress.isPaused(options.maxInflightAppends)) return false;
    const prevIndex = progress.next - 1;
    const prevTerm = log.term(prevIndex);
    if (prevTerm === undefined || progress.next < log.firstIndex()) {
      this.sendSnapshot(to, progress);
      return false;
    }
    const entries = this.batchFrom(progress.next);
    if (entries.length === 0 && !sendIfEmpty) return false;
    this.ctx.send({ type: "append", to, prevIndex, prevTerm, entries, commit: log.committed });
    progress.sentEntries(entries.at(-1)?.index ?? null);
    return entries.length > 0 && progress.state === "replicate";
  }

  broadcastHeartbeat(): void {
    for (const [to, progress] of this.progress) {
      this.ctx.send({ type: "heartbeat", to, commit: Math.min(progress.match, this.ctx.log.committed), readSeq: this.reads.seq });
    }
  }

  onAppendResponse(message: AppendResponseMessage): void {
    const progress = this.progress.get(message.from);
    if (!progress) return;
    progress.recentActive = true;
    if (message.reject) {
      const candidate = message.hintTerm > 0 ? this.ctx.log.findConflictByTerm(message.hintIndex, message.hintTerm) : message.hintIndex;
      if (progress.maybeDecrTo(message.index, candidate + 1)) this.sendAppend(message.from, true);
      return;
    }
    if (!progress.maybeUpdate(message.index)) return;
    if (progress.state !== "replicate") progress.becomeReplicate();
    this.maybeCommit();
    this.entriesPending = true;
    if (this.transferee === message.from && progress.match === this.ctx.log.lastIndex()) {
      this.ctx.send({ type: "timeoutNow", to: message.from });
    }
  }

  onHeartbeatResponse(message: HeartbeatResponseMessage): void {
    const progress = this.progress.get(message.from);
    if (!progress) return;
    progress.recentActive = true;
    progress.probeSent = false;
    // A lost message may have left the window full forever; the next send re-probes if needed.
    if (progress.state === "replicate" && progress.inflight.length >= this.ctx.options.maxInflightAppends) progress.inflight.shift();
    if (progress.match < this.ctx.log.lastIndex()) this.sendAppend(message.from, true);
    if (message.readSeq > 0) {
      const voters = this.membership.voters;
      for (const state of this.reads.acknowledge(message.from, message.readSeq, voters, majority(voters.length))) {
        this.ctx.readConfirmed(state);
      }
    }
  }

  readIndex(requestId: string): void {
    const log = this.ctx.log;
    if (log.term(log.committed) !== this.term) this.reads.waitForTermCommit(requestId);
    else this.startReads([requestId]);
  }

  /** Check-quorum: whether a majority of voters was heard from since the last call. */
  checkQuorumActive(): boolean {
    let active = 0;
    for (const id of this.membership.voters) {
      if (id === this.ctx.id) active++;
      else if (this.progress.get(id)?.recentActive) active++;
    }
    for (const progress of this.progress.values()) progress.recentActive = false;
    return active >= majority(this.membership.voters.length);
  }

  /** Snapshots unanswered for too long are presumed lost: fall back to probing, which resends. */
  tickSnapshots(): void {
    for (const progress of this.progress.values()) {
      if (progress.state !== "snapshot") continue;
      if (++progress.snapshotElapsedTicks >= this.ctx.options.snapshotTimeoutTicks) progress.becomeProbe(progress.match + 1);
    }
  }

  /** The driver's transport failed to deliver a snapshot. */
  snapshotFailed(to: NodeId): void {
    const progress = this.progress.get(to);
    if (progress?.state === "snapshot") progress.becomeProbe(progress.match + 1);
  }

  startTransfer(to: NodeId): void {
    this.transferee = to;
    const progress = this.progress.get(to)!;
    if (progress.match === this.ctx.log.lastIndex()) this.ctx.send({ type: "timeoutNow", to });
    else this.sendAppend(to, true);
  }

  private startReads(requestIds: string[]): void {
    const { log, id } = this.ctx;
    if (this.membership.voters.length === 1 && this.membership.voters[0] === id) {
      for (const requestId of requestIds) this.ctx.readConfirmed({ requestId, index: log.committed });
      return;
    }
    this.reads.start(requestIds, log.committed, id);
    this.broadcastHeartbeat();
  }

  private sendSnapshot(to: NodeId, progress: Progress): void {
    const snapshot = this.ctx.log.snapshot();
    if (!snapshot) throw new Error(`follower ${to} needs entry ${progress.next}, which is compacted, and there is no snapshot`);
    progress.becomeSnapshot(snapshot.index);
    this.ctx.send({ type: "snapshot", to, snapshot });
  }

  private batchFrom(next: number): Entry[] {
    const { log, options } = this.ctx;
    const last = Math.min(log.lastIndex(), next + options.maxEntriesPerAppend - 1);
    const entries = log.slice(next, last);
    let bytes = 0;
    for (let i = 0; i < entries.length; i++) {
      bytes += entries[i]!.data.length;
      if (bytes > options.maxBytesPerAppend && i > 0) return entries.slice(0, i);
    }
    return entries;
  }
}
