/**
 * Validates one membership change against the current configuration and computes the next one.
 * Returns the reason as a string when the change is refused.
 */
import { isMember } from "./membership";
import type { Membership, NodeId } from "./messages";
import type { MembershipChange } from "./ready";

export interface ChangeContext {
  leaderId: NodeId;
  lastIndex: number;
  matchOf(id: NodeId): number;
  minReplications: number;
  maxPromoteLagEntries: number;
}

export function applyMembershipChange(current: Membership, change: MembershipChange, context: ChangeContext): Membership | string {
  const { node } = change;
  const voters = current.voters.filter((id) => id !== node);
  const learners = current.learners.filter((id) => id !== node);
  switch (change.type) {
    case "addLearner":
      if (isMember(current, node)) return `${node} is already a member`;
      return { voters, learners: [...learners, node] };
    case "promote": {
      if (!current.learners.includes(node)) return `${node} is not a learner`;
      const lag = context.lastIndex - context.matchOf(node);
      if (lag > context.maxPromoteLagEntries) return `${node} is ${lag} entries behind; promote it once it has caught up`;
      return { voters: [...voters, node], learners };
    }
    case "remove":
      if (!isMember(current, node)) return `${node} is not a member`;
      if (node === context.leaderId) return "cannot remove the leader; transfer leadership first";
      if (current.voters.includes(node) && voters.length < context.minReplications) {
        return `removing ${node} would leave ${voters.length} voters, fewer than minReplications (${context.minReplications})`;
      }
      return { voters, learners };
  }
}
