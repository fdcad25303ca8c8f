/**
 * Linearizable reads without writing to the log (Raft thesis §6.4): the leader notes its commit
 * index, confirms it is still leader with a round of heartbeats acknowledged by a majority, and
 * then the read may be served once that index is applied. A new leader first waits until an entry
 * of its own term is committed, since only then is its commit index known to be current.
 */
import type { NodeId } from "./messages";

export interface ReadState {
  requestId: string;
  /** Serve the read once the local state machine has applied this index. */
  index: number;
}

interface PendingRead {
  requestId: string;
  index: number;
  seq: number;
  acks: Set<NodeId>;
}

export class ReadIndexQueue {
  private waitingForTermCommit: string[] = [];
  private pending: PendingRead[] = [];
  /** Sequence number of the latest confirmation round; heartbeats carry it, responses echo it. */
  seq = 0;

  waitForTermCommit(requestId: string): void {
    this.waitingForTermCommit.push(requestId);
  }

  takeWaiting(): string[] {
    const waiting = this.waitingForTermCommit;
    this.waitingForTermCommit = [];
    return waiting;
  }

  /** Starts a confirmation round for reads at `index`; returns the round's sequence number. */
  start(requestIds: string[], index: number, self: NodeId): number {
    this.seq++;
    for (const requestId of requestIds) this.pending.push({ requestId, index, seq: this.seq, acks: new Set([self]) });
    return this.seq;
  }

  /** A voter answered a heartbeat sent in round `seq`: it confirms every read of that round or earlier. */
  acknowledge(from: NodeId, seq: number, voters: NodeId[], quorum: number): ReadState[] {
    if (!voters.includes(from)) return [];
    for (const read of this.pending) {
      if (read.seq > seq) break;
      read.acks.add(from);
    }
    const confirmed: ReadState[] = [];
    while (this.pending.length > 0) {
      const read = this.pending[0]!;
      const votes = [...read.acks].filter((id) => voters.includes(id)).length;
      if (votes < quorum) break;
      this.pending.shift();
      confirmed.push({ requestId: read.requestId, index: read.index });
    }
    return confirmed;
  }

  /** Every unanswered request, for the driver to fail when leadership is lost. */
  drain(): string[] {
    const ids = [...this.waitingForTermCommit, ...this.pending.map((read) => read.requestId)];
    this.waitingForTermCommit = [];
    this.pending = [];
    return ids;
  }
}
