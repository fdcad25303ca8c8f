import type { Database } from "bun:sqlite";
import type { ExtendLeasesCommand } from "../commands";
import { success, type CommandResult } from "../commands";

export interface ExtendLeasesReport {
  extended: number;
}

/**
 * extendLeases — pre: none. post: every leased job's lease expires no earlier than at + leaseMs
 * (a later expiry is kept); no other column changes. A new leader proposes this before it
 * expires anything, since hosts could reach no leader to renew during the election.
 */
export function extendLeases(db: Database, cmd: ExtendLeasesCommand): CommandResult<ExtendLeasesReport> {
  const until = cmd.at + cmd.leaseMs;
  const extended = db.query("UPDATE jobs SET lease_expires_at = ? WHERE state = 'leased' AND lease_expires_at < ?").run(until, until).changes;
  return success({ extended });
}
