/** Request and response schemas of the job routes (`/v1/jobs…`). */
import { t, type Static } from "elysia";
import { Attempt, Capability, Id, JsonInteger, LIMITS, strict } from "./common";

export const JobKind = t.Union([t.Literal("shell"), t.Literal("openclaw")]);
export type JobKind = Static<typeof JobKind>;

export const JOB_STATES = ["queued", "leased", "succeeded", "failed", "cancelled", "dead"] as const;
export const JobState = t.Union(JOB_STATES.map((state) => t.Literal(state)));
export type JobState = (typeof JOB_STATES)[number];
export const TERMINAL_JOB_STATES: ReadonlySet<JobState> = new Set(["succeeded", "failed", "cancelled", "dead"]);

const EnvName = t.String({ pattern: "^[A-Za-z_][A-Za-z0-9_]{0,127}$" });

/** What to run. `shell` runs `command args…`; `openclaw` runs the host's OpenClaw CLI. */
export const JobSpec = t.Object(
  {
    kind: JobKind,
    command: t.Optional(t.String({ minLength: 1, maxLength: LIMITS.commandLength })),
    args: t.Optional(t.Array(t.String({ maxLength: LIMITS.argLength }), { maxItems: LIMITS.args })),
    // additionalProperties: a TypeBox record alone lets keys that fail EnvName through.
    env: t.Optional(
      t.Record(EnvName, t.String({ maxLength: LIMITS.envValueLength }), { maxProperties: LIMITS.envEntries, additionalProperties: false }),
    ),
    cwd: t.Optional(t.String({ minLength: 1, maxLength: 4_096 })),
    keepWorkdir: t.Optional(t.Boolean({ description: "leave the job's working directory on the host after the run (for debugging)" })),
    /** OpenClaw agent form: runs `openclaw agent exec <message> --json …` and keeps the envelope. */
    message: t.Optional(t.String({ minLength: 1, maxLength: LIMITS.messageLength })),
    model: t.Optional(t.String({ minLength: 1, maxLength: 200 })),
    thinking: t.Optional(t.String({ minLength: 1, maxLength: 32 })),
    agent: t.Optional(t.String({ minLength: 1, maxLength: 200 })),
  },
  strict,
);
export type JobSpec = Static<typeof JobSpec>;

/**
 * A submitter's Ed25519 signature of the job (see src/signing/signed-job.ts for what it covers).
 * The coordinator stores it as given; hosts with SKYCLAW_TRUSTED_KEYS verify it before running.
 */
export const JobSignature = t.Object(
  {
    publicKey: t.String({ pattern: "^ed25519:[A-Za-z0-9+/]{43}=$", description: "ed25519:<base64 of the raw 32-byte public key>" }),
    value: t.String({ pattern: "^[A-Za-z0-9+/]{86}==$", description: "base64 of the 64-byte signature" }),
  },
  strict,
);
export type JobSignature = Static<typeof JobSignature>;

export const EnqueueBody = t.Composite(
  [
    JobSpec,
    t.Object({
      id: t.Optional(Id),
      requires: t.Optional(t.Array(Capability, { maxItems: LIMITS.requirements })),
      priority: t.Optional(JsonInteger({ minimum: -1_000, maximum: 1_000 })),
      timeoutMs: t.Optional(JsonInteger({ minimum: 100, maximum: 7 * 86_400_000 })),
      maxAttempts: t.Optional(JsonInteger({ minimum: 1, maximum: 100 })),
      retryOnFailure: t.Optional(t.Boolean()),
      backoffMs: t.Optional(JsonInteger({ minimum: 0, maximum: 3_600_000 })),
      /** Requires `id`: the id is part of what is signed. */
      signature: t.Optional(JobSignature),
    }),
  ],
  strict,
);
export type EnqueueBody = Static<typeof EnqueueBody>;

export const JobResult = t.Object(
  {
    exitCode: t.Union([JsonInteger(), t.Null()]),
    signal: t.Union([t.String(), t.Null()]),
    durationMs: JsonInteger({ minimum: 0 }),
    /** Why the run ended when it was not a plain exit: timeout, cancelled, not_allowed, spawn_failed, lease_lost… */
    reason: t.Optional(t.String({ maxLength: 200 })),
    message: t.Optional(t.String({ maxLength: 4_096 })),
    stdoutTail: t.Optional(t.String({ maxLength: LIMITS.outputChunkBytes })),
    stderrTail: t.Optional(t.String({ maxLength: LIMITS.outputChunkBytes })),
    truncated: t.Optional(t.Boolean()),
    /** Structured result, e.g. the OpenClaw JSON envelope (`ok`, `status`, `final`, `usage`…). */
    openclaw: t.Optional(t.Record(t.String(), t.Unknown())),
  },
  strict,
);
export type JobResult = Static<typeof JobResult>;

export const Job = t.Object({
  id: t.String(),
  kind: JobKind,
  state: JobState,
  spec: JobSpec,
  requires: t.Array(t.String()),
  priority: JsonInteger(),
  timeoutMs: t.Union([JsonInteger(), t.Null()]),
  attempt: JsonInteger({ description: "number of the current or last lease; the fencing token" }),
  maxAttempts: JsonInteger(),
  retryOnFailure: t.Boolean(),
  backoffMs: JsonInteger(),
  hostId: t.Union([t.String(), t.Null()]),
  leaseExpiresAt: t.Union([JsonInteger(), t.Null()]),
  availableAt: JsonInteger(),
  cancelRequestedAt: t.Union([JsonInteger(), t.Null()]),
  createdAt: JsonInteger({ description: "milliseconds since the Unix epoch, as are all *At fields" }),
  updatedAt: JsonInteger(),
  finishedAt: t.Union([JsonInteger(), t.Null()]),
  result: t.Union([JobResult, t.Null()]),
  lastError: t.Union([t.String(), t.Null()]),
  outputBytes: JsonInteger(),
  outputTruncated: t.Boolean(),
  signature: t.Optional(JobSignature),
  /** Optional for clients of coordinators older than this field. */
  submitter: t.Optional(
    t.Union([t.String(), t.Null()], { description: "label of the submit key (SKYCLAW_PUBLIC_API_KEYS) that enqueued it; null for admin or open access" }),
  ),
});
export type Job = Static<typeof Job>;

/** In a cluster, `local=true` reads this coordinator's copy instead of the leader's (faster, maybe stale). */
const LocalRead = t.Union([t.Literal("true"), t.Literal("false")], { description: "true or false" });

export const ListJobsQuery = t.Object(
  {
    state: t.Optional(JobState),
    limit: t.Optional(t.Integer({ minimum: 1, maximum: LIMITS.pageSize })),
    cursor: t.Optional(t.String({ pattern: "^[0-9]{1,18}$", description: "nextCursor of the previous page" })),
    local: t.Optional(LocalRead),
  },
  strict,
);
export type ListJobsQuery = Static<typeof ListJobsQuery>;

export const JobList = t.Object({ jobs: t.Array(Job), nextCursor: t.Union([t.String(), t.Null()]) });
export type JobList = Static<typeof JobList>;

/** Fencing: every host write about a job names the lease it holds. */
const Lease = { hostId: Id, attempt: Attempt };

export const RenewBody = t.Object(Lease, strict);
export type RenewBody = Static<typeof RenewBody>;
export const RenewResponse = t.Object({ jobId: t.String(), attempt: JsonInteger(), leaseExpiresAt: JsonInteger() });
export type RenewResponse = Static<typeof RenewResponse>;

/** How an attempt ended, as its host reports it. */
export const CompletionStatus = t.Union([t.Literal("succeeded"), t.Literal("failed"), t.Literal("cancelled")]);

export const CompleteBody = t.Object(
  {
    ...Lease,
    status: CompletionStatus,
    result: JobResult,
  },
  strict,
);
export type CompleteBody = Static<typeof CompleteBody>;

export const OutputStream = t.Union([t.Literal("stdout"), t.Literal("stderr"), t.Literal("system")]);
export type OutputStream = Static<typeof OutputStream>;

export const OutputChunkInput = t.Object(
  { stream: OutputStream, data: t.String({ maxLength: LIMITS.outputChunkBytes }) },
  strict,
);
export const AppendOutputBody = t.Object(
  { ...Lease, chunks: t.Array(OutputChunkInput, { minItems: 1, maxItems: LIMITS.outputChunksPerRequest }) },
  strict,
);
export type AppendOutputBody = Static<typeof AppendOutputBody>;
export const AppendOutputResponse = t.Object({ accepted: JsonInteger(), truncated: t.Boolean() });
export type AppendOutputResponse = Static<typeof AppendOutputResponse>;

export const OutputChunk = t.Object({
  seq: JsonInteger(),
  attempt: JsonInteger(),
  stream: OutputStream,
  data: t.String(),
  at: JsonInteger(),
});
export type OutputChunk = Static<typeof OutputChunk>;

export const OutputQuery = t.Object(
  {
    after: t.Optional(t.Numeric({ minimum: 0, description: "return chunks with seq greater than this" })),
    waitMs: t.Optional(t.Numeric({ minimum: 0, maximum: 60_000, description: "long-poll until new output or a state change" })),
    limit: t.Optional(t.Integer({ minimum: 1, maximum: LIMITS.pageSize })),
    local: t.Optional(LocalRead),
  },
  strict,
);
export type OutputQuery = Static<typeof OutputQuery>;

export const OutputPage = t.Object({
  job: Job,
  chunks: t.Array(OutputChunk),
  /** Pass as `after` to continue. */
  lastSeq: JsonInteger(),
});
export type OutputPage = Static<typeof OutputPage>;

export const CancelBody = t.Object({ reason: t.Optional(t.String({ maxLength: 500 })) }, strict);
export type CancelBody = Static<typeof CancelBody>;
