/**
 * The deterministic state machine: `apply(index, command)` is the only way state changes.
 *
 * Invariants every caller can rely on:
 *  - apply reads only the command and the current tables (no clock, no randomness, no config),
 *    so every replica applying the same log computes the same tables and results;
 *  - each entry is applied inside the caller's transaction together with `last_applied`, so an
 *    entry is either fully applied and recorded, or neither;
 *  - a command that fails (a refusal, or a bug that throws) leaves the tables as they were,
 *    except for the idempotency record of a refusal, which is state like any other.
 */
import type { Database, Statement } from "bun:sqlite";
import { migrate } from "../db";
import { refusal, type Command, type CommandResult } from "./commands";
import { claim } from "./commands/claim";
import { enqueue } from "./commands/enqueue";
import { cancel, complete, completeMany } from "./commands/finish";
import { drainHost, heartbeat, registerHost } from "./commands/hosts";
import { expireLeases, renewLease } from "./commands/leases";
import { extendLeases } from "./commands/extend-leases";
import { appendOutput } from "./commands/output";
import { revokeHost } from "./commands/revoke-host";
import { idempotentReplay, recordIdempotentResult } from "./idempotency";
import { STATE_MIGRATIONS } from "./migrations";
import { lastApplied } from "./queries";

export class StateMachine {
  // Prepared once: db.exec would parse these again for every command.
  private readonly savepoint: Statement;
  private readonly release: Statement;
  private readonly rollback: Statement;
  /** Moves last_applied from first - 1 to last: the order check and the update are one statement. */
  private readonly advanceLastApplied: Statement;

  constructor(readonly db: Database) {
    migrate(db, "state", STATE_MIGRATIONS);
    this.savepoint = db.prepare("SAVEPOINT command");
    this.release = db.prepare("RELEASE command");
    this.rollback = db.prepare("ROLLBACK TO command");
    this.advanceLastApplied = db.prepare("UPDATE state_meta SET value = ?2 WHERE key = 'last_applied' AND value = ?1 - 1");
  }

  lastApplied(): number {
    return lastApplied(this.db);
  }

  /**
   * Applies log entry `index`. Must run inside a transaction that the caller commits; entries
   * must arrive in order, each exactly once (an index at or below last_applied is a bug).
   */
  apply(index: number, command: Command): CommandResult {
    return this.applyRun(index, [command])[0]!;
  }

  /**
   * Applies the consecutive entries `firstIndex`, `firstIndex + 1`, … in order, as `apply` would
   * one by one, but records last_applied once for the run (the log applies a batch at a time).
   */
  applyRun(firstIndex: number, commands: readonly Command[]): CommandResult[] {
    this.advance(firstIndex, firstIndex + commands.length - 1, "applied");
    return commands.map((command) => this.applyIdempotent(command));
  }

  /** Records log entry `index` as applied when it carries no command (a Raft no-op or membership change). */
  skip(index: number): void {
    this.advance(index, index, "skipped");
  }

  private advance(first: number, last: number, how: string): void {
    if (this.advanceLastApplied.run(first, last).changes !== 1) {
      const entries = first === last ? `entry ${first}` : `entries ${first}..${last}`;
      throw new Error(`state machine: ${entries} ${how} out of order (last applied ${this.lastApplied()})`);
    }
  }

  private applyIdempotent(command: Command): CommandResult {
    const stamp = command.idempotency;
    if (stamp === undefined) return this.applyInSavepoint(command);
    const replay = idempotentReplay(this.db, stamp, command.at);
    if (replay !== null) return replay;
    const result = this.applyInSavepoint(command);
    // A bug is not an answer worth replaying: let a retry try again.
    if (result.ok || result.error.code !== "internal") recordIdempotentResult(this.db, stamp, command, result);
    return result;
  }

  /** A refusal or a thrown bug rolls back whatever the command had written. */
  private applyInSavepoint(command: Command): CommandResult {
    this.savepoint.run();
    try {
      const result = dispatch(this.db, command);
      if (!result.ok) this.rollback.run();
      this.release.run();
      return result;
    } catch (error) {
      this.rollback.run();
      this.release.run();
      return refusal("internal", `command ${command.type} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

function dispatch(db: Database, command: Command): CommandResult {
  switch (command.type) {
    case "registerHost":
      return registerHost(db, command);
    case "heartbeat":
      return heartbeat(db, command);
    case "enqueue":
      return enqueue(db, command);
    case "claim":
      return claim(db, command);
    case "renewLease":
      return renewLease(db, command);
    case "appendOutput":
      return appendOutput(db, command);
    case "complete":
      return complete(db, command);
    case "completeMany":
      return completeMany(db, command);
    case "cancel":
      return cancel(db, command);
    case "expireLeases":
      return expireLeases(db, command);
    case "extendLeases":
      return extendLeases(db, command);
    case "drainHost":
      return drainHost(db, command);
    case "revokeHost":
      return revokeHost(db, command);
  }
}
