/**
 * Membership and quorum arithmetic. Changes are single-server (one voter added or removed at a
 * time), so any majority of the old configuration overlaps any majority of the new one and no
 * joint consensus is needed.
 */
import type { Membership, NodeId } from "./messages";

export const EMPTY_MEMBERSHIP: Membership = { voters: [], learners: [] };

export function normalizeMembership(membership: Membership): Membership {
  const voters = [...new Set(membership.voters)].sort();
  const learners = [...new Set(membership.learners)].filter((id) => !voters.includes(id)).sort();
  return { voters, learners };
}

/** Canonical JSON, so every node bootstrapping the same voters writes a byte-identical entry. */
export function encodeMembership(membership: Membership): string {
  const { voters, learners } = normalizeMembership(membership);
  return JSON.stringify({ voters, learners });
}

export function decodeMembership(data: string): Membership {
  const parsed = JSON.parse(data) as Partial<Membership>;
  if (!Array.isArray(parsed.voters) || !Array.isArray(parsed.learners)) throw new Error(`not a membership: ${data}`);
  return normalizeMembership({ voters: parsed.voters, learners: parsed.learners });
}

export function isMember(membership: Membership, id: NodeId): boolean {
  return membership.voters.includes(id) || membership.learners.includes(id);
}

export function majority(voterCount: number): number {
  return Math.floor(voterCount / 2) + 1;
}

/**
 * How many voters must store an entry before it commits: a majority, raised to `minReplications`
 * but never above the number of voters (membership changes refuse to shrink below it).
 */
export function commitQuorum(voterCount: number, minReplications: number): number {
  return Math.max(majority(voterCount), Math.min(minReplications, voterCount));
}

/** The highest index stored on at least `quorum` of the given match indexes (0 if none). */
export function quorumIndex(matchIndexes: number[], quorum: number): number {
  if (quorum > matchIndexes.length || quorum <= 0) return 0;
  const sorted = [...matchIndexes].sort((a, b) => b - a);
  return sorted[quorum - 1]!;
}

export type VoteOutcome = "won" | "lost" | "pending";

export function tallyVotes(voters: NodeId[], votes: ReadonlyMap<NodeId, boolean>): VoteOutcome {
  let granted = 0;
  let rejected = 0;
  for (const voter of voters) {
    const vote = votes.get(voter);
    if (vote === true) granted++;
    else if (vote === false) rejected++;
  }
  const needed = majority(voters.length);
  if (granted >= needed) return "won";
  if (rejected > voters.length - needed) return "lost";
  return "pending";
}
