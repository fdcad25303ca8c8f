/**
 * A coordinator's part in a cluster: the Raft driver applying the log to the state database, the
 * transport to the peers, and the leader's duties that follow from the log (extend live leases
 * when elected). The coordinator sees only `log`, a Proposer whose refusals are already the HTTP
 * errors a client should see, and reads the state through the driver's connection (`log.stateDb`).
 *
 * One connection for both: in WAL mode a connection's page cache is dropped whenever another
 * connection committed since its last transaction, so with two, every read after an apply would
 * fetch its pages again with pread.
 */
import type { Database } from "bun:sqlite";
import type { ClusterStatus } from "../../api";
import type { CoordinatorConfig } from "../../config";
import { RawHttpPool } from "../../client/raw-http";
import { openDatabase } from "../../db";
import type { SoftState } from "../../raft/core";
import { RaftProposer } from "../../raft/driver/raft-proposer";
import type { RaftTimings } from "../../raft/driver/timings";
import { PeerTransport } from "../../raft/driver/transport";
import type { AppliedEntry, Proposer } from "../../raft/proposer";
import type { Command, CommandResult } from "../../state/commands";
import { StateMachine } from "../../state/state-machine";
import { LeaderWatch } from "./leader-watch";
import { toHttpError } from "./refusals";
import { parseBatch } from "./replication-gate";

/** What the runtime needs of the coordinator once both exist. */
export interface ClusterHost {
  submit<T>(proposal: { type: "extendLeases"; leaseMs: number }): Promise<T>;
}

/** The replicated log as the coordinator uses it, with the state database it applies to. */
export interface ClusterLog extends Proposer<Command, CommandResult> {
  /** Owned by the runtime (closed with the log): the coordinator reads through it and never closes it. */
  readonly stateDb: Database;
}

export class ClusterRuntime {
  readonly self: string;
  readonly proposer: RaftProposer<Command, CommandResult>;
  readonly transport: PeerTransport;
  readonly leaderWatch: LeaderWatch;
  readonly log: ClusterLog;
  private readonly applyDb: Database;
  private readonly forwardingPools = new Map<string, RawHttpPool>();
  /** Whoever observes the driver's timings (the metrics, once the app is built). */
  private timingsObserver: RaftTimings | undefined;
  private readonly timings: RaftTimings = {
    proposal: (seconds) => this.timingsObserver?.proposal(seconds),
    logFsync: (seconds) => this.timingsObserver?.logFsync(seconds),
    peerRoundTrip: (peer, seconds) => this.timingsObserver?.peerRoundTrip(peer, seconds),
  };

  constructor(readonly config: CoordinatorConfig) {
    const cluster = config.cluster;
    this.self = cluster.advertiseUrl;
    this.applyDb = openDatabase(config.dbPath);
    // The Raft log (synchronous=FULL) is what makes a write durable; the state db only needs to
    // be consistent. NORMAL in WAL mode never tears a transaction, and last_applied commits with
    // the changes it covers, so a state db that lost its latest commits in a power loss restarts
    // at an older last_applied and the driver applies the rest again from the log (entries after
    // the snapshot are always kept; below the snapshot index the fsynced image is installed).
    this.applyDb.exec("PRAGMA synchronous = NORMAL");
    const stateMachine = new StateMachine(this.applyDb);
    const snapshotDir = `${config.dbPath}.snapshots`;
    this.transport = new PeerTransport({
      token: cluster.peerToken,
      snapshotPath: (name) => `${snapshotDir}/${name}`,
      timings: this.timings,
      onSnapshotFailed: (to) => this.proposer.reportSnapshotFailure(to),
      onReply: (body) => {
        if (!body.includes("\n")) return; // an older node's {"ok": true}: it sends its messages in requests
        const messages = parseBatch(body);
        if (typeof messages === "string") console.error(`skyclaw cluster: a peer's reply is not a batch of messages: ${messages}`);
        else void this.proposer.receive(messages);
      },
    });
    this.proposer = new RaftProposer<Command, CommandResult>({
      id: this.self,
      bootstrapVoters: cluster.join ? null : [this.self, ...config.peerUrls],
      raftDbPath: `${config.dbPath}.raft`,
      snapshotDir,
      stateDb: this.applyDb,
      applier: stateMachine,
      send: (messages) => this.transport.send(messages),
      tickMs: cluster.tickMs,
      electionTicks: cluster.electionTicks,
      heartbeatTicks: cluster.heartbeatTicks,
      minReplications: config.minReplications,
      snapshotIntervalEntries: cluster.snapshotIntervalEntries,
      snapshotRetainEntries: cluster.snapshotRetainEntries,
      timings: this.timings,
    });
    this.leaderWatch = new LeaderWatch(this.proposer);
    const proposer = this.proposer;
    this.log = {
      propose: (command) => proposer.propose(command).catch((error: unknown) => Promise.reject(toHttpError(error))),
      onApplied: (listener: (entries: AppliedEntry<Command, CommandResult>[]) => void) => proposer.onApplied(listener),
      role: () => proposer.role(),
      close: () => this.close(),
      stateDb: this.applyDb,
    };
  }

  /** Starts the leader's duties on `host` (the coordinator built on `log`). */
  attach(host: ClusterHost): void {
    let wasLeader = this.proposer.role() === "leader";
    this.proposer.onSoftState((soft: SoftState) => {
      const isLeader = soft.role === "leader";
      if (isLeader && !wasLeader) {
        console.error(`skyclaw cluster: ${this.self} is the leader (term ${this.proposer.status().term})`);
        // Proposed before anything else this leader proposes, so no lease expires before it.
        host.submit({ type: "extendLeases", leaseMs: this.config.timings.leaseMs }).catch((error: unknown) => {
          console.error(`skyclaw cluster: extending leases after the election failed: ${error instanceof Error ? error.message : String(error)}`);
        });
      }
      wasLeader = isLeader;
    });
  }

  /** `observer` is told how long proposals, log fsyncs and batches to peers take. */
  observeTimings(observer: RaftTimings): void {
    this.timingsObserver = observer;
  }

  status(): ClusterStatus {
    const status = this.proposer.status();
    const { voters, learners } = status.membership;
    const member = (url: string, role: "voter" | "learner") => ({
      url,
      role,
      leader: url === status.leader,
      match: url === this.self && status.role === "leader" ? status.lastIndex : (status.progress[url]?.match ?? null),
    });
    return {
      self: this.self,
      role: status.role === "preCandidate" ? "candidate" : status.role,
      leader: status.leader,
      term: status.term,
      commit: status.commit,
      applied: status.applied,
      snapshotIndex: status.snapshotIndex,
      members: [...voters.map((url) => member(url, "voter")), ...learners.map((url) => member(url, "learner"))],
    };
  }

  /** Keep-alive connections to `url` (the leader a follower forwards requests to), made at first use. */
  connectionsTo(url: string): RawHttpPool {
    let pool = this.forwardingPools.get(url);
    if (pool === undefined) this.forwardingPools.set(url, (pool = new RawHttpPool(url)));
    return pool;
  }

  close(): void {
    for (const pool of this.forwardingPools.values()) pool.close();
    this.forwardingPools.clear();
    this.transport.close();
    this.proposer.close();
    this.applyDb.close();
  }
}
