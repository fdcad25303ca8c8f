/**
 * Drives a StateMachine the way the log does: each command is applied as the next entry inside
 * its own transaction. Builders fill every field a command needs so a test names only what it
 * is about; `dumpTables` is the whole observable state, for "nothing changed" and determinism.
 */
import type { Database } from "bun:sqlite";
import { expect } from "bun:test";
import { openDatabase } from "../../src/db";
import type {
  AppendOutputCommand,
  CancelCommand,
  ClaimCommand,
  Command,
  CommandError,
  CommandErrorCode,
  CommandResult,
  CompleteCommand,
  DrainHostCommand,
  EnqueueCommand,
  ExpireLeasesCommand,
  HeartbeatCommand,
  RegisterHostCommand,
  RenewLeaseCommand,
} from "../../src/state/commands";
import { StateMachine } from "../../src/state/state-machine";

export const T0 = 1_700_000_000_000;
export const LEASE_MS = 30_000;

export const STATE_TABLES = ["jobs", "hosts", "job_output", "idempotency_records", "requirement_sets", "state_meta"] as const;

const ORDER_BY: Record<(typeof STATE_TABLES)[number], string> = {
  jobs: "seq",
  hosts: "id",
  job_output: "job_id, seq",
  idempotency_records: "key",
  requirement_sets: "id",
  state_meta: "key",
};

export function dumpTables(db: Database, tables: readonly (typeof STATE_TABLES)[number][] = STATE_TABLES): Record<string, unknown[]> {
  const dump: Record<string, unknown[]> = {};
  for (const table of tables) dump[table] = db.query(`SELECT * FROM ${table} ORDER BY ${ORDER_BY[table]}`).all();
  return dump;
}

/** Every state table but the applied index, which any applied entry (even a refusal) advances. */
const CONTENT_TABLES = STATE_TABLES.filter((table) => table !== "state_meta");

export class Harness {
  readonly db: Database;
  readonly machine: StateMachine;

  constructor(path = ":memory:") {
    this.db = openDatabase(path);
    this.machine = new StateMachine(this.db);
  }

  apply(command: Command): CommandResult {
    const index = this.machine.lastApplied() + 1;
    return this.db.transaction(() => this.machine.apply(index, command))();
  }

  /** Applies consecutive commands as one run of entries (as the log applies a batch), in one transaction. */
  applyRun(commands: Command[]): CommandResult[] {
    const first = this.machine.lastApplied() + 1;
    return this.db.transaction(() => this.machine.applyRun(first, commands))();
  }

  /** Applies a command that must succeed and returns its value. */
  ok<T = any>(command: Command): T {
    const result = this.apply(command);
    if (!result.ok) throw new Error(`expected ${command.type} to succeed, got ${result.error.code}: ${result.error.message}`);
    return result.value as T;
  }

  /** Applies a command that must be refused with `code` and must leave every table as it was. */
  refusedWithoutChange(command: Command, code: CommandErrorCode): CommandError {
    const before = this.dump();
    const appliedBefore = this.machine.lastApplied();
    const result = this.apply(command);
    expect(result.ok).toBe(false);
    if (result.ok) throw new Error("unreachable");
    expect(result.error.code).toBe(code);
    expect(this.dump()).toEqual(before);
    expect(this.machine.lastApplied()).toBe(appliedBefore + 1);
    return result.error;
  }

  dump(): Record<string, unknown[]> {
    return dumpTables(this.db, CONTENT_TABLES);
  }

  job(jobId: string): Record<string, any> {
    const row = this.db.query("SELECT * FROM jobs WHERE id = ?").get(jobId) as Record<string, any> | null;
    if (row === null) throw new Error(`no job ${jobId}`);
    return row;
  }

  host(hostId: string): Record<string, any> {
    const row = this.db.query("SELECT * FROM hosts WHERE id = ?").get(hostId) as Record<string, any> | null;
    if (row === null) throw new Error(`no host ${hostId}`);
    return row;
  }

  output(jobId: string): { seq: number; attempt: number; stream: string; data: string; at: number }[] {
    return this.db.query("SELECT seq, attempt, stream, data, at FROM job_output WHERE job_id = ? ORDER BY seq").all(jobId) as any;
  }

  close(): void {
    this.db.close();
  }
}

type Fields<C extends Command, Required extends keyof C> = Pick<C, Required> & Partial<Omit<C, "type" | Required>>;

export const registerHost = (fields: Fields<RegisterHostCommand, "hostId">): RegisterHostCommand => ({
  type: "registerHost",
  at: T0,
  name: `${fields.hostId}.local`,
  capabilities: ["shell"],
  slots: 1,
  version: "0.1.0",
  ...fields,
});

export const heartbeat = (fields: Fields<HeartbeatCommand, "hostId">): HeartbeatCommand => ({
  type: "heartbeat",
  at: T0,
  leaseMs: LEASE_MS,
  running: [],
  ...fields,
});

export const enqueue = (fields: Fields<EnqueueCommand, "jobId">): EnqueueCommand => ({
  type: "enqueue",
  at: T0,
  spec: { kind: "shell", command: "echo", args: [fields.jobId] },
  requires: [],
  priority: 0,
  timeoutMs: null,
  maxAttempts: 3,
  retryOnFailure: false,
  backoffMs: 1_000,
  ...fields,
});

export const claim = (fields: Fields<ClaimCommand, "hostId">): ClaimCommand => ({
  type: "claim",
  at: T0,
  maxJobs: 1,
  leaseMs: LEASE_MS,
  ...fields,
});

export const renewLease = (fields: Fields<RenewLeaseCommand, "hostId" | "jobId" | "attempt">): RenewLeaseCommand => ({
  type: "renewLease",
  at: T0,
  leaseMs: LEASE_MS,
  ...fields,
});

export const appendOutput = (fields: Fields<AppendOutputCommand, "hostId" | "jobId" | "attempt">): AppendOutputCommand => ({
  type: "appendOutput",
  at: T0,
  chunks: [{ stream: "stdout", data: "hello\n" }],
  maxOutputBytes: 1_048_576,
  ...fields,
});

export const complete = (fields: Fields<CompleteCommand, "hostId" | "jobId" | "attempt">): CompleteCommand => ({
  type: "complete",
  at: T0,
  status: "succeeded",
  result: { exitCode: 0, signal: null, durationMs: 5 },
  ...fields,
});

export const cancel = (fields: Fields<CancelCommand, "jobId">): CancelCommand => ({
  type: "cancel",
  at: T0,
  reason: null,
  ...fields,
});

export const expireLeases = (fields: Partial<Omit<ExpireLeasesCommand, "type">> = {}): ExpireLeasesCommand => ({
  type: "expireLeases",
  at: T0,
  hostTimeoutMs: 3_600_000,
  ...fields,
});

export const drainHost = (fields: Fields<DrainHostCommand, "hostId">): DrainHostCommand => ({
  type: "drainHost",
  at: T0,
  ...fields,
});

/** Registers `hostId`, enqueues `jobId` and leases it to the host: the common starting point of lease tests. */
export function leasedJob(
  h: Harness,
  options: { hostId?: string; jobId?: string; at?: number; job?: Partial<EnqueueCommand> } = {},
): { hostId: string; jobId: string; attempt: number } {
  const hostId = options.hostId ?? "host-a";
  const jobId = options.jobId ?? "job-1";
  const at = options.at ?? T0;
  if (h.db.query("SELECT 1 FROM hosts WHERE id = ?").get(hostId) === null) h.ok(registerHost({ hostId, at }));
  h.ok(enqueue({ jobId, at, ...options.job }));
  const { jobs } = h.ok<{ jobs: { id: string; attempt: number }[] }>(claim({ hostId, at }));
  expect(jobs.map((job) => job.id)).toEqual([jobId]);
  return { hostId, jobId, attempt: jobs[0]!.attempt };
}
