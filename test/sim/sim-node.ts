/**
 * An in-memory driver for one RaftNode, used by the simulation and the core's unit tests: a "disk"
 * holding exactly what Ready asked to persist, and a toy state machine (the list of applied
 * values) whose snapshot is its JSON. `restart()` rebuilds the node from the disk alone, as a
 * crashed process would.
 */
import type { RaftOptions } from "../../src/raft/core/options";
import { RaftNode } from "../../src/raft/core/node";
import type { Entry, HardState, Membership, Message, SoftState, Snapshot } from "../../src/raft/core/messages";
import type { ReadState, Ready } from "../../src/raft/core/ready";

export interface Disk {
  hardState: HardState;
  snapshot: Snapshot | null;
  entries: Entry[];
}

export interface DriverHooks {
  /** Entries about to be persisted; `prevTerm` is the term of the entry before the first one. */
  persisting?(node: SimNode, entries: Entry[], prevTerm: number | undefined): void;
  applied?(node: SimNode, entry: Entry): void;
  softState?(node: SimNode, softState: SoftState): void;
  readStates?(node: SimNode, states: ReadState[], dropped: string[]): void;
}

export type NodeOptions = Omit<RaftOptions, "id" | "random">;

export class SimNode {
  raft: RaftNode;
  disk: Disk = { hardState: { term: 0, vote: null, commit: 0 }, snapshot: null, entries: [] };
  appliedIndex = 0;
  appliedValues: string[] = [];

  constructor(
    readonly id: string,
    private readonly options: NodeOptions,
    private readonly newRandom: () => () => number,
    bootstrap?: Membership,
  ) {
    this.raft = new RaftNode({ ...options, id, random: newRandom() }, null, { bootstrap });
  }

  /** Loses everything not on the disk, then starts again from the disk. */
  restart(): void {
    const disk: Disk = { hardState: { ...this.disk.hardState }, snapshot: this.disk.snapshot, entries: [...this.disk.entries] };
    this.raft = new RaftNode({ ...this.options, id: this.id, random: this.newRandom() }, disk);
    this.installSnapshot(this.disk.snapshot);
  }

  /** Carries out one Ready if there is one; returns the messages it asked to send. */
  handleReady(hooks: DriverHooks = {}): Message[] | null {
    const ready = this.takeReady(hooks);
    return ready ? this.finishReady(ready, hooks) : null;
  }

  /** First half of a Ready: takes it and writes it to the disk. */
  takeReady(hooks: DriverHooks = {}): Ready | null {
    if (!this.raft.hasReady()) return null;
    const ready = this.raft.ready();
    if (ready.snapshot) {
      this.disk.snapshot = ready.snapshot;
      this.disk.entries = [];
    }
    if (ready.entries.length > 0) {
      const first = ready.entries[0]!;
      hooks.persisting?.(this, ready.entries, this.raft.termAt(first.index - 1));
      const keep = this.disk.entries.length === 0 ? 0 : Math.max(0, first.index - this.disk.entries[0]!.index);
      this.disk.entries = this.disk.entries.slice(0, keep).concat(ready.entries);
    }
    if (ready.hardState) this.disk.hardState = { ...ready.hardState };
    return ready;
  }

  /**
   * Second half, possibly steps later (a slow disk): the node keeps receiving messages meanwhile.
   * Applies the committed entries, advances the node, and returns the messages to send.
   */
  finishReady(ready: Ready, hooks: DriverHooks = {}): Message[] {
    if (ready.softState) hooks.softState?.(this, ready.softState);
    if (ready.snapshot) this.installSnapshot(ready.snapshot);
    for (const entry of ready.committedEntries) {
      if (entry.index !== this.appliedIndex + 1) throw new Error(`${this.id} applied entry ${entry.index} after ${this.appliedIndex}`);
      this.appliedIndex = entry.index;
      if (entry.type === "normal") this.appliedValues.push(entry.data);
      hooks.applied?.(this, entry);
    }
    if (ready.readStates.length > 0 || ready.droppedReads.length > 0) hooks.readStates?.(this, ready.readStates, ready.droppedReads);
    this.raft.advance(ready);
    return ready.messages;
  }

  /** Snapshots the state machine at its applied index and drops the covered log from the disk. */
  compact(retainEntries: number): Snapshot {
    const snapshot = this.raft.compact(this.appliedIndex, JSON.stringify(this.appliedValues), retainEntries);
    this.disk.snapshot = snapshot;
    const firstKept = this.raft.status().firstIndex;
    this.disk.entries = this.disk.entries.filter((entry) => entry.index >= firstKept);
    return snapshot;
  }

  private installSnapshot(snapshot: Snapshot | null): void {
    this.appliedIndex = snapshot?.index ?? 0;
    this.appliedValues = snapshot ? (JSON.parse(snapshot.data) as string[]) : [];
  }
}
