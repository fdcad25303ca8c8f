/**
 * A synchronous, lossless test network for the Raft core: `settle()` carries out every Ready and
 * delivers every message until nothing is left, so a test reads as a sequence of cluster states.
 * Nodes can be isolated, messages filtered, and every delivered message is kept for assertions.
 */
import { expect } from "bun:test";
import type { Membership, Message } from "../../../src/raft/core/messages";
import { Prng } from "../../sim/prng";
import { type Disk, type NodeOptions, SimNode } from "../../sim/sim-node";

export class TestCluster {
  readonly nodes = new Map<string, SimNode>();
  readonly delivered: Message[] = [];
  /** Return false to drop a message. */
  filter: (message: Message) => boolean = () => true;
  private readonly isolated = new Set<string>();
  private readonly prng = new Prng(42);

  constructor(
    voters: string[],
    private readonly options: NodeOptions = {},
    joiners: string[] = [],
  ) {
    const bootstrap: Membership = { voters, learners: [] };
    for (const id of voters) this.nodes.set(id, new SimNode(id, options, this.newRandom, bootstrap));
    for (const id of joiners) this.nodes.set(id, new SimNode(id, options, this.newRandom));
  }

  /** Replaces a node by one restarted from `disk` (a crafted log, for scenarios). */
  withDisk(id: string, disk: Disk): SimNode {
    const node = new SimNode(id, this.options, this.newRandom);
    node.disk = disk;
    node.restart();
    this.nodes.set(id, node);
    return node;
  }

  node(id: string): SimNode {
    const node = this.nodes.get(id);
    if (!node) throw new Error(`no node ${id}`);
    return node;
  }

  raft(id: string) {
    return this.node(id).raft;
  }

  isolate(id: string): void {
    this.isolated.add(id);
  }

  heal(): void {
    this.isolated.clear();
  }

  settle(): void {
    for (let round = 0; round < 10_000; round++) {
      const outbox: Message[] = [];
      for (const node of this.nodes.values()) {
        const messages = node.handleReady();
        if (messages) outbox.push(...messages);
      }
      let stepped = false;
      for (const message of outbox) {
        if (this.isolated.has(message.from) || this.isolated.has(message.to) || !this.filter(message)) continue;
        const target = this.nodes.get(message.to);
        if (!target) continue;
        this.delivered.push(message);
        target.raft.step(message);
        stepped = true;
      }
      if (!stepped && ![...this.nodes.values()].some((node) => node.raft.hasReady())) return;
    }
    throw new Error("cluster did not settle");
  }

  /** Ticks the given nodes (all by default) `times` times, settling after each tick. */
  tick(times: number, ids: string[] = [...this.nodes.keys()]): void {
    for (let i = 0; i < times; i++) {
      for (const id of ids) this.raft(id).tick();
      this.settle();
    }
  }

  elect(id: string): void {
    this.raft(id).campaign();
    this.settle();
    expect(this.raft(id).status().role).toBe("leader");
  }

  leaders(): string[] {
    return [...this.nodes.values()].filter((node) => node.raft.status().role === "leader").map((node) => node.id);
  }

  /** Proposes at `id` (which must lead) and settles; returns the entry's index. */
  propose(id: string, data: string): number {
    const result = this.raft(id).propose(data);
    if (!result.ok) throw new Error(`proposal refused: ${result.message}`);
    this.settle();
    return result.index;
  }

  count(predicate: (message: Message) => boolean): number {
    return this.delivered.filter(predicate).length;
  }

  private readonly newRandom = () => {
    const stream = this.prng.fork();
    return () => stream.next();
  };
}
