/**
 * The commands of the state machine and what applying one returns.
 *
 * A command is everything `apply` needs: time (`at`) and any random id are stamped by the
 * proposer before the command enters the log, so every replica that applies it computes the
 * same result. Commands are plain JSON; the log stores them as text.
 */
import type { JobResult, JobSignature, JobSpec, JobState, LeaseRef, OutputStream } from "../api";

/** Present on commands that came from a request with `x-idempotency-key`. */
export interface IdempotencyStamp {
  key: string;
  /** Hash of method, path and canonical body: the same key with another request is a conflict. */
  requestHash: string;
  ttlMs: number;
}

interface Base {
  at: number;
  idempotency?: IdempotencyStamp;
}

export interface RegisterHostCommand extends Base {
  type: "registerHost";
  hostId: string;
  name: string;
  capabilities: string[];
  slots: number;
  version: string;
  /**
   * sha256 hex of a new credential for the host, computed before proposing (the credential
   * itself never enters the log). Absent: the host keeps the credential it has.
   */
  credentialHash?: string;
}

export interface HeartbeatCommand extends Base {
  type: "heartbeat";
  hostId: string;
  leaseMs: number;
  running: LeaseRef[];
}

export interface EnqueueCommand extends Base {
  type: "enqueue";
  jobId: string;
  spec: JobSpec;
  requires: string[];
  priority: number;
  timeoutMs: number | null;
  maxAttempts: number;
  retryOnFailure: boolean;
  backoffMs: number;
  /** Label of the submit key that enqueued the job: only that key may read or cancel it. */
  submitter?: string;
  /** Stored as given: hosts verify it, the state machine does not. */
  signature?: JobSignature;
}

export interface ClaimCommand extends Base {
  type: "claim";
  hostId: string;
  maxJobs: number;
  leaseMs: number;
}

export interface RenewLeaseCommand extends Base {
  type: "renewLease";
  hostId: string;
  jobId: string;
  attempt: number;
  leaseMs: number;
}

export interface AppendOutputCommand extends Base {
  type: "appendOutput";
  hostId: string;
  jobId: string;
  attempt: number;
  chunks: { stream: OutputStream; data: string }[];
  maxOutputBytes: number;
}

export interface CompleteCommand extends Base {
  type: "complete";
  hostId: string;
  jobId: string;
  attempt: number;
  status: "succeeded" | "failed" | "cancelled";
  result: JobResult;
}

/** Several completions of one host, applied in order, each on its own (one refused leaves the others). */
export interface CompleteManyCommand extends Base {
  type: "completeMany";
  hostId: string;
  completions: Omit<CompleteCommand, "type" | "hostId" | "at" | "idempotency">[];
}

/** What completeMany answers for each completion: the job's new state, or that completion's refusal. */
export type CompletionOutcome = { jobId: string; ok: true; state: JobState } | { jobId: string; ok: false; error: CommandError };

export interface CancelCommand extends Base {
  type: "cancel";
  jobId: string;
  reason: string | null;
}

export interface ExpireLeasesCommand extends Base {
  type: "expireLeases";
  hostTimeoutMs: number;
}

/** Proposed first by a new leader: hosts could not renew while there was no leader. */
export interface ExtendLeasesCommand extends Base {
  type: "extendLeases";
  leaseMs: number;
}

export interface DrainHostCommand extends Base {
  type: "drainHost";
  hostId: string;
}

export interface RevokeHostCommand extends Base {
  type: "revokeHost";
  hostId: string;
}

export type Command =
  | RegisterHostCommand
  | HeartbeatCommand
  | EnqueueCommand
  | ClaimCommand
  | RenewLeaseCommand
  | AppendOutputCommand
  | CompleteCommand
  | CompleteManyCommand
  | CancelCommand
  | ExpireLeasesCommand
  | ExtendLeasesCommand
  | DrainHostCommand
  | RevokeHostCommand;

export type CommandType = Command["type"];

/** Refusals a command can produce; each maps to one HTTP status in the coordinator. */
export type CommandErrorCode =
  | "not_found"
  | "stale_attempt"
  | "invalid_state"
  | "duplicate_id"
  | "idempotency_conflict"
  | "host_not_active"
  | "internal";

export interface CommandError {
  code: CommandErrorCode;
  message: string;
  field?: string;
}

export type CommandResult<T = unknown> = { ok: true; value: T } | { ok: false; error: CommandError };

export function success<T>(value: T): CommandResult<T> {
  return { ok: true, value };
}

export function refusal(code: CommandErrorCode, message: string, field?: string): CommandResult<never> {
  return { ok: false, error: field === undefined ? { code, message } : { code, message, field } };
}
