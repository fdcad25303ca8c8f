/**
 * Which host a credential belongs to (and whether it was revoked), remembered between requests.
 * Looking it up is a statement of its own on every request a host makes, and in WAL mode that
 * is a read transaction taking and releasing SQLite's file locks: about 8 µs of the ~17 µs a
 * host request cost before its handler ran.
 *
 * Only credentials the state knows are remembered (a made-up token cannot grow the map), and
 * the map is emptied when the log applies any command that may set a credential or revoke a
 * host. Which commands cannot is a list here, so a new command type empties it until it is
 * added. The log tells its listeners once a batch is durable, so until then a request may still
 * be answered from what the state said before the batch, as it would had it come a moment
 * earlier.
 *
 * A coordinator in a cluster does not use it: a follower's state can also be replaced by a
 * snapshot from the leader, which the log does not report to these listeners.
 */
import type { Database } from "bun:sqlite";
import type { Proposer } from "../../raft/proposer";
import type { Command, CommandResult, CommandType } from "../../state/commands";
import { hostByCredentialHash } from "../../state/ownership";

export interface CredentialOwner {
  id: string;
  revoked: boolean;
}

/** Commands that never change a host's credential or revocation. */
const LEAVE_CREDENTIALS: ReadonlySet<CommandType> = new Set<CommandType>([
  "heartbeat",
  "enqueue",
  "claim",
  "renewLease",
  "appendOutput",
  "complete",
  "completeMany",
  "cancel",
  "expireLeases",
  "extendLeases",
  "drainHost",
]);

export class CredentialOwners {
  private readonly owners = new Map<string, CredentialOwner>();

  constructor(
    private readonly db: Database,
    log: Proposer<Command, CommandResult>,
  ) {
    log.onApplied((entries) => {
      if (this.owners.size > 0 && entries.some((entry) => !LEAVE_CREDENTIALS.has(entry.command.type))) this.owners.clear();
    });
  }

  /** The host whose credential hashes to `hash`, or null when no host has it. */
  ownerOf(hash: string): CredentialOwner | null {
    const known = this.owners.get(hash);
    if (known !== undefined) return known;
    const owner = hostByCredentialHash(this.db, hash);
    if (owner !== null) this.owners.set(hash, owner);
    return owner;
  }
}
