/**
 * The coordinator's metrics. Two kinds:
 *
 * - Events, counted as the log applies them (node.log.onApplied): dispatch latency and expired
 *   leases. They live in this process, so they start from zero when it restarts, as Prometheus
 *   counters are expected to.
 * - Facts of the state (jobs, queue, hosts, applied index), read from SQLite when /metrics is
 *   scraped, so they are never stale and cost nothing between scrapes.
 *
 * Dispatch latency is observed only while this node is the leader: followers apply the same
 * claims later, and counting them there would measure replication, not dispatch.
 */
import type { Database } from "bun:sqlite";
import { HOST_STATES, type Job } from "../../api";
import type { RaftTimings } from "../../raft/driver/timings";
import type { AppliedEntry, Proposer } from "../../raft/proposer";
import type { Command, CommandResult } from "../../state/commands";
import type { ExpiryReport } from "../../state/commands/leases";
import { jobCountsByState, lastApplied, listHosts, queueDepthOfEveryRequirementSet } from "../../state/queries";
import { VERSION } from "../../version";
import { Registry, type Counter, type Histogram } from "./registry";

/** Seconds; from "claimable" to "leased", so mostly long-poll wake-up and group-commit time. */
const DISPATCH_LATENCY_BUCKETS_SECONDS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];

/** Seconds; a replicated write on a LAN takes a few milliseconds (two fsyncs and a round trip). */
const RAFT_LATENCY_BUCKETS_SECONDS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const EXPIRY_OUTCOMES = ["requeued", "dead", "cancelled"] as const;

/** What the metrics read of a coordinator node. */
export interface MetricsSource {
  db: Database;
  log: Proposer<Command, CommandResult>;
}

/** Raft figures of a clustered node (ClusterRuntime.status() has them); absent for a single coordinator. */
export interface RaftStatusSource {
  status(): { term: number; commit: number };
  observeTimings?(observer: RaftTimings): void;
}

export class CoordinatorMetrics {
  readonly registry = new Registry();
  private readonly httpRequests: Counter;
  private readonly dispatchLatency: Histogram;
  private readonly leasesExpired: Counter;
  /** The request counter's series by method, route and status: looked up on every request, without building a key. */
  private readonly requestSeries = new Map<string, Map<string, Map<number | string, { value: number }>>>();

  constructor(
    private readonly node: MetricsSource,
    raft?: RaftStatusSource,
  ) {
    const { registry } = this;
    const db = node.db;
    registry.gauge("skyclaw_build_info", "Version of this coordinator (the value is always 1).", () => [
      { labels: { version: VERSION }, value: 1 },
    ]);
    registry.gauge("skyclaw_jobs", "Jobs by state.", () =>
      Object.entries(jobCountsByState(db)).map(([state, count]) => ({ labels: { state }, value: count })),
    );
    registry.gauge(
      "skyclaw_queue_depth",
      'Queued jobs per requirement set (0 for a set with none queued); "requires" is the sorted list of required capabilities joined by commas.',
      () => queueDepthOfEveryRequirementSet(db).map(({ requires, queued }) => ({ labels: { requires: [...requires].sort().join(",") }, value: queued })),
    );
    registry.gauge("skyclaw_hosts", "Registered hosts by state.", () => {
      const counts = new Map<string, number>(HOST_STATES.map((state) => [state, 0]));
      for (const host of listHosts(db)) counts.set(host.state, (counts.get(host.state) ?? 0) + 1);
      return [...counts].map(([state, count]) => ({ labels: { state }, value: count }));
    });
    this.dispatchLatency = registry.histogram(
      "skyclaw_dispatch_latency_seconds",
      "Seconds from a job becoming claimable (enqueued, or requeued and past its backoff) to its claim being applied; observed on the leader.",
      DISPATCH_LATENCY_BUCKETS_SECONDS,
    );
    this.dispatchLatency.declare();
    this.leasesExpired = registry.counter("skyclaw_leases_expired_total", "Leases that expired unrenewed, by what became of the job.");
    for (const outcome of EXPIRY_OUTCOMES) this.leasesExpired.inc({ outcome }, 0);
    registry.gauge("skyclaw_raft_applied_index", "Index of the last log entry applied to this node's state.", () => [
      { labels: {}, value: lastApplied(db) },
    ]);
    registry.gauge("skyclaw_raft_is_leader", "1 when this node is the leader (a single coordinator always is), else 0.", () => [
      { labels: {}, value: node.log.role() === "leader" ? 1 : 0 },
    ]);
    if (raft !== undefined) {
      registry.gauge("skyclaw_raft_term", "Current Raft term of this node.", () => [{ labels: {}, value: raft.status().term }]);
      registry.gauge("skyclaw_raft_commit_index", "Highest log index this node knows to be committed.", () => [
        { labels: {}, value: raft.status().commit },
      ]);
      if (raft.observeTimings) this.observeRaftTimings(raft.observeTimings.bind(raft));
    }
    this.httpRequests = registry.counter("skyclaw_http_requests_total", "HTTP requests answered, by method, route pattern and status.");
    node.log.onApplied((entries) => this.observeApplied(entries));
  }

  /** Counts one answered request; `route` is the route pattern (e.g. /v1/jobs/:id), never the raw path. */
  countRequest(method: string, route: string, status: number | string): void {
    let byRoute = this.requestSeries.get(method);
    if (byRoute === undefined) this.requestSeries.set(method, (byRoute = new Map()));
    let byStatus = byRoute.get(route);
    if (byStatus === undefined) byRoute.set(route, (byStatus = new Map()));
    let series = byStatus.get(status);
    if (series === undefined) byStatus.set(status, (series = this.httpRequests.series({ method, route, status: String(status) })));
    series.value++;
  }

  render(): string {
    return this.registry.render();
  }

  /** Where a replicated write spends its time, as etcd reports its WAL fsync and peer round trips. */
  private observeRaftTimings(observe: (observer: RaftTimings) => void): void {
    const { registry } = this;
    const proposal = registry.histogram(
      "skyclaw_raft_proposal_seconds",
      "Seconds from a write being proposed on this node (the leader) to its entry being committed and applied here.",
      RAFT_LATENCY_BUCKETS_SECONDS,
    );
    const fsync = registry.histogram("skyclaw_raft_log_fsync_seconds", "Seconds each fsync of this node's Raft log took.", RAFT_LATENCY_BUCKETS_SECONDS);
    const roundTrip = registry.histogram(
      "skyclaw_raft_peer_round_trip_seconds",
      "Seconds from sending a batch of Raft messages to a peer to its answer (the peer makes the batch durable first), by peer URL.",
      RAFT_LATENCY_BUCKETS_SECONDS,
    );
    const peers = new Map<string, (seconds: number) => void>();
    observe({
      proposal: proposal.observerOf(),
      logFsync: fsync.observerOf(),
      peerRoundTrip: (peer, seconds) => {
        let observePeer = peers.get(peer);
        if (observePeer === undefined) peers.set(peer, (observePeer = roundTrip.observerOf({ peer })));
        observePeer(seconds);
      },
    });
  }

  private observeApplied(entries: AppliedEntry<Command, CommandResult>[]): void {
    const leader = this.node.log.role() === "leader";
    for (const { command, result } of entries) {
      if (!result.ok) continue;
      if (command.type === "claim" && leader) {
        for (const job of (result.value as { jobs: Job[] }).jobs) {
          this.dispatchLatency.observe(Math.max(0, command.at - job.availableAt) / 1000);
        }
      } else if (command.type === "expireLeases") {
        const report = result.value as ExpiryReport;
        for (const outcome of EXPIRY_OUTCOMES) {
          if (report[outcome].length > 0) this.leasesExpired.inc({ outcome }, report[outcome].length);
        }
      }
    }
  }
}
