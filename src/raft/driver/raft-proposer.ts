/**
 * The Raft driver: runs one RaftNode against real time, disk and network, and offers it to the
 * coordinator as a `Proposer`.
 *
 * - Time: a tick every `tickMs`.
 * - Group commit: proposals and received messages of one event-loop turn are stepped into the
 *   core together and handled as one Ready, so one fsync covers them all.
 * - One Ready at a time: write it (one transaction, no fsync) → send what needs nothing durable
 *   (a leader's appends and heartbeats: Raft lets a leader replicate while it persists, as etcd
 *   does; its own log counts towards a commit only once synced) → fsync the log on the thread
 *   pool, if the Ready wrote entries, a snapshot or a term/vote → meanwhile apply committed
 *   entries (they were synced by earlier Readies) → once synced, send the rest (votes,
 *   acknowledgements) → advance. While the fsync runs the event loop serves requests; messages
 *   and proposals that arrive meanwhile go into the next Ready together.
 * - Applied entries go into a state transaction committed every STATE_COMMIT_INTERVAL_MS, not
 *   one per Ready: the Raft log is what is durable, the state database only caches its
 *   application (state-transaction.ts says why this is safe and what it saves).
 * - A follower applies committed entries in large batches, up to `followerApplyDelayMs` late, a
 *   slice per event-loop turn (follower-apply.ts says why). Any other role applies at once, and a
 *   node that stops following first applies what it had deferred.
 * - A proposal resolves with its result once its entry is committed and applied here; it is
 *   refused at once when this node is not the leader, and rejected when another leader's entry
 *   took its place in the log.
 * - Both WALs (the log's, in storage.ts, and the state's, here) are checkpointed on worker
 *   threads (wal-checkpointer.ts): SQLite's automatic checkpoint would copy pages and fsync two
 *   files inside a COMMIT on this thread, every 1,000 pages.
 * - Snapshots (when snapshot-policy.ts says one is due) are written by a worker thread
 *   (snapshot-image.ts), one at a time, while this loop goes on; once the image is on disk the
 *   log is compacted up to the index the image reflects, keeping `snapshotRetainEntries` for
 *   followers, and the entries it covers are deleted a step per event-loop turn.
 */
import type { Database } from "bun:sqlite";
import { RaftNode } from "../core";
import type { Entry, Membership, MembershipChange, Message, NodeId, NodeStatus, ProposeResult, Ready, Role, SoftState } from "../core";
import type { AppliedEntry, Applier, Proposer } from "../proposer";
import { SnapshotImageWriter } from "./snapshot-image";
import { FollowerApply } from "./follower-apply";
import { SnapshotPolicy } from "./snapshot-policy";
import { StateTransaction } from "./state-transaction";
import { StateSnapshots } from "./state-snapshots";
import { RaftStorage } from "./storage";
import type { RaftTimings } from "./timings";
import { WalCheckpointer } from "../wal-checkpointer";

/** The state machine as the driver needs it: entries without a command still advance last_applied. */
export interface DriverApplier<C, R> extends Applier<C, R> {
  /** Records `index` as applied for an entry that carries no command (no-op, membership). */
  skip(index: number): void;
}

export interface RaftDriverOptions<C, R> {
  id: NodeId;
  /** Initial voters when the log is empty; null for a node that waits to be added (join). */
  bootstrapVoters: NodeId[] | null;
  raftDbPath: string;
  snapshotDir: string;
  /** The state database, on a connection owned by the driver (apply and snapshots). */
  stateDb: Database;
  applier: DriverApplier<C, R>;
  send(messages: Message[]): void;
  tickMs: number;
  electionTicks: number;
  heartbeatTicks: number;
  minReplications: number;
  snapshotIntervalEntries: number;
  snapshotRetainEntries: number;
  /** A proposal not applied within this long is rejected (it may still commit: retry idempotently). */
  proposalTimeoutMs?: number;
  /** Longest a follower defers applying a committed entry (0: apply at once). */
  followerApplyDelayMs?: number;
  /** The node can no longer apply the log (a disk or schema failure): stop the process. */
  onFatal?(error: unknown): void;
  /** Told how long proposals and fsyncs take. */
  timings?: RaftTimings;
}

/** Why a proposal or read was not carried out; `leader` is where to retry, when known. */
export class RaftRefusal extends Error {
  constructor(
    readonly reason: "notLeader" | "transferring" | "configChangePending" | "invalidChange" | "overwritten" | "timeout" | "closed",
    message: string,
    readonly leader: NodeId | null,
  ) {
    super(message);
    this.name = "RaftRefusal";
  }
}

interface PendingProposal<R> {
  term: number;
  resolve(result: R | null): void;
  reject(error: unknown): void;
  /** performance.now() after which it is rejected as timed out (checked every tick). */
  deadline: number;
}

interface QueuedProposal<C, R> {
  command: C;
  resolve(result: R): void;
  reject(error: unknown): void;
  /** performance.now() when propose() was called. */
  proposedAt: number;
}

interface ReadWaiter {
  resolve(): void;
  reject(error: unknown): void;
}

export type ProposerRole = "leader" | "follower" | "candidate";

/** What happens to local snapshots, for logs and tests. */
export type SnapshotEvent =
  | { type: "started"; appliedIndex: number }
  | { type: "taken"; index: number; bytes: number; durationMs: number }
  | { type: "failed"; message: string };

const AUTO_PROMOTE_EVERY_TICKS = 10;

const DEFAULT_FOLLOWER_APPLY_DELAY_MS = 100;
/** Longest the state database holds applied entries uncommitted. */
const STATE_COMMIT_INTERVAL_MS = 50;

export class RaftProposer<C, R> implements Proposer<C, R> {
  readonly id: NodeId;
  private readonly raft: RaftNode;
  private readonly storage: RaftStorage;
  private readonly snapshots: StateSnapshots;
  private readonly imageWriter = new SnapshotImageWriter();
  /** The state database's checkpoints, off this thread as the log's (storage.ts). */
  private readonly stateCheckpointer: WalCheckpointer;
  private readonly snapshotPolicy: SnapshotPolicy;
  private snapshotListeners: ((event: SnapshotEvent) => void)[] = [];
  /** After a failed snapshot, none is tried again before this applied index. */
  private snapshotRetryIndex = 0;
  /** Applies entries in log order, in the state transaction (entries at or below the state's last_applied are skipped). */
  private readonly applyEntries: (entries: Entry[]) => AppliedEntry<C, R>[];
  /** The state database's write transaction, committed every STATE_COMMIT_INTERVAL_MS (state-transaction.ts). */
  private readonly stateTransaction: StateTransaction;
  /** Applies what a follower defers (committed entries it has not applied yet). */
  private readonly followerApply: FollowerApply<C, R>;
  private readonly followerApplyDelayMs: number;
  private queued: QueuedProposal<C, R>[] = [];
  private inbox: Message[] = [];
  private readQueue: ReadWaiter[] = [];
  private readsById = new Map<string, ReadWaiter[]>();
  private readsAwaitingApply: { index: number; waiters: ReadWaiter[] }[] = [];
  private readSeq = 0;
  private pending = new Map<number, PendingProposal<R>>();
  private listeners: ((entries: AppliedEntry<C, R>[]) => void)[] = [];
  private softListeners: ((soft: SoftState) => void)[] = [];
  private soft: SoftState;
  private appliedIndex: number;
  private snapshotIndex: number;
  private flushScheduled = false;
  private trimScheduled = false;
  /** A Ready's fsync is in flight: the next Ready waits for it. */
  private syncing = false;
  private afterSync: (() => void)[] = [];
  /** Callers of receive() whose messages are in the inbox / were stepped into the Ready in progress. */
  private inboxSettled: (() => void)[] = [];
  private readySettled: (() => void)[] = [];
  private ticks = 0;
  private closed = false;
  private readonly tickTimer: ReturnType<typeof setInterval>;
  private readonly proposalTimeoutMs: number;

  constructor(private readonly options: RaftDriverOptions<C, R>) {
    this.id = options.id;
    this.proposalTimeoutMs = options.proposalTimeoutMs ?? 10_000;
    this.followerApplyDelayMs = options.followerApplyDelayMs ?? DEFAULT_FOLLOWER_APPLY_DELAY_MS;
    this.storage = new RaftStorage(options.raftDbPath);
    this.stateCheckpointer = new WalCheckpointer(options.stateDb);
    this.snapshots = new StateSnapshots(options.snapshotDir);
    const persisted = this.storage.load();
    // A crash after persisting a received snapshot but before installing it: install it now.
    if (persisted.snapshot && options.applier.lastApplied() < persisted.snapshot.index) {
      this.snapshots.install(options.stateDb, persisted.snapshot.data);
    }
    this.appliedIndex = options.applier.lastApplied();
    this.snapshotIndex = persisted.snapshot?.index ?? 0;
    this.snapshotPolicy = new SnapshotPolicy(options.id, options.snapshotIntervalEntries, {
      imageBytes: persisted.snapshot ? this.snapshots.bytes(persisted.snapshot.data) : 0,
      logBytesSince: persisted.entries.reduce((sum, entry) => (entry.index > this.snapshotIndex ? sum + entry.data.length : sum), 0),
    });
    const bootstrap: Membership | undefined = options.bootstrapVoters ? { voters: [...options.bootstrapVoters].sort(), learners: [] } : undefined;
    this.raft = new RaftNode(
      {
        id: options.id,
        random: Math.random,
        electionTicks: options.electionTicks,
        heartbeatTicks: options.heartbeatTicks,
        minReplications: options.minReplications,
      },
      persisted,
      { ...(bootstrap && { bootstrap }), appliedIndex: this.appliedIndex },
    );
    const status = this.raft.status();
    this.soft = { leader: status.leader, role: status.role, membership: status.membership };
    const applyEntries = (entries: Entry[]): AppliedEntry<C, R>[] => {
      const applied: AppliedEntry<C, R>[] = [];
      const alreadyApplied = this.options.applier.lastApplied();
      let run: Entry[] = [];
      for (const entry of entries) {
        if (entry.index <= alreadyApplied) continue; // the state db may be ahead of the log
        if (entry.type === "normal") {
          run.push(entry);
          continue;
        }
        this.applyRun(run, applied);
        run = [];
        this.options.applier.skip(entry.index);
      }
      this.applyRun(run, applied);
      return applied;
    };
    this.applyEntries = applyEntries;
    this.stateTransaction = new StateTransaction(options.stateDb, {
      commitAfterMs: STATE_COMMIT_INTERVAL_MS,
      committed: () => this.stateCheckpointer.committed(),
      failed: (error) => this.fatal(error),
    });
    this.followerApply = new FollowerApply<C, R>({
      transaction: this.stateTransaction,
      applyEntries,
      delayMs: this.followerApplyDelayMs,
      applied: (entries, applied) => {
        this.recordApplied(entries, applied);
        this.announce(applied);
      },
      failed: (error) => this.fatal(error),
    });
    this.tickTimer = setInterval(() => this.tick(), options.tickMs);
    this.flush();
  }

  // ---- Proposer -----------------------------------------------------------------------------

  propose(command: C): Promise<R> {
    if (this.closed) return Promise.reject(new RaftRefusal("closed", "the coordinator is shutting down", null));
    return new Promise<R>((resolve, reject) => {
      this.queued.push({ command, resolve, reject, proposedAt: performance.now() });
      this.scheduleFlush();
    });
  }

  onApplied(listener: (entries: AppliedEntry<C, R>[]) => void): void {
    this.listeners.push(listener);
  }

  role(): ProposerRole {
    return publicRole(this.soft.role);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.tickTimer);
    this.followerApply.close();
    this.imageWriter.stop();
    try {
      // What was applied stays applied: a restart then has less of the log to apply again.
      this.stateTransaction.commitNow();
    } catch (error) {
      console.error("skyclaw raft: committing the state on close failed:", error);
    }
    this.stateCheckpointer.close();
    const closing = new RaftRefusal("closed", "the coordinator is shutting down", null);
    for (const proposal of this.queued) proposal.reject(closing);
    this.queued = [];
    for (const [, proposal] of this.pending) proposal.reject(closing);
    this.pending.clear();
    this.failReads(closing);
    // Snapshot images waiting for the fsync in flight: discarded (adoptSnapshot sees closed).
    this.syncing = false;
    for (const action of this.afterSync.splice(0)) action();
    this.readySettled.push(...this.inboxSettled.splice(0));
    this.settle();
    this.storage.close();
  }

  // ---- cluster operations -------------------------------------------------------------------

  /**
   * Messages from peers; they are stepped at the end of this event-loop turn. Resolves once the
   * Ready that stepped them is done (durable, its messages handed to the transport).
   */
  receive(messages: Message[]): Promise<void> {
    if (this.closed) return Promise.resolve();
    for (const message of messages) if (message.to === this.id) this.inbox.push(message);
    this.scheduleFlush();
    return new Promise((resolve) => this.inboxSettled.push(resolve));
  }

  /** Stores a snapshot image sent by the leader, then steps its message. */
  async receiveSnapshot(message: Extract<Message, { type: "snapshot" }>, image: Uint8Array): Promise<void> {
    const name = await this.snapshots.receive(message.snapshot.index, message.snapshot.term, image);
    void this.receive([{ ...message, snapshot: { ...message.snapshot, data: name } }]);
  }

  /** Resolves once a read served now reflects every write acknowledged before it (read index). */
  readBarrier(): Promise<void> {
    if (this.soft.role !== "leader") return Promise.reject(this.notLeader());
    return new Promise((resolve, reject) => {
      this.readQueue.push({ resolve, reject });
      this.scheduleFlush();
    });
  }

  /** Adds a learner, promotes a learner, or removes a member; resolves once the change is applied. */
  changeMembership(change: MembershipChange): Promise<void> {
    return this.track(this.raft.proposeMembership(change)).then(() => undefined);
  }

  transferLeadership(to: NodeId): void {
    const result = this.raft.transferLeadership(to);
    if (!result.ok) throw new RaftRefusal(result.reason, result.message, result.leader);
    this.scheduleFlush();
  }

  status(): NodeStatus & { progress: Record<NodeId, { match: number; next: number; state: string }> } {
    const status = this.raft.status();
    const progress: Record<NodeId, { match: number; next: number; state: string }> = {};
    for (const id of [...status.membership.voters, ...status.membership.learners]) {
      const view = this.raft.progressOf(id);
      if (view !== null && id !== this.id) progress[id] = view;
    }
    return { ...status, applied: this.appliedIndex, progress };
  }

  /** The transport could not deliver a snapshot to `to`: the core sends it again. */
  reportSnapshotFailure(to: NodeId): void {
    this.raft.reportSnapshotFailure(to);
    this.scheduleFlush();
  }

  leader(): NodeId | null {
    return this.soft.leader;
  }

  onSnapshot(listener: (event: SnapshotEvent) => void): void {
    this.snapshotListeners.push(listener);
  }

  /** Called on every change of leader, role or membership (after the Ready that made it). */
  onSoftState(listener: (soft: SoftState) => void): () => void {
    this.softListeners.push(listener);
    return () => {
      this.softListeners = this.softListeners.filter((other) => other !== listener);
    };
  }

  // ---- the loop -----------------------------------------------------------------------------

  private tick(): void {
    if (this.closed) return;
    this.expireProposals();
    this.raft.tick();
    if (this.soft.role === "leader" && ++this.ticks % AUTO_PROMOTE_EVERY_TICKS === 0) this.promoteCaughtUpLearners();
    this.flush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.closed || this.syncing) return;
    try {
      const inbox = this.inbox;
      this.inbox = [];
      this.readySettled.push(...this.inboxSettled);
      this.inboxSettled = [];
      for (const message of inbox) this.raft.step(message);
      const queued = this.queued;
      this.queued = [];
      for (const proposal of queued) {
        this.track<R>(this.raft.propose(JSON.stringify(proposal.command))).then((result) => {
          this.options.timings?.proposal((performance.now() - proposal.proposedAt) / 1000);
          proposal.resolve(result as R);
        }, proposal.reject);
      }
      this.startReads();
      while (!this.syncing && this.raft.hasReady()) this.handle(this.raft.ready());
      if (!this.syncing) this.settle();
    } catch (error) {
      this.fatal(error);
    }
  }

  private settle(): void {
    const settled = this.readySettled;
    this.readySettled = [];
    for (const resolve of settled) resolve();
  }

  private handle(ready: Ready): void {
    if (ready.snapshot) {
      // Rare (a follower far behind): persisted, synced and installed before anything else.
      this.storage.persist(ready);
      this.options.send(ready.messages);
      this.installSnapshot(ready.snapshot.index, ready.snapshot.data);
      this.finish(ready, this.applyCommitted(ready));
      return;
    }
    if (!this.storage.write(ready)) {
      if (ready.messages.length > 0) this.options.send(ready.messages);
      this.finish(ready, this.applyCommitted(ready));
      return;
    }
    const early: Message[] = [];
    const late: Message[] = [];
    for (const message of ready.messages) (sendableBeforeSync(message) ? early : late).push(message);
    if (early.length > 0) this.options.send(early);
    // The fsync runs on the thread pool while this thread applies: it covers the log writes only.
    const syncStartedAt = performance.now();
    const synced = this.storage.sync();
    this.syncing = true;
    let applied: AppliedEntry<C, R>[];
    try {
      applied = this.applyCommitted(ready);
    } catch (error) {
      // The driver stops (fatal) on this error: the fsync's own outcome no longer matters, and
      // must not surface later as an unhandled rejection.
      synced.catch(() => {});
      throw error;
    }
    synced.then(
      () => {
        this.syncing = false;
        this.options.timings?.logFsync((performance.now() - syncStartedAt) / 1000);
        if (this.closed) return;
        try {
          if (late.length > 0) this.options.send(late);
          this.finish(ready, applied);
          const deferred = this.afterSync;
          this.afterSync = [];
          for (const action of deferred) action();
          this.settle();
        } catch (error) {
          this.fatal(error);
          return;
        }
        this.flush();
      },
      (error: unknown) => {
        this.syncing = false;
        if (!this.closed) this.fatal(error);
      },
    );
  }

  /** Applies the Ready's committed entries (after any a follower deferred), or defers them on a follower. */
  private applyCommitted(ready: Ready): AppliedEntry<C, R>[] {
    const committed = ready.committedEntries;
    const role = ready.softState?.role ?? this.soft.role;
    if (role === "follower" && this.followerApplyDelayMs > 0) {
      this.followerApply.add(committed);
      return [];
    }
    this.followerApply.applyAll();
    return committed.length === 0 ? [] : this.apply(committed);
  }

  /** Tells reads and listeners about applied entries (a Ready's, or a follower's deferred ones). */
  private announce(applied: AppliedEntry<C, R>[]): void {
    this.releaseReads();
    if (applied.length > 0) for (const listener of this.listeners) this.safely(() => listener(applied));
    this.maybeSnapshot();
  }

  /** The rest of a Ready once it is durable: reads, advance, and telling listeners. */
  private finish(ready: Ready, applied: AppliedEntry<C, R>[]): void {
    for (const state of ready.readStates) {
      const waiters = this.readsById.get(state.requestId);
      this.readsById.delete(state.requestId);
      if (waiters) this.readsAwaitingApply.push({ index: state.index, waiters });
    }
    for (const requestId of ready.droppedReads) {
      const waiters = this.readsById.get(requestId) ?? [];
      this.readsById.delete(requestId);
      for (const waiter of waiters) waiter.reject(this.notLeader());
    }
    this.raft.advance(ready);
    if (ready.softState) {
      this.soft = ready.softState;
      for (const listener of this.softListeners) this.safely(() => listener(ready.softState!));
    }
    this.announce(applied);
  }

  private apply(entries: Entry[]): AppliedEntry<C, R>[] {
    const applied = this.stateTransaction.run(() => this.applyEntries(entries));
    this.recordApplied(entries, applied);
    return applied;
  }

  /** Moves the applied index past `entries` and answers their proposals. */
  private recordApplied(entries: Entry[], applied: AppliedEntry<C, R>[]): void {
    this.appliedIndex = Math.max(this.appliedIndex, entries.at(-1)!.index);
    this.snapshotPolicy.applied(entries.reduce((sum, entry) => sum + entry.data.length, 0));
    const results = new Map(applied.map((entry) => [entry.index, entry.result]));
    for (const entry of entries) {
      const proposal = this.pending.get(entry.index);
      if (proposal === undefined) continue;
      this.pending.delete(entry.index);
      if (proposal.term !== entry.term) {
        proposal.reject(new RaftRefusal("overwritten", "leadership changed before the write committed; retry it", this.soft.leader));
      } else {
        proposal.resolve(results.get(entry.index) ?? null);
      }
    }
  }

  /** Consecutive commands in one go (the state machine records last_applied once for them). */
  private applyRun(run: Entry[], applied: AppliedEntry<C, R>[]): void {
    if (run.length === 0) return;
    const applier = this.options.applier;
    const first = run[0]!.index;
    const commands = run.map((entry) => JSON.parse(entry.data) as C);
    const results = applier.applyRun?.(first, commands) ?? commands.map((command, i) => applier.apply(first + i, command));
    for (let i = 0; i < run.length; i++) applied.push({ index: first + i, command: commands[i]!, result: results[i]! });
  }

  private installSnapshot(index: number, name: string): void {
    // The image reflects every entry it covers, deferred ones included. A follower is sent a
    // snapshot only when its log ends before the image, so nothing it deferred comes after it.
    this.followerApply.dropThrough(index);
    this.followerApply.applyAll();
    // The image is installed in a transaction of its own (it attaches the image's file).
    this.stateTransaction.commitNow();
    this.snapshots.install(this.options.stateDb, name);
    this.stateCheckpointer.committed();
    this.appliedIndex = index;
    this.snapshotIndex = index;
    this.snapshots.prune(index);
    this.snapshotPolicy.taken(this.snapshots.bytes(name), this.snapshotPolicy.pendingLogBytes);
    // Entries the snapshot covers were decided elsewhere: whether ours is among them is unknown.
    for (const [entryIndex, proposal] of this.pending) {
      if (entryIndex > index) continue;
      this.pending.delete(entryIndex);
      proposal.reject(new RaftRefusal("overwritten", "the outcome of the write is unknown (state replaced by a snapshot); retry it", this.soft.leader));
    }
  }

  private maybeSnapshot(): void {
    if (this.imageWriter.busy || this.appliedIndex < this.snapshotRetryIndex) return;
    if (!this.snapshotPolicy.due(this.appliedIndex - this.snapshotIndex)) return;
    const temporary = this.snapshots.temporaryPath();
    const logBytesCovered = this.snapshotPolicy.pendingLogBytes;
    const startedAt = performance.now();
    // The worker reads with a connection of its own, which sees only committed state: commit
    // first, so the image reflects everything applied by now.
    this.stateTransaction.commitNow();
    this.emitSnapshot({ type: "started", appliedIndex: this.appliedIndex });
    this.imageWriter.write(this.options.stateDb.filename, temporary).then(
      (image) => this.adoptSnapshot(temporary, image.index, image.bytes, logBytesCovered, startedAt),
      (error: unknown) => {
        this.snapshots.discard(temporary);
        if (this.closed) return;
        this.snapshotRetryIndex = this.appliedIndex + this.options.snapshotIntervalEntries;
        const message = error instanceof Error ? error.message : String(error);
        console.error(`skyclaw raft: ${message}; trying again after ${this.options.snapshotIntervalEntries} more entries`);
        this.emitSnapshot({ type: "failed", message });
      },
    );
  }

  /** The worker wrote an image of the state at `index` (≤ applied): compact the log up to it. */
  private adoptSnapshot(temporary: string, index: number, bytes: number, logBytesCovered: number, startedAt: number): void {
    if (this.syncing) {
      // The state db may be ahead of the core's applied index until the Ready in flight advances.
      this.afterSync.push(() => this.adoptSnapshot(temporary, index, bytes, logBytesCovered, startedAt));
      return;
    }
    // A leader's snapshot installed meanwhile may already cover more than this image.
    const term = this.raft.termAt(index);
    if (this.closed || index <= this.snapshotIndex || term === undefined) {
      this.snapshots.discard(temporary);
      return;
    }
    try {
      const name = this.snapshots.adopt(temporary, index, term);
      const snapshot = this.raft.compact(index, name, this.options.snapshotRetainEntries);
      this.storage.compact(snapshot, this.raft.status().firstIndex);
      this.trimLog();
      this.snapshotIndex = index;
      this.snapshots.prune(index);
      this.snapshotPolicy.taken(bytes, logBytesCovered);
    } catch (error) {
      this.fatal(error);
      return;
    }
    this.emitSnapshot({ type: "taken", index, bytes, durationMs: performance.now() - startedAt });
    // The log may have grown enough meanwhile for the next one.
    this.maybeSnapshot();
  }

  /** Deletes the entries a compaction covers, a bounded step per event-loop turn (storage.ts says why). */
  private trimLog(): void {
    if (this.trimScheduled) return;
    this.trimScheduled = true;
    setImmediate(() => {
      this.trimScheduled = false;
      if (this.closed) return;
      try {
        if (this.storage.trimStep()) this.trimLog();
      } catch (error) {
        this.fatal(error);
      }
    });
  }

  private emitSnapshot(event: SnapshotEvent): void {
    for (const listener of this.snapshotListeners) this.safely(() => listener(event));
  }

  // ---- proposals and reads ------------------------------------------------------------------

  private track<T>(result: ProposeResult): Promise<T | null> {
    if (!result.ok) return Promise.reject(new RaftRefusal(result.reason, result.message, result.leader));
    return new Promise((resolve, reject) => {
      // A proposal of an earlier leadership at this index: its entry was replaced before it applied.
      this.pending.get(result.index)?.reject(new RaftRefusal("overwritten", "leadership changed before the write committed; retry it", this.soft.leader));
      // Deleted first so that the map stays in deadline order (expireProposals relies on it).
      this.pending.delete(result.index);
      const deadline = performance.now() + this.proposalTimeoutMs;
      this.pending.set(result.index, { term: result.term, resolve: resolve as (value: R | null) => void, reject, deadline });
    });
  }

  /** Rejects the proposals past their deadline (one check per tick instead of a timer per proposal). */
  private expireProposals(): void {
    const now = performance.now();
    for (const [index, proposal] of this.pending) {
      if (proposal.deadline > now) return;
      this.pending.delete(index);
      proposal.reject(new RaftRefusal("timeout", `the write was not committed within ${this.proposalTimeoutMs} ms (it may still be); retry it`, this.soft.leader));
    }
  }

  private startReads(): void {
    if (this.readQueue.length === 0) return;
    const waiters = this.readQueue;
    this.readQueue = [];
    const requestId = `read-${++this.readSeq}`;
    const result = this.raft.readIndex(requestId);
    if (!result.ok) {
      for (const waiter of waiters) waiter.reject(new RaftRefusal(result.reason, result.message, result.leader));
      return;
    }
    this.readsById.set(requestId, waiters);
  }

  private releaseReads(): void {
    if (this.readsAwaitingApply.length === 0) return;
    const still: { index: number; waiters: ReadWaiter[] }[] = [];
    for (const read of this.readsAwaitingApply) {
      if (read.index <= this.appliedIndex) for (const waiter of read.waiters) waiter.resolve();
      else still.push(read);
    }
    this.readsAwaitingApply = still;
  }

  private failReads(error: unknown): void {
    for (const waiter of this.readQueue) waiter.reject(error);
    for (const waiters of this.readsById.values()) for (const waiter of waiters) waiter.reject(error);
    for (const read of this.readsAwaitingApply) for (const waiter of read.waiters) waiter.reject(error);
    this.readQueue = [];
    this.readsById.clear();
    this.readsAwaitingApply = [];
  }

  private promoteCaughtUpLearners(): void {
    for (const learner of this.raft.status().membership.learners) {
      // Refused while behind or while another change is pending: tried again a few ticks later.
      const result = this.raft.proposeMembership({ type: "promote", node: learner });
      if (result.ok) console.error(`skyclaw raft: promoting ${learner} to voter`);
    }
  }

  private notLeader(): RaftRefusal {
    const leader = this.soft.leader;
    return new RaftRefusal("notLeader", leader ? `not the leader; the leader is ${leader}` : "no leader is known yet", leader);
  }

  private safely(action: () => void): void {
    try {
      action();
    } catch (error) {
      console.error("skyclaw raft: a listener failed:", error);
    }
  }

  private fatal(error: unknown): void {
    this.settle();
    if (this.options.onFatal) this.options.onFatal(error);
    else {
      console.error("skyclaw raft: cannot continue:", error);
      process.exit(70);
    }
  }
}

/**
 * What a leader sends about its own log, which needs none of this Ready durable: appends (the
 * leader counts its own copy towards a commit only once synced), heartbeats and snapshots.
 * Votes, acknowledgements and TimeoutNow promise durable state, so they wait for the fsync.
 */
function sendableBeforeSync(message: Message): boolean {
  return message.type === "append" || message.type === "heartbeat" || message.type === "snapshot";
}

function publicRole(role: Role): ProposerRole {
  return role === "leader" ? "leader" : role === "follower" ? "follower" : "candidate";
}
