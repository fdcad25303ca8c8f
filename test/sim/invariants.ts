/**
 * The Raft safety properties, checked as the simulation runs (Raft paper, Figure 3):
 * election safety, log matching, leader completeness and state-machine safety, plus
 * linearizability of read-index answers. Each check is incremental so it can run after every step.
 */
import type { Entry } from "../../src/raft/core/messages";
import type { SimNode } from "./sim-node";

export class InvariantViolation extends Error {}

interface CommittedEntry {
  term: number;
  type: Entry["type"];
  data: string;
  /** Lowest term of a node seen applying it: every leader of a later term must hold the entry. */
  observedTerm: number;
}

export class InvariantChecker {
  private leaderOfTerm = new Map<number, string>();
  /** (index, term) → what every log holding that entry must agree on, including its predecessor's term. */
  private entryIdentity = new Map<string, { prevTerm: number | undefined; type: Entry["type"]; data: string }>();
  private committed = new Map<number, CommittedEntry>();
  private verifiedLeaders = new Map<string, SimNode>();

  /** Election safety, and leader completeness for leaders seen for the first time. */
  checkLeaders(nodes: Iterable<SimNode>): void {
    const current = new Set<string>();
    for (const node of nodes) {
      const status = node.raft.status();
      if (status.role !== "leader") continue;
      const known = this.leaderOfTerm.get(status.term);
      if (known !== undefined && known !== node.id) {
        throw new InvariantViolation(`election safety: ${known} and ${node.id} are both leaders of term ${status.term}`);
      }
      this.leaderOfTerm.set(status.term, node.id);
      const key = `${node.id}@${status.term}`;
      current.add(key);
      if (!this.verifiedLeaders.has(key)) {
        for (const [index, entry] of this.committed) this.checkLeaderHolds(node, status.term, index, entry);
        this.verifiedLeaders.set(key, node);
      }
    }
    for (const key of this.verifiedLeaders.keys()) if (!current.has(key)) this.verifiedLeaders.delete(key);
  }

  /** Log matching: an (index, term) pair identifies the entry and, through prevTerm, the whole prefix. */
  checkPersisting(node: SimNode, entries: Entry[], prevTerm: number | undefined): void {
    let previous = prevTerm;
    for (const entry of entries) {
      const key = `${entry.index}:${entry.term}`;
      const known = this.entryIdentity.get(key);
      if (!known) {
        this.entryIdentity.set(key, { prevTerm: previous, type: entry.type, data: entry.data });
      } else {
        const samePrev = known.prevTerm === undefined || previous === undefined || known.prevTerm === previous;
        if (!samePrev || known.type !== entry.type || known.data !== entry.data) {
          throw new InvariantViolation(
            `log matching: ${node.id} persists entry ${key} (prev term ${previous}, ${entry.type} ${JSON.stringify(entry.data)}); another log holds (prev term ${known.prevTerm}, ${known.type} ${JSON.stringify(known.data)})`,
          );
        }
        if (known.prevTerm === undefined) known.prevTerm = previous;
      }
      previous = entry.term;
    }
  }

  /** State-machine safety, then leader completeness of the newly known committed entry. */
  checkApplied(node: SimNode, entry: Entry): void {
    const known = this.committed.get(entry.index);
    const term = node.raft.status().term;
    if (known) {
      if (known.term !== entry.term || known.data !== entry.data || known.type !== entry.type) {
        throw new InvariantViolation(
          `state-machine safety: ${node.id} applies ${JSON.stringify(entry)} at ${entry.index}, another node applied term ${known.term} ${JSON.stringify(known.data)}`,
        );
      }
      if (term >= known.observedTerm) return;
    }
    const committed: CommittedEntry = { term: entry.term, type: entry.type, data: entry.data, observedTerm: Math.min(term, known?.observedTerm ?? term) };
    this.committed.set(entry.index, committed);
    for (const [key, leader] of this.verifiedLeaders) {
      const leaderTerm = Number(key.slice(key.lastIndexOf("@") + 1));
      this.checkLeaderHolds(leader, leaderTerm, entry.index, committed);
    }
  }

  private checkLeaderHolds(leader: SimNode, leaderTerm: number, index: number, entry: CommittedEntry): void {
    if (leaderTerm <= entry.observedTerm) return;
    const status = leader.raft.status();
    if (index < status.firstIndex) return; // compacted into a snapshot, which covers only committed entries
    const term = leader.raft.termAt(index);
    if (term !== entry.term) {
      throw new InvariantViolation(`leader completeness: leader ${leader.id} of term ${leaderTerm} has term ${term} at committed index ${index} (committed term ${entry.term})`);
    }
  }
}
