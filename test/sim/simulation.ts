/**
 * One deterministic run of a Raft cluster on a hostile network, from a seed. A chaos phase mixes
 * client proposals and reads with message drops, delays, duplicates and reordering, partitions,
 * crashes (losing everything not persisted) and restarts, log compaction, leadership transfers
 * and membership changes; the safety properties are checked after every step. Then the network
 * heals, every node restarts, and once the cluster has settled every acknowledged proposal must
 * be applied exactly once on every member.
 */
import { majority } from "../../src/raft/core/membership";
import type { Entry, Membership } from "../../src/raft/core/messages";
import type { ReadState, Ready } from "../../src/raft/core/ready";
import { InvariantChecker, InvariantViolation } from "./invariants";
import { RELIABLE, SimNetwork } from "./network";
import { Prng } from "./prng";
import { type DriverHooks, type NodeOptions, SimNode } from "./sim-node";

export interface SimulationOptions {
  seed: number;
  nodeCount: number;
  chaosSteps?: number;
  maxSettleSteps?: number;
  trace?: (line: string) => void;
}

export interface SimulationReport {
  seed: number;
  nodeCount: number;
  steps: number;
  proposals: number;
  acknowledged: number;
  readsConfirmed: number;
  highestTerm: number;
  crashes: number;
  snapshotsInstalled: number;
  membershipChanges: number;
  transfers: number;
  messagesDelivered: number;
  messagesDropped: number;
}

export class SimulationFailure extends Error {
  constructor(
    readonly seed: number,
    readonly nodeCount: number,
    readonly step: number,
    cause: unknown,
  ) {
    super(`seed ${seed} (${nodeCount} nodes) failed at step ${step}: ${cause instanceof Error ? cause.message : String(cause)}\n  replay: ${replayCommand(seed, nodeCount)}`, { cause });
  }
}

export function replayCommand(seed: number, nodeCount: number): string {
  return `bun run sim --seed ${seed} --nodes ${nodeCount} --trace`;
}

export function runSimulation(options: SimulationOptions): SimulationReport {
  const simulation = new Simulation(options);
  try {
    return simulation.run();
  } catch (error) {
    throw new SimulationFailure(options.seed, options.nodeCount, simulation.step, error);
  }
}

interface PendingProposal {
  term: number;
  value: string;
}

class Simulation {
  step = 0;
  private chaos = true;
  /** A Ready taken (and persisted) but not yet sent, applied and advanced: a slow disk. */
  private readonly unfinishedReadies = new Map<string, Ready>();
  private readonly slowDiskRate: number;
  private readonly prng: Prng;
  private readonly network: SimNetwork;
  private readonly nodes: SimNode[] = [];
  private readonly crashed = new Set<string>();
  private readonly checker = new InvariantChecker();
  private readonly hooks: DriverHooks;
  /** Per node: proposals it accepted as leader, by index, awaiting commit. */
  private readonly pendingProposals = new Map<string, Map<number, PendingProposal>>();
  private readonly acknowledged = new Map<string, number>();
  private maxAcknowledgedIndex = 0;
  /** Read request id → the highest index acknowledged before it was issued. */
  private readonly pendingReads = new Map<string, number>();
  private nextValue = 0;
  private nextRead = 0;
  private readonly report: SimulationReport;
  private readonly trace: (line: string) => void;

  constructor(private readonly options: SimulationOptions) {
    const { seed, nodeCount } = options;
    this.prng = new Prng(seed);
    this.trace = options.trace ?? (() => {});
    const voters = Array.from({ length: nodeCount }, (_, i) => `n${i + 1}`);
    const spare = `n${nodeCount + 1}`;
    const nodeOptions: NodeOptions = {
      electionTicks: this.prng.pick([10, 20]),
      heartbeatTicks: 3,
      maxEntriesPerAppend: this.prng.pick([1, 4, 64]),
      maxInflightAppends: this.prng.pick([1, 4, 32]),
      minReplications: this.prng.pick([1, majority(nodeCount) + 1]),
      snapshotTimeoutTicks: 60,
      maxPromoteLagEntries: 20,
    };
    this.network = new SimNetwork(this.prng.fork(), {
      dropRate: this.prng.pick([0, 0.01, 0.05, 0.15]),
      duplicateRate: this.prng.pick([0, 0.02, 0.1]),
      maxExtraDelaySteps: this.prng.pick([0, 1, 3, 6]),
    });
    this.slowDiskRate = this.prng.pick([0, 0, 0.3]);
    this.trace(`options ${JSON.stringify(nodeOptions)} network ${JSON.stringify(this.network.faults)} slowDisk ${this.slowDiskRate}`);
    const newRandom = () => {
      const stream = this.prng.fork();
      return () => stream.next();
    };
    const bootstrap: Membership = { voters, learners: [] };
    for (const id of voters) this.nodes.push(new SimNode(id, nodeOptions, newRandom, bootstrap));
    this.nodes.push(new SimNode(spare, nodeOptions, newRandom));
    this.report = {
      seed,
      nodeCount,
      steps: 0,
      proposals: 0,
      acknowledged: 0,
      readsConfirmed: 0,
      highestTerm: 0,
      crashes: 0,
      snapshotsInstalled: 0,
      membershipChanges: 0,
      transfers: 0,
      messagesDelivered: 0,
      messagesDropped: 0,
    };
    this.hooks = {
      persisting: (node, entries, prevTerm) => this.checker.checkPersisting(node, entries, prevTerm),
      applied: (node, entry) => this.onApplied(node, entry),
      readStates: (node, states) => this.onReadStates(node, states),
      softState: (node, softState) => this.trace(`${node.id} is ${softState.role} (leader ${softState.leader}, term ${node.raft.status().term})`),
    };
  }

  run(): SimulationReport {
    const chaosSteps = this.options.chaosSteps ?? 1000;
    for (; this.step < chaosSteps; this.step++) {
      this.injectChaos();
      this.advanceTime();
    }
    this.trace("healing: network reliable, every node restarted");
    this.chaos = false;
    this.network.heal();
    this.network.faults = RELIABLE;
    for (const id of [...this.crashed]) this.restart(id);
    const settleUntil = this.step + (this.options.maxSettleSteps ?? 3000);
    while (!this.converged()) {
      if (this.step >= settleUntil) throw new InvariantViolation(`cluster did not converge within ${this.options.maxSettleSteps ?? 3000} steps after healing`);
      this.advanceTime();
      this.step++;
    }
    this.checkExactlyOnce();
    this.report.steps = this.step;
    this.report.messagesDelivered = this.network.delivered;
    this.report.messagesDropped = this.network.dropped;
    this.report.highestTerm = Math.max(...this.nodes.map((node) => node.raft.status().term));
    return this.report;
  }

  private advanceTime(): void {
    for (const node of this.liveNodes()) if (this.prng.chance(0.97)) node.raft.tick();
    for (const message of this.network.takeDue(this.step)) {
      if (this.crashed.has(message.to)) continue;
      const node = this.nodes.find((candidate) => candidate.id === message.to);
      if (message.type === "snapshot") this.report.snapshotsInstalled++;
      node?.raft.step(message);
    }
    this.processReadies();
    this.checker.checkLeaders(this.liveNodes());
  }

  private processReadies(): void {
    for (let round = 0; round < 20; round++) {
      let any = false;
      for (const node of this.liveNodes()) {
        let ready = this.unfinishedReadies.get(node.id) ?? null;
        if (!ready) {
          ready = node.takeReady(this.hooks);
          if (!ready) continue;
          any = true;
        }
        if (this.chaos && this.prng.chance(this.slowDiskRate)) {
          this.unfinishedReadies.set(node.id, ready); // persisted; sent and applied in a later step
          continue;
        }
        this.unfinishedReadies.delete(node.id);
        const messages = node.finishReady(ready, this.hooks);
        if (this.chaos && this.prng.chance(0.001)) {
          this.crash(node.id, "after persisting, before sending");
          continue;
        }
        for (const message of messages) this.network.send(message, this.step);
      }
      if (!any) return;
    }
    throw new InvariantViolation("a node kept producing Ready after 20 rounds in one step");
  }

  private injectChaos(): void {
    const live = this.liveNodes();
    if (live.length > 0 && this.prng.chance(0.3)) {
      const count = this.prng.int(1, 3);
      for (let i = 0; i < count; i++) this.propose(this.prng.pick(live));
    }
    if (live.length > 0 && this.prng.chance(0.03)) this.readIndex(this.prng.pick(live));
    if (!this.network.isPartitioned() && this.prng.chance(0.01)) this.partition();
    else if (this.network.isPartitioned() && this.prng.chance(0.02)) {
      this.trace("heal");
      this.network.heal();
    }
    if (live.length > 0 && this.prng.chance(0.004)) this.crash(this.prng.pick(live).id, "between steps");
    for (const id of [...this.crashed]) if (this.prng.chance(0.03)) this.restart(id);
    for (const node of this.liveNodes()) {
      // A driver compacts only past the newest snapshot it knows of, including one still being installed.
      if (this.prng.chance(0.01) && node.appliedIndex > node.raft.status().snapshotIndex) {
        const snapshot = node.compact(this.prng.int(0, 8));
        this.trace(`${node.id} compacts at ${snapshot.index}`);
      }
    }
    const leader = this.currentLeader();
    // Leaders are where the interesting bugs hide: depose them often, with entries in flight.
    if (leader && this.prng.chance(0.004)) this.crash(leader.id, "as leader");
    else if (leader && !this.network.isPartitioned() && this.prng.chance(0.006)) {
      this.network.partition([[leader.id], this.nodes.map((node) => node.id).filter((id) => id !== leader.id)]);
      this.trace(`partition isolates leader ${leader.id}`);
    }
    if (leader && this.prng.chance(0.003)) this.transfer(leader);
    if (leader && this.prng.chance(0.005)) this.changeMembership(leader);
  }

  private propose(node: SimNode): void {
    const value = `v${this.nextValue++}`;
    this.report.proposals++;
    let result = node.raft.propose(value);
    if (!result.ok && result.leader !== null && this.prng.chance(0.8)) {
      // The client follows the redirect, as the HTTP client does.
      const leaderId = result.leader;
      const leader = this.liveNodes().find((candidate) => candidate.id === leaderId);
      if (leader) {
        node = leader;
        result = leader.raft.propose(value);
      }
    }
    if (!result.ok) return;
    let pending = this.pendingProposals.get(node.id);
    if (!pending) this.pendingProposals.set(node.id, (pending = new Map()));
    pending.set(result.index, { term: result.term, value });
  }

  private readIndex(node: SimNode): void {
    const requestId = `r${this.nextRead++}`;
    if (node.raft.readIndex(requestId).ok) this.pendingReads.set(requestId, this.maxAcknowledgedIndex);
  }

  private onApplied(node: SimNode, entry: Entry): void {
    this.checker.checkApplied(node, entry);
    const pending = this.pendingProposals.get(node.id)?.get(entry.index);
    if (!pending) return;
    this.pendingProposals.get(node.id)!.delete(entry.index);
    if (pending.term !== entry.term) return; // overwritten by another leader: never acknowledged
    if (entry.data !== pending.value) throw new InvariantViolation(`${node.id} committed ${entry.data} where it had appended ${pending.value} at ${entry.index}`);
    this.acknowledged.set(pending.value, entry.index);
    this.maxAcknowledgedIndex = Math.max(this.maxAcknowledgedIndex, entry.index);
    this.report.acknowledged++;
  }

  private onReadStates(node: SimNode, states: ReadState[]): void {
    for (const state of states) {
      const atLeast = this.pendingReads.get(state.requestId);
      if (atLeast === undefined) continue;
      this.pendingReads.delete(state.requestId);
      if (state.index < atLeast) {
        throw new InvariantViolation(`linearizable read: ${node.id} answered ${state.requestId} with index ${state.index}, but ${atLeast} was acknowledged before it was asked`);
      }
      this.report.readsConfirmed++;
    }
  }

  private partition(): void {
    const ids = this.prng.shuffle(this.nodes.map((node) => node.id));
    const kind = this.prng.pick(["isolate", "split", "oneWay"] as const);
    if (kind === "oneWay") {
      this.network.cutOneWay(ids[0]!, ids[1]!);
    } else {
      const cut = kind === "isolate" ? 1 : this.prng.int(1, Math.floor(ids.length / 2));
      this.network.partition([ids.slice(0, cut), ids.slice(cut)]);
    }
    this.trace(`partition ${kind}: ${ids.join(",")}`);
  }

  private crash(id: string, when: string): void {
    this.crashed.add(id);
    this.unfinishedReadies.delete(id);
    this.pendingProposals.delete(id);
    this.report.crashes++;
    this.trace(`${id} crashes ${when}`);
  }

  private restart(id: string): void {
    this.crashed.delete(id);
    this.nodes.find((node) => node.id === id)!.restart();
    this.trace(`${id} restarts`);
  }

  private transfer(leader: SimNode): void {
    const voters = leader.raft.status().membership.voters.filter((id) => id !== leader.id);
    if (voters.length === 0) return;
    const to = this.prng.pick(voters);
    if (leader.raft.transferLeadership(to).ok) {
      this.report.transfers++;
      this.trace(`${leader.id} transfers leadership to ${to}`);
    }
  }

  private changeMembership(leader: SimNode) {
    const { voters, learners } = leader.raft.status().membership;
    const members = new Set([...voters, ...learners]);
    const options: ({ type: "addLearner" | "promote" | "remove"; node: string })[] = [];
    for (const node of this.nodes) if (!members.has(node.id)) options.push({ type: "addLearner", node: node.id });
    for (const node of learners) options.push({ type: "promote", node }, { type: "remove", node });
    if (voters.length > 3) for (const node of voters) if (node !== leader.id) options.push({ type: "remove", node });
    if (options.length === 0) return;
    const change = this.prng.pick(options);
    const result = leader.raft.proposeMembership(change);
    this.trace(`${leader.id} proposes ${change.type} ${change.node}: ${result.ok ? `at ${result.index}` : result.message}`);
    if (result.ok) this.report.membershipChanges++;
  }

  private converged(): boolean {
    const leader = this.currentLeader();
    if (!leader) return false;
    const status = leader.raft.status();
    if (status.commit < status.lastIndex) return false;
    for (const id of [...status.membership.voters, ...status.membership.learners]) {
      const node = this.nodes.find((candidate) => candidate.id === id)!;
      if (node.appliedIndex !== status.commit) return false;
    }
    return true;
  }

  private checkExactlyOnce(): void {
    const { voters, learners } = this.currentLeader()!.raft.status().membership;
    for (const id of [...voters, ...learners]) {
      const node = this.nodes.find((candidate) => candidate.id === id)!;
      const seen = new Set<string>();
      for (const value of node.appliedValues) {
        if (seen.has(value)) throw new InvariantViolation(`exactly once: ${id} applied ${value} twice`);
        seen.add(value);
      }
      for (const value of this.acknowledged.keys()) {
        if (!seen.has(value)) throw new InvariantViolation(`durability: acknowledged ${value} is not applied on ${id}`);
      }
    }
  }

  private currentLeader(): SimNode | null {
    let best: SimNode | null = null;
    for (const node of this.liveNodes()) {
      const status = node.raft.status();
      if (status.role === "leader" && (!best || status.term > best.raft.status().term)) best = node;
    }
    return best;
  }

  private liveNodes(): SimNode[] {
    return this.nodes.filter((node) => !this.crashed.has(node.id));
  }
}
