/**
 * The in-memory Raft log of one node: an optional snapshot, the entries after the compaction
 * point, and three cursors — `committed`, `applied`, and `stableLast` (the last entry the driver
 * has confirmed it persisted). Entries past `stableLast` are handed to the driver in the next Ready.
 *
 * Entries may be retained below the snapshot index (`compact(..., retainEntries)`) so followers
 * that are only slightly behind catch up from the log instead of receiving a whole snapshot.
 */
import { decodeMembership, EMPTY_MEMBERSHIP } from "./membership";
import type { Entry, Membership, Snapshot } from "./messages";

export interface PersistedLog {
  snapshot: Snapshot | null;
  entries: Entry[];
  commit: number;
}

interface ConfigPoint {
  index: number;
  membership: Membership;
}

export class RaftLog {
  /** Index of the entry just before `entries[0]`. */
  private offset: number;
  /** Term of the entry at `offset` when known (after a restart with retained entries it may not be). */
  private offsetTerm: number | undefined;
  private entries: Entry[] = [];
  private configs: ConfigPoint[] = [];
  private latestSnapshot: Snapshot | null;
  /** True from installing a leader's snapshot until the driver confirms it persisted it. */
  private snapshotUnpersisted = false;
  committed: number;
  applied: number;
  stableLast: number;

  constructor(persisted: PersistedLog, appliedIndex: number) {
    const snapshot = persisted.snapshot;
    this.latestSnapshot = snapshot;
    let entries = persisted.entries;
    const lastStored = entries.at(-1)?.index ?? 0;
    if (snapshot && lastStored < snapshot.index) entries = [];
    if (snapshot && entries.length > 0 && entries[0]!.index > snapshot.index + 1) {
      throw new Error(`log gap: snapshot ends at ${snapshot.index}, entries start at ${entries[0]!.index}`);
    }
    this.offset = entries.length > 0 ? entries[0]!.index - 1 : (snapshot?.index ?? 0);
    this.offsetTerm = this.offset === 0 ? 0 : this.offset === snapshot?.index ? snapshot.term : undefined;
    for (const entry of entries) this.push(entry);
    this.stableLast = this.lastIndex();
    const snapshotIndex = snapshot?.index ?? 0;
    this.applied = Math.max(snapshotIndex, appliedIndex);
    this.committed = Math.max(persisted.commit, this.applied);
    if (this.committed > this.lastIndex()) throw new Error(`commit ${this.committed} is past the last log index ${this.lastIndex()}`);
  }

  snapshot(): Snapshot | null {
    return this.latestSnapshot;
  }

  /** The first index whose entry is still in memory. */
  firstIndex(): number {
    return this.offset + 1;
  }

  lastIndex(): number {
    return this.offset + this.entries.length;
  }

  lastTerm(): number {
    return this.term(this.lastIndex()) ?? 0;
  }

  /** Term of the entry at `index`, or undefined when it was compacted away or does not exist. */
  term(index: number): number | undefined {
    if (index === 0) return 0;
    if (this.latestSnapshot && index === this.latestSnapshot.index) return this.latestSnapshot.term;
    if (index === this.offset) return this.offsetTerm;
    if (index < this.offset || index > this.lastIndex()) return undefined;
    return this.entries[index - this.offset - 1]!.term;
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** Whether a candidate whose log ends at (lastIndex, lastTerm) is at least as up to date as ours. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  /** Entries in [from, to], both inclusive; `from` must not be compacted. */
  slice(from: number, to: number): Entry[] {
    if (from <= this.offset) throw new Error(`entry ${from} is compacted (first index ${this.firstIndex()})`);
    if (to < from) return [];
    return this.entries.slice(from - this.offset - 1, to - this.offset);
  }

  /** Appends entries that directly follow the last one (the leader's own proposals). */
  append(entries: Entry[]): void {
    for (const entry of entries) {
      if (entry.index !== this.lastIndex() + 1) throw new Error(`append of ${entry.index} after ${this.lastIndex()}`);
      this.push(entry);
    }
  }

  /**
   * The follower side of AppendEntries: if our entry at prevIndex has prevTerm, drop whatever
   * conflicts with `entries` and append the rest. Returns the index of the last entry the message
   * vouches for, or null when prevIndex does not match.
   */
  tryAppend(prevIndex: number, prevTerm: number, entries: Entry[]): number | null {
    if (!this.matchTerm(prevIndex, prevTerm)) return null;
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      const ourTerm = this.term(entry.index);
      if (ourTerm === entry.term) continue;
      if (ourTerm !== undefined) this.truncateFrom(entry.index);
      this.append(entries.slice(i));
      break;
    }
    return prevIndex + entries.length;
  }

  /**
   * The last index at or before `index` whose term is at most `term`: every entry after it
   * certainly conflicts with a log whose entry at `index` has `term`.
   */
  findConflictByTerm(index: number, term: number): number {
    let at = Math.min(index, this.lastIndex());
    while (at > this.offset) {
      if (this.entries[at - this.offset - 1]!.term <= term) return at;
      at--;
    }
    return at;
  }

  commitTo(index: number): boolean {
    if (index <= this.committed) return false;
    if (index > this.lastIndex()) throw new Error(`commit ${index} past last index ${this.lastIndex()}`);
    this.committed = index;
    return true;
  }

  unstableEntries(): Entry[] {
    return this.stableLast >= this.lastIndex() ? [] : this.slice(Math.max(this.stableLast, this.offset) + 1, this.lastIndex());
  }

  /** The driver persisted entries up to (index, term); ignored if that entry was replaced since. */
  stableTo(index: number, term: number): void {
    if (index > this.stableLast && this.term(index) === term) this.stableLast = index;
  }

  /** Committed, persisted and not yet applied entries (none while a received snapshot is unpersisted). */
  nextCommittedEntries(): Entry[] {
    if (this.snapshotUnpersisted) return [];
    const to = Math.min(this.committed, this.stableLast);
    return to > this.applied ? this.slice(this.applied + 1, to) : [];
  }

  appliedTo(index: number): void {
    if (index > this.committed) throw new Error(`applied ${index} past commit ${this.committed}`);
    if (index > this.applied) this.applied = index;
  }

  /** A received snapshot not yet persisted (it replaces the whole log). */
  unpersistedSnapshot(): Snapshot | null {
    return this.snapshotUnpersisted ? this.latestSnapshot : null;
  }

  snapshotPersisted(snapshot: Snapshot): void {
    if (this.latestSnapshot?.index === snapshot.index) this.snapshotUnpersisted = false;
  }

  /** Replaces the whole log with a leader's snapshot. */
  restore(snapshot: Snapshot): void {
    this.entries = [];
    this.configs = [];
    this.offset = snapshot.index;
    this.offsetTerm = snapshot.term;
    this.latestSnapshot = snapshot;
    this.snapshotUnpersisted = true;
    this.committed = snapshot.index;
    this.applied = snapshot.index;
    this.stableLast = snapshot.index;
  }

  /**
   * Records a snapshot of the applied state at `index` and drops the entries it covers, keeping
   * the last `retainEntries` of them. Returns the snapshot for the driver to persist.
   */
  compact(index: number, data: string, retainEntries: number): Snapshot {
    const previous = this.latestSnapshot?.index ?? 0;
    if (index <= previous) throw new RangeError(`compact index ${index} is not after the current snapshot (${previous})`);
    if (index > this.applied) throw new RangeError(`compact index ${index} is past the applied index ${this.applied}`);
    const snapshot: Snapshot = { index, term: this.term(index)!, membership: this.membershipAt(index), data };
    const newOffset = Math.max(this.offset, index - Math.max(0, retainEntries));
    this.offsetTerm = this.term(newOffset);
    this.entries = this.entries.slice(newOffset - this.offset);
    this.configs = this.configs.filter((config) => config.index > newOffset);
    this.offset = newOffset;
    this.latestSnapshot = snapshot;
    return snapshot;
  }

  membership(): Membership {
    return this.membershipAt(this.lastIndex());
  }

  /** Membership in force at `index`: the latest config entry at or before it, else the snapshot's. */
  membershipAt(index: number): Membership {
    const snapshotIndex = this.latestSnapshot?.index ?? -1;
    for (let i = this.configs.length - 1; i >= 0; i--) {
      const config = this.configs[i]!;
      if (config.index > index) continue;
      if (config.index >= snapshotIndex || index < snapshotIndex) return config.membership;
      break;
    }
    return this.latestSnapshot && snapshotIndex <= index ? this.latestSnapshot.membership : EMPTY_MEMBERSHIP;
  }

  /** Index of the latest config entry in the log (0 if none is in memory). */
  lastConfigIndex(): number {
    return this.configs.at(-1)?.index ?? 0;
  }

  private push(entry: Entry): void {
    this.entries.push(entry);
    if (entry.type === "config") this.configs.push({ index: entry.index, membership: decodeMembership(entry.data) });
  }

  private truncateFrom(index: number): void {
    if (index <= this.committed) throw new Error(`refusing to truncate committed entry ${index} (commit ${this.committed})`);
    this.entries.length = index - this.offset - 1;
    this.configs = this.configs.filter((config) => config.index < index);
    this.stableLast = Math.min(this.stableLast, index - 1);
  }
}
